package ledger_test

import (
	"context"
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/ledger"
)

func withdrawal(id, account string, amount int64) ledger.Withdrawal {
	return ledger.Withdrawal{ID: id, Account: account, Amount: big.NewInt(amount), Domain: domain}
}

// Unspent credit comes back as claimable earnings of the same account, in
// the next root, and the books still add up to the deposits.
func TestWithdrawalBecomesClaimable(t *testing.T) {
	ctx := context.Background()
	l := open(t)
	if err := l.Credit(ctx, ledger.Deposit{Ref: "d", Account: caller, Amount: big.NewInt(100)}); err != nil {
		t.Fatal(err)
	}
	if err := commit(l, receipt("paid", 30)); err != nil {
		t.Fatal(err)
	}
	r, err := l.Withdraw(ctx, withdrawal("w1", caller, 50))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.VerifySignature(); err != nil {
		t.Fatal(err)
	}
	if credit, _ := l.Balance(ctx, caller); credit.Int64() != 20 {
		t.Fatalf("credit %s after withdrawing 50 of 70, want 20", credit)
	}
	if earned, _ := l.Earned(ctx, caller); earned.Int64() != 50 {
		t.Fatalf("claimable %s, want 50", earned)
	}
	// The same id again withdraws nothing more.
	if _, err := l.Withdraw(ctx, withdrawal("w1", caller, 50)); abi.CodeOf(err) != abi.CodeAlreadyExists {
		t.Fatalf("a repeated withdrawal: %v", err)
	}
	// More than the credit left is refused.
	if _, err := l.Withdraw(ctx, withdrawal("w2", caller, 21)); abi.CodeOf(err) != abi.CodeInsufficientCredit {
		t.Fatalf("withdrew more than the credit: %v", err)
	}
	e, err := l.CloseEpoch(ctx, domain)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _, err := l.Proof(ctx, e.N, caller)
	if err != nil {
		t.Fatal(err)
	}
	if leaf.Cumulative.Int64() != 50 {
		t.Fatalf("the root pays the caller %s, want 50", leaf.Cumulative)
	}
	if e.Total.Int64()+20 != 100 {
		t.Fatalf("root total %s + credit 20 != deposits 100", e.Total)
	}
	if err := l.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// A withdrawal cannot take credit a call in flight holds, nor can a call
// start on credit a withdrawal took.
func TestWithdrawalRespectsCallsInFlight(t *testing.T) {
	ctx := context.Background()
	l := open(t)
	l.Credit(ctx, ledger.Deposit{Ref: "d", Account: caller, Amount: big.NewInt(100)})
	res, err := l.Reserve(ctx, caller, big.NewInt(60))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Withdraw(ctx, withdrawal("all", caller, 100)); abi.CodeOf(err) != abi.CodeInsufficientCredit {
		t.Fatalf("withdrew credit a call in flight holds: %v", err)
	}
	if _, err := l.Withdraw(ctx, withdrawal("free", caller, 40)); err != nil {
		t.Fatal(err)
	}
	// The call commits what it reserved.
	rc := receipt("call", 60)
	rc.Domain = &domain
	if err := l.Commit(ctx, rc, nil, res); err != nil {
		t.Fatal(err)
	}
	if credit, _ := l.Balance(ctx, caller); credit.Sign() != 0 {
		t.Fatalf("credit %s, want 0", credit)
	}
	if err := l.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// Withdrawals and calls race for the same credit: whatever interleaving
// happens, no more leaves the credit than was deposited, and the books check.
func TestWithdrawalRacesCalls(t *testing.T) {
	ctx := context.Background()
	for round := range 4 {
		l, err := openStore(t, ledger.Options{InMemory: true, Signer: operatorKey})
		if err != nil {
			t.Fatal(err)
		}
		l.Credit(ctx, ledger.Deposit{Ref: "d", Account: caller, Amount: big.NewInt(1000)})
		var wg sync.WaitGroup
		var spent, withdrawn atomic.Int64
		for i := range 48 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i%2 == 0 {
					if _, err := l.Withdraw(ctx, withdrawal(fmt.Sprintf("w%d", i), caller, 37)); err == nil {
						withdrawn.Add(37)
					} else if abi.CodeOf(err) != abi.CodeInsufficientCredit {
						t.Errorf("withdraw: %v", err)
					}
					return
				}
				res, err := l.Reserve(ctx, caller, big.NewInt(20))
				if err != nil {
					return
				}
				// The call reads a record, paying for it as it goes.
				if err := res.Extend(big.NewInt(21)); err != nil {
					res.Release()
					return
				}
				rc := receipt(fmt.Sprintf("c%d", i), 41)
				rc.Domain = &domain
				if err := l.Commit(ctx, rc, nil, res); err != nil {
					t.Errorf("an admitted call could not commit: %v", err)
					return
				}
				spent.Add(41)
			}()
		}
		wg.Wait()
		credit, _ := l.Balance(ctx, caller)
		if credit.Sign() < 0 || credit.Int64()+spent.Load()+withdrawn.Load() != 1000 {
			t.Fatalf("round %d: credit %s + spent %d + withdrawn %d != 1000", round, credit, spent.Load(), withdrawn.Load())
		}
		if earned, _ := l.Earned(ctx, caller); earned.Int64() != withdrawn.Load() {
			t.Fatalf("round %d: claimable %s, withdrew %d", round, earned, withdrawn.Load())
		}
		if err := l.Check(ctx); err != nil {
			t.Fatal(err)
		}
		l.Close()
	}
}

