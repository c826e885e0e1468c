package host_test

import (
	"bytes"
	"context"
	"log/slog"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/api"
	"github.com/tollgate-dev/tollgate/settle"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/examples"
	"github.com/tollgate-dev/tollgate/registry"
)

// Listing receipts returns the newest first, and GetReceipt takes a unique
// prefix of an id.
func TestReceiptsNewestFirstAndByPrefix(t *testing.T) {
	e := newEnv(t)
	_, tok := e.fund(t, 100_000)
	var ids []string
	for _, q := range []string{"Why is the sky blue?", "When does water boil?", "Why do bees dance?"} {
		status, _, out := e.post(t, "AgentService/Invoke", tok, map[string]any{"agent": "acme/qa@1.0.0", "inputText": q})
		if status != 200 {
			t.Fatalf("invoke: %d %v", status, out)
		}
		ids = append(ids, out["receipt"].(map[string]any)["id"].(string))
		time.Sleep(2 * time.Millisecond)
	}
	var got []string
	page := ""
	for {
		_, _, out := e.post(t, "LedgerService/ListReceipts", tok, map[string]any{"pageSize": 1, "pageToken": page})
		for _, r := range out["receipts"].([]any) {
			got = append(got, r.(map[string]any)["receipt"].(map[string]any)["id"].(string))
		}
		if page, _ = out["nextPageToken"].(string); page == "" {
			break
		}
	}
	if want := []string{ids[2], ids[1], ids[0]}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("receipts listed %v, want newest first %v", got, want)
	}
	status, _, out := e.post(t, "LedgerService/GetReceipt", tok, map[string]any{"id": ids[1][:8]})
	if status != 200 || out["receipt"].(map[string]any)["id"] != ids[1] {
		t.Fatalf("by prefix %s: %d %v", ids[1][:8], status, out)
	}
	// Someone the receipt does not name may not read it by prefix either.
	_, other := e.fund(t, 0)
	if status, hdr, _ := e.post(t, "LedgerService/GetReceipt", other, map[string]any{"id": ids[1][:8]}); status == 200 || hdr.Get(api.CodeHeader) != "grant_denied" {
		t.Fatalf("a stranger read an open receipt by prefix: %d", status)
	}
}

// A plugin says its price, datanets and when it was yanked, not when it
// was published.
func TestPluginSaysPriceDatanetsAndYankTime(t *testing.T) {
	e := newEnv(t)
	_, tok := e.fund(t, 0)
	pub := key(t)
	if _, err := e.h.Publish(context.Background(), pub, registry.Manifest{Name: "acme/yk", Version: "1.0.0", Kind: abi.KindAgent, Price: "1000",
		Datanets: []string{"facts"}}, examples.QA); err != nil {
		t.Fatal(err)
	}
	_, _, out := e.post(t, "RegistryService/GetPlugin", tok, map[string]any{"ref": "acme/yk@1.0.0"})
	p := out["plugin"].(map[string]any)
	if p["price"] != "1000" || p["kind"] != "agent" || len(p["datanets"].([]any)) != 1 || p["datanets"].([]any)[0] != "facts" {
		t.Fatalf("plugin %v: want price 1000, kind agent, datanets [facts]", p)
	}
	if _, ok := p["yankedAt"]; ok {
		t.Fatalf("an unyanked plugin has a yank time: %v", p)
	}
	time.Sleep(1100 * time.Millisecond) // a yank time a second past the publication
	sig, _ := registry.Sign(pub, registry.Domain{}.YankDigest("acme/yk", "1.0.0"))
	if err := e.reg.Yank(context.Background(), "acme/yk@1.0.0", sig); err != nil {
		t.Fatal(err)
	}
	_, _, out = e.post(t, "RegistryService/GetPlugin", tok, map[string]any{"ref": "acme/yk@1.0.0"})
	p = out["plugin"].(map[string]any)
	yanked, _ := p["yankedAt"].(string)
	published, _ := p["published"].(string)
	if p["yanked"] != true || yanked == "" || yanked <= published {
		t.Fatalf("yanked plugin %v: want a yank time after its publication", p)
	}
}

// Amounts in messages are in TGT.
func TestMoneyMessagesAreInTGT(t *testing.T) {
	e := newEnv(t)
	_, tok := e.fund(t, 500)
	for _, c := range []struct {
		method string
		body   map[string]any
		want   string
	}{
		{"AgentService/Invoke", map[string]any{"agent": "acme/qa@1.0.0", "inputText": "hi"}, "0.000000000000001 TGT (1000 base units)"},
		{"AgentService/Invoke", map[string]any{"agent": "acme/qa@1.0.0", "inputText": "hi", "maxPrice": "999"}, "0.000000000000001 TGT"},
		{"LedgerService/Withdraw", map[string]any{"amount": "501"}, "0.0000000000000005 TGT (500 base units)"},
	} {
		status, _, out := e.post(t, c.method, tok, c.body)
		if msg, _ := out["message"].(string); status == 200 || !strings.Contains(msg, c.want) {
			t.Errorf("%s %v: %d %q, want it to say %q", c.method, c.body, status, msg, c.want)
		}
	}
}

