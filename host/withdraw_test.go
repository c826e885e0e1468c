package host_test

import (
	"context"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/api"
	"github.com/tollgate-dev/tollgate/ledger"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/host"
)

// A caller withdraws unspent credit over the API and claims it on-chain
// from the next root, with the same proof as earnings; verify re-checks it.
func TestWithdrawnCreditIsClaimedOnChain(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	addr, tok := e.fund(t, 100_000)
	if status, _, out := e.post(t, "AgentService/Invoke", tok, map[string]any{"agent": "acme/qa@1.0.0", "inputText": "Why is the sky blue?"}); status != 200 {
		t.Fatalf("invoke: %d %v", status, out)
	}
	left, _ := e.led.Balance(ctx, addr)

	refusals := []struct {
		token string
		body  map[string]any
		code  abi.Code
	}{
		{"", map[string]any{"amount": "1"}, abi.CodeBadSignature},
		{tok, map[string]any{"amount": "0"}, abi.CodeBadRequest},
		{tok, map[string]any{"amount": "-5"}, abi.CodeBadRequest},
		{tok, map[string]any{"amount": "1e3"}, abi.CodeBadRequest},
		{tok, map[string]any{"amount": new(big.Int).Add(left, big.NewInt(1)).String()}, abi.CodeInsufficientCredit},
	}
	for _, r := range refusals {
		if status, hdr, out := e.post(t, "LedgerService/Withdraw", r.token, r.body); status == 200 || hdr.Get(api.CodeHeader) != string(r.code) {
			t.Fatalf("withdraw %v: %d %v, want %s", r.body, status, out, r.code)
		}
	}

	status, _, out := e.post(t, "LedgerService/Withdraw", tok, map[string]any{"amount": "50000", "requestId": "w-1"})
	if status != 200 || out["replayed"] == true {
		t.Fatalf("withdraw: %d %v", status, out)
	}
	// A retry withdraws once; the same id for another amount is refused.
	if status, _, again := e.post(t, "LedgerService/Withdraw", tok, map[string]any{"amount": "50000", "requestId": "w-1"}); status != 200 || again["replayed"] != true {
		t.Fatalf("retry: %d %v", status, again)
	}
	if status, hdr, _ := e.post(t, "LedgerService/Withdraw", tok, map[string]any{"amount": "40000", "requestId": "w-1"}); status == 200 || hdr.Get(api.CodeHeader) != string(ledger.CodeRequestConflict) {
		t.Fatalf("the same request id withdrew another amount: %d", status)
	}
	if credit, _ := e.led.Balance(ctx, addr); new(big.Int).Sub(left, credit).Int64() != 50_000 {
		t.Fatalf("credit went from %s to %s, want 50000 less", left, credit)
	}

	epoch, err := e.s.Settle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := e.verifyEpoch(ctx, epoch.N); err != nil || !v.OK() {
		t.Fatalf("verify: %v %+v", err, v)
	}
	p, err := e.s.Proof(ctx, epoch.N, addr)
	if err != nil {
		t.Fatal(err)
	}
	if p.Leaf.Cumulative.Int64() != 50_000 {
		t.Fatalf("the root owes the caller %s, want 50000", p.Leaf.Cumulative)
	}
	before, _ := e.chain.TokenBalance(ctx, addr)
	if _, err := e.chain.Claim(ctx, e.operator, addr, p.Leaf.Cumulative, p.Proof); err != nil {
		t.Fatal(err)
	}
	after, _ := e.chain.TokenBalance(ctx, addr)
	if new(big.Int).Sub(after, before).Int64() != 50_000 {
		t.Fatalf("the claim paid %s, want 50000", new(big.Int).Sub(after, before))
	}
	if err := e.led.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// Withdrawals race invocations by the same caller: a withdrawal takes only
// credit no call holds, every admitted call commits its receipt (a call
// whose read could not be paid fails and pays the reads it made), the credit
// never goes negative, and the epoch still verifies.
func TestWithdrawalRacesInvocations(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Enough for the withdrawals and most of the calls, not all of both:
	// whichever come first, some of each get through and the last ones
	// contend for what is left.
	const deposit = 20_000
	addr, _ := e.fund(t, deposit)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%4 == 0 {
				time.Sleep(time.Duration(10+i) * time.Millisecond) // while calls are in flight
				_, err := e.s.Withdraw(ctx, addr, big.NewInt(2_000), fmt.Sprintf("w%d", i))
				if err != nil && abi.CodeOf(err) != abi.CodeInsufficientCredit {
					t.Errorf("withdraw: %v", err)
				}
				return
			}
			_, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: addr, Agent: "acme/qa@1.0.0", Input: []byte("Why is the sky blue?")})
			if c := abi.CodeOf(err); err != nil && c != abi.CodeInsufficientCredit && c != abi.CodePluginError {
				t.Errorf("invoke: %v", err)
			}
		}()
	}
	wg.Wait()
	epoch, err := e.s.Settle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	receipts, err := e.led.Receipts(ctx, epoch.N)
	if err != nil {
		t.Fatal(err)
	}
	var calls, withdrawals int
	charged, withdrawn := new(big.Int), new(big.Int)
	for _, rc := range receipts {
		if rc.Caller != addr {
			continue
		}
		if rc.IsWithdrawal() {
			withdrawals++
			withdrawn.Add(withdrawn, rc.Debit())
		} else {
			calls++
			charged.Add(charged, rc.Debit())
		}
	}
	credit, _ := e.led.Balance(ctx, addr)
	if sum := new(big.Int).Add(credit, charged); credit.Sign() < 0 || sum.Add(sum, withdrawn).Int64() != deposit {
		t.Fatalf("credit %s + charged %s + withdrawn %s != %d", credit, charged, withdrawn, deposit)
	}
	if calls == 0 || withdrawals == 0 {
		t.Fatalf("the race did not race: %d calls, %d withdrawals", calls, withdrawals)
	}
	if earned, _ := e.led.Earned(ctx, addr); earned.Cmp(withdrawn) != 0 {
		t.Fatalf("the caller can claim %s, withdrew %s", earned, withdrawn)
	}
	if v, err := e.verifyEpoch(ctx, epoch.N); err != nil || !v.OK() {
		t.Fatalf("verify: %v %+v", err, v)
	}
	if err := e.led.Check(ctx); err != nil {
		t.Fatal(err)
	}
}
