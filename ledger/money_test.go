package ledger_test

import (
	"context"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/ledger"
)

// Earnings are claimable on-chain, never spendable off-chain: an account that
// earned and deposited nothing cannot pay for a call, and its credit stays
// zero while its cumulative earnings grow.
func TestEarningsAreClaimableNotSpendable(t *testing.T) {
	ctx := context.Background()
	l := open(t)
	if err := l.Credit(ctx, ledger.Deposit{Ref: "d", Account: caller, Amount: big.NewInt(100)}); err != nil {
		t.Fatal(err)
	}
	if err := commit(l, receipt("paid", 90)); err != nil {
		t.Fatal(err)
	}
	if credit, _ := l.Balance(ctx, dev); credit.Sign() != 0 {
		t.Fatalf("the developer's earnings became %s of spendable credit", credit)
	}
	if earned, _ := l.Earned(ctx, dev); earned.Int64() != 60 {
		t.Fatalf("developer earned %s, want 60", earned)
	}
	// The developer tries to spend what it earned.
	spend := &ledger.Receipt{ID: "spend", Caller: dev, Postings: []ledger.Posting{
		{Account: dev, Kind: ledger.KindCall, Amount: big.NewInt(-50)},
		{Account: alice, Kind: ledger.KindDeveloper, Amount: big.NewInt(50)},
	}}
	if err := commit(l, spend); abi.CodeOf(err) != abi.CodeInsufficientCredit {
		t.Fatalf("earnings were spent: %v", err)
	}
	if _, err := l.Reserve(ctx, dev, big.NewInt(1)); abi.CodeOf(err) != abi.CodeInsufficientCredit {
		t.Fatalf("earnings were reserved: %v", err)
	}
	e, err := l.CloseEpoch(ctx, domain)
	if err != nil {
		t.Fatal(err)
	}
	// Everything owed (credit plus claimable) is exactly what was deposited.
	if e.Total.Int64() != 90 {
		t.Fatalf("root total %s, want 90", e.Total)
	}
	if left, _ := l.Balance(ctx, caller); new(big.Int).Add(left, e.Total).Int64() != 100 {
		t.Fatalf("credit %s + claimable %s != deposits 100", left, e.Total)
	}
	if err := l.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// A reservation reads the credit and holds it atomically: among callers
// racing for the same credit, every admitted call can pay at commit.
func TestReservationIsAtomic(t *testing.T) {
	ctx := context.Background()
	for round := range 5 {
		// In memory, commits take microseconds, as long as a reservation's
		// read of the credit: the interleavings that matter happen often.
		l, err := openStore(t, ledger.Options{InMemory: true, Signer: operatorKey})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		acct := fmt.Sprintf("0x%040x", round+1)
		l.Credit(ctx, ledger.Deposit{Ref: "d", Account: acct, Amount: big.NewInt(100)})
		var wg sync.WaitGroup
		var mu sync.Mutex
		admitted, committed := 0, 0
		for i := range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Keep trying: a reservation that read the credit before
				// another call's commit must not be admitted after it.
				for try := range 300 {
					res, err := l.Reserve(ctx, acct, big.NewInt(100))
					if err != nil {
						continue
					}
					r := &ledger.Receipt{ID: fmt.Sprint("r", i, "-", try), Caller: acct, Postings: []ledger.Posting{
						{Account: acct, Kind: ledger.KindCall, Amount: big.NewInt(-100)},
						{Account: dev, Kind: ledger.KindDeveloper, Amount: big.NewInt(100)},
					}}
					err = l.Commit(ctx, withDomain(r), nil, res)
					mu.Lock()
					admitted++
					if err == nil {
						committed++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if admitted != committed {
			t.Fatalf("round %d: %d calls admitted, only %d could pay", round, admitted, committed)
		}
		if committed != 1 {
			t.Fatalf("round %d: %d calls paid with credit for one", round, committed)
		}
	}
}

// Close never hangs, whatever writes race it, and a write during or after
// Close gets a clear error.
func TestCloseNeverHangs(t *testing.T) {
	ctx := context.Background()
	for round := range 20 {
		l, err := openStore(t, ledger.Options{Signer: operatorKey})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := l.Credit(ctx, ledger.Deposit{Ref: fmt.Sprint(i), Account: caller, Amount: big.NewInt(1)})
				if err != nil && abi.CodeOf(err) != abi.CodeUnavailable {
					t.Errorf("write racing Close: %v", err)
				}
			}()
		}
		done := make(chan struct{})
		go func() {
			var cw sync.WaitGroup
			for range 2 {
				cw.Add(1)
				go func() { defer cw.Done(); l.Close() }()
			}
			cw.Wait()
			wg.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("round %d: Close and its racing writes hung", round)
		}
		if err := l.Credit(ctx, ledger.Deposit{Ref: "late", Account: caller, Amount: big.NewInt(1)}); abi.CodeOf(err) != abi.CodeUnavailable {
			t.Fatalf("write after Close: %v", err)
		}
	}
}

// An epoch closes only when it has receipts of its own: closing again with
// nothing new would post the same root twice.
func TestEpochWithNothingNewDoesNotClose(t *testing.T) {
	ctx := context.Background()
	l := open(t)
	l.Credit(ctx, ledger.Deposit{Ref: "d", Account: caller, Amount: big.NewInt(100)})
	if err := commit(l, receipt("a", 30)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.CloseEpoch(ctx, domain); err != nil {
		t.Fatal(err)
	}
	if _, err := l.CloseEpoch(ctx, domain); abi.CodeOf(err) != ledger.CodeEpochEmpty {
		t.Fatalf("an epoch with no receipts closed: %v", err)
	}
	if open, _ := l.OpenEpoch(ctx); open != 2 {
		t.Fatalf("open epoch %d, want 2", open)
	}
}

// Releasing reservations of nothing, in any order, is harmless.
func TestZeroReservationsRelease(t *testing.T) {
	ctx := context.Background()
	l := open(t)
	l.Credit(ctx, ledger.Deposit{Ref: "d", Account: caller, Amount: big.NewInt(10)})
	a, err := l.Reserve(ctx, caller, big.NewInt(5))
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.Reserve(ctx, caller, big.NewInt(0))
	if err != nil {
		t.Fatal(err)
	}
	a.Release()
	b.Release()
	if err := b.Extend(big.NewInt(-1)); abi.CodeOf(err) != abi.CodeBadRequest {
		t.Fatalf("negative extension: %v", err)
	}
	if _, err := l.Reserve(ctx, caller, big.NewInt(10)); err != nil {
		t.Fatalf("all released, yet: %v", err)
	}
}