// A deposit on a chain that wants confirmations is shown as pending with
// the blocks it waits for, and the wait is logged once.
func TestBalanceShowsPendingDepositsAndTheChain(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var logs bytes.Buffer
	h, err := settle.New(settle.Config{Ledger: e.led, Chain: e.chain, Operator: e.operator, Confirmations: 5,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	addr, tok := e.fund(t, 0)
	caller := key(t)
	if _, err := e.chain.SendETH(ctx, e.operator, registry.Address(caller), big.NewInt(1e17)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.chain.Mint(ctx, e.operator, registry.Address(caller), big.NewInt(900)); err != nil {
		t.Fatal(err)
	}
	dep, err := e.chain.Deposit(ctx, caller, addr, big.NewInt(700))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := h.SyncDeposits(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// The dev chain may seal a block of its own now and then: the blocks
	// to go are counted from the head the check saw.
	var pending []settle.PendingDeposit
	for try := 0; ; try++ {
		before, _ := e.chain.Head(ctx)
		pending, err = h.PendingDeposits(ctx, addr)
		after, _ := e.chain.Head(ctx)
		if err != nil || len(pending) != 1 || pending[0].Ref != dep.Ref || pending[0].Amount != "700" {
			t.Fatalf("pending %+v, %v: want the deposit", pending, err)
		}
		if before == after {
			if want := dep.Block + 5 - after; pending[0].BlocksToGo != want {
				t.Fatalf("pending %+v at head %d: want %d blocks to go", pending, after, want)
			}
			break
		}
		if try == 5 {
			t.Fatal("the head moved during every check")
		}
	}
	if n := len(regexp.MustCompile(`waits for \d+ more blocks`).FindAllString(logs.String(), -1)); n != 1 {
		t.Fatalf("the wait was logged %d times, want once:\n%s", n, logs.String())
	}
	// The API node (no confirmations) shows the wallet and what was claimed.
	_, _, out := e.post(t, "LedgerService/GetBalance", tok, map[string]any{})
	if out["wallet"] != "0" || out["claimed"] != "0" {
		t.Fatalf("balance %v: want wallet and claimed", out)
	}
	_, mtok := e.fund(t, 0)
	_ = mtok
	if _, err := e.chain.Mint(ctx, e.operator, addr, big.NewInt(42)); err != nil {
		t.Fatal(err)
	}
	if _, _, out := e.post(t, "LedgerService/GetBalance", tok, map[string]any{}); out["wallet"] != "42" {
		t.Fatalf("balance %v: want wallet 42", out)
	}
}

// The node relays a claim from the operator's key: once per earning, never
// for nothing, never for a stranger, and not twice at once.
func TestRelayClaim(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	addr, tok := e.fund(t, 100_000)
	if status, _, out := e.post(t, "LedgerService/RelayClaim", "", map[string]any{}); status == 200 {
		t.Fatalf("an unauthenticated relay: %v", out)
	}
	// Nothing posted, nothing earned: refused before anything is sent.
	if status, hdr, out := e.post(t, "LedgerService/RelayClaim", tok, map[string]any{}); status == 200 || hdr.Get(api.CodeHeader) != string(settle.CodeNothingToClaim) || out["code"] != "failed_precondition" {
		t.Fatalf("relay with nothing to claim: %d %v", status, out)
	}
	if status, _, out := e.post(t, "LedgerService/Withdraw", tok, map[string]any{"amount": "50000"}); status != 200 {
		t.Fatalf("withdraw: %d %v", status, out)
	}
	if _, err := e.s.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	before, _ := e.chain.TokenBalance(ctx, addr)
	status, _, out := e.post(t, "LedgerService/RelayClaim", tok, map[string]any{})
	if status != 200 || out["amount"] != "50000" || out["tx"] == "" {
		t.Fatalf("relay: %d %v", status, out)
	}
	after, _ := e.chain.TokenBalance(ctx, addr)
	if new(big.Int).Sub(after, before).Int64() != 50_000 {
		t.Fatalf("the relay paid %s, want 50000", new(big.Int).Sub(after, before))
	}
	// Again at once: the rate limit answers before the chain is asked.
	if status, hdr, _ := e.post(t, "LedgerService/RelayClaim", tok, map[string]any{}); status == 200 || hdr.Get(api.CodeHeader) != string(settle.CodeClaimRateLimited) {
		t.Fatalf("a second relay within the limit: %d", status)
	}
	// Without the limit, the books say nothing is left, and the contract
	// refuses the same claim sent directly.
	h, err := settle.New(settle.Config{Ledger: e.led, Chain: e.chain, Operator: e.operator, RelayClaimEvery: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.RelayClaim(ctx, addr); err == nil || !strings.Contains(err.Error(), string(settle.CodeNothingToClaim)) {
		t.Fatalf("relaying a paid claim again: %v", err)
	}
	p, err := e.s.Proof(ctx, 0, addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.chain.Claim(ctx, e.operator, addr, p.Leaf.Cumulative, p.Proof); err == nil {
		t.Fatal("the contract paid the same claim twice")
	}
	if got, _ := e.chain.TokenBalance(ctx, addr); got.Cmp(after) != 0 {
		t.Fatalf("the wallet went from %s to %s after the repeated claims", after, got)
	}
}
