package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/settle"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/spf13/pflag"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/registry"
)

// Each faucet flag of serve takes effect on the node it opens, and the
// faucet's record is kept in the data dir: a restart resets neither the
// budget nor an account's last drip.
func TestServeFaucetFlags(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	config := func(args ...string) nodeConfig {
		t.Helper()
		fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
		limits := faucetFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		cfg := nodeConfig{dataDir: dir, logger: slog.New(slog.DiscardHandler)}
		if err := limits(&cfg); err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	fresh := func() string {
		k, err := crypto.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		return registry.Address(k)
	}
	const window = 4 * time.Second
	n, err := openNode(ctx, config("--faucet-budget", "2", "--faucet-window", window.String(), "--faucet-every", "1s"))
	if err != nil {
		t.Fatal(err)
	}
	drip := func(acct string, want abi.Code) {
		t.Helper()
		if _, err := n.settle.Drip(ctx, acct, false); abi.CodeOf(err) != want || want == "" && err != nil {
			t.Fatalf("drip for %s: %v, want %q", acct, err, want)
		}
	}
	a, c := fresh(), fresh()
	drip(a, "")
	drip(fresh(), "")
	filled := time.Now()
	drip(c, settle.CodeFaucetBudget) // --faucet-budget 2, not the default
	drip(a, settle.CodeFaucetClosed)
	time.Sleep(time.Until(filled.Add(window)))
	drip(c, "") // --faucet-window 4s, not the default hour
	drip(a, "") // --faucet-every 1s, not the default hour
	n.close(ctx)

	n, err = openNode(ctx, config("--faucet-budget", "3", "--faucet-window", "1h", "--faucet-every", "1h"))
	if err != nil {
		t.Fatal(err)
	}
	defer n.close(ctx)
	drip(a, settle.CodeFaucetClosed) // its drip before the restart counts
	drip(fresh(), "")
	drip(fresh(), settle.CodeFaucetBudget) // and so do the others

	// serve itself reads the flags (and checks them before opening anything).
	var out strings.Builder
	if err := run(ctx, []string{"serve", "--data", t.TempDir(), "--faucet-window", "0"}, &out); err == nil || !strings.Contains(err.Error(), "--faucet-window") || exitCode(err) != exitUsage {
		t.Fatalf("serve --faucet-window 0: %v", err)
	}
}