// A withdrawal receipt moves the caller's own credit to the caller's own
// earnings and nothing else; a refund posting outside a withdrawal, or a
// withdrawal paying someone else, is refused.
func TestWithdrawalCannotBeForged(t *testing.T) {
	ctx := context.Background()
	l := open(t)
	l.Credit(ctx, ledger.Deposit{Ref: "d", Account: caller, Amount: big.NewInt(100)})
	forged := []*ledger.Receipt{
		{ID: "to-alice", Caller: caller, Method: ledger.MethodWithdraw, Postings: []ledger.Posting{
			{Account: caller, Kind: ledger.KindWithdrawal, Amount: big.NewInt(-10)},
			{Account: alice, Kind: ledger.KindRefund, Amount: big.NewInt(10)},
		}},
		{ID: "uneven", Caller: caller, Method: ledger.MethodWithdraw, Postings: []ledger.Posting{
			{Account: caller, Kind: ledger.KindWithdrawal, Amount: big.NewInt(-10)},
			{Account: caller, Kind: ledger.KindRefund, Amount: big.NewInt(11)},
		}},
		{ID: "with-call", Caller: caller, Method: ledger.MethodWithdraw, Agent: "qa@1.0.0", Postings: ledger.WithdrawalPostings(caller, big.NewInt(10))},
		{ID: "refund-in-call", Caller: caller, Method: "access", Postings: []ledger.Posting{
			{Account: caller, Kind: ledger.KindCall, Amount: big.NewInt(-10)},
			{Account: alice, Kind: ledger.KindRefund, Amount: big.NewInt(10)},
		}},
		{ID: "withdrawal-kind-in-call", Caller: caller, Method: "access", Postings: []ledger.Posting{
			{Account: caller, Kind: ledger.KindWithdrawal, Amount: big.NewInt(-10)},
			{Account: alice, Kind: ledger.KindDeveloper, Amount: big.NewInt(10)},
		}},
	}
	for _, r := range forged {
		if err := commit(l, r); abi.CodeOf(err) != ledger.CodeUnbalanced {
			t.Errorf("%s: committed or wrong refusal: %v", r.ID, err)
		}
	}
	for _, w := range []ledger.Withdrawal{
		withdrawal("zero", caller, 0),
		withdrawal("negative", caller, -5),
		withdrawal("", caller, 5),
		withdrawal("lower", "0xabcdefabcdefabcdefabcdefabcdefabcdefabcd", 5),
		withdrawal("junk", "alice", 5),
	} {
		if _, err := l.Withdraw(ctx, w); abi.CodeOf(err) != abi.CodeBadRequest {
			t.Errorf("withdrawal %q of %s by %s: %v", w.ID, w.Amount, w.Account, err)
		}
	}
	if credit, _ := l.Balance(ctx, caller); credit.Int64() != 100 {
		t.Fatalf("credit %s after refused withdrawals", credit)
	}
	if err := l.Check(ctx); err != nil {
		t.Fatal(err)
	}
}
