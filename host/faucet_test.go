package host_test

import (
	"context"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/settle"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/registry"
)

// withFaucet is a settler on the env's ledger and chain with faucet f.
func (e *env) withFaucet(t *testing.T, f *settle.Faucet) *settle.Settler {
	t.Helper()
	f.Amount, f.Gas = big.NewInt(1000), big.NewInt(1e15)
	h, err := settle.New(settle.Config{Ledger: e.led, Chain: e.chain, Operator: e.operator, Faucet: f})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func drip(t *testing.T, h *settle.Settler, want abi.Code) {
	t.Helper()
	_, err := h.Drip(context.Background(), registry.Address(key(t)), false)
	if abi.CodeOf(err) != want || (want == "" && err != nil) {
		t.Fatalf("a fresh key's drip: %v, want %q", err, want)
	}
}

// Fresh keys cannot drain the faucet: past its budget for the window every
// drip is refused with its own code, over the API too; the budget and each
// account's last drip are kept on disk, so a restart resets neither.
func TestFaucetBudgetRefusesManyFreshKeys(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "faucet.json")
	h := e.withFaucet(t, &settle.Faucet{Budget: 2, Path: path})
	first := key(t)
	if _, err := h.Drip(ctx, registry.Address(first), false); err != nil {
		t.Fatal(err)
	}
	drip(t, h, "")
	for range 3 {
		drip(t, h, settle.CodeFaucetBudget)
	}
	url, _ := e.serveSignIn(t, h)
	tok, _, _ := signIn(t, e, url, key(t))
	if r := e.postTo(t, url, "LedgerService/Faucet", tok, map[string]any{}); r.status != 429 || abi.Code(r.code) != settle.CodeFaucetBudget {
		t.Fatalf("the faucet past its budget over the API: %+v", r)
	}

	// A restart: the same file, a new faucet.
	h = e.withFaucet(t, &settle.Faucet{Budget: 2, Path: path})
	drip(t, h, settle.CodeFaucetBudget)
	// A larger budget after the restart lets fresh keys in, but not an
	// account that dripped within the hour.
	h = e.withFaucet(t, &settle.Faucet{Budget: 5, Path: path})
	if _, err := h.Drip(ctx, registry.Address(first), false); abi.CodeOf(err) != settle.CodeFaucetClosed {
		t.Fatalf("an account's second drip after a restart: %v", err)
	}
	drip(t, h, "")
	if err := e.led.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// The window and the per-account interval are the faucet's to set: once
// they pass, fresh keys and the same account get drips again.
func TestFaucetWindowAndEveryTakeEffect(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const window = 3 * time.Second
	h := e.withFaucet(t, &settle.Faucet{Budget: 1, Window: window, Every: time.Second, Path: filepath.Join(t.TempDir(), "faucet.json")})
	a := registry.Address(key(t))
	if _, err := h.Drip(ctx, a, false); err != nil {
		t.Fatal(err)
	}
	done := time.Now()
	drip(t, h, settle.CodeFaucetBudget)
	time.Sleep(time.Until(done.Add(window)))
	if _, err := h.Drip(ctx, a, false); err != nil {
		t.Fatalf("the same account after the window and its interval: %v", err)
	}
}
