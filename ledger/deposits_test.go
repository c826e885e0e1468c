package ledger_test

import (
	"context"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/ledger"
)

// A range of deposits and the cursor past it are written together, and
// only from where the cursor was read: a second sync that read the same
// cursor credits nothing.
func TestCreditRangeMovesTheCursorWithTheCredits(t *testing.T) {
	ctx := context.Background()
	l := open(t)
	start := ledger.Cursor{}
	d := ledger.Deposit{Ref: "0xaa:1", Account: caller, Amount: big.NewInt(50), Block: 7, BlockHash: "0x07"}
	n, err := l.CreditRange(ctx, start, []ledger.Deposit{d, d}, ledger.Cursor{Block: 9, Hash: "0x09"})
	if err != nil || n != 1 {
		t.Fatalf("credit range: %d %v", n, err)
	}
	if _, err := l.CreditRange(ctx, start, []ledger.Deposit{{Ref: "0xbb:1", Account: caller, Amount: big.NewInt(5), Block: 8}}, ledger.Cursor{Block: 9}); abi.CodeOf(err) != ledger.CodeCursorMoved {
		t.Fatalf("a sync from a stale cursor: %v", err)
	}
	if c, _ := l.DepositCursor(ctx); c.Block != 9 || c.Hash != common.HexToHash("0x09").Hex() {
		t.Fatalf("cursor %+v", c)
	}
	if b, _ := l.Balance(ctx, caller); b.Int64() != 50 {
		t.Fatalf("credit %s, want 50", b)
	}
	if err := l.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// A deposit withdrawn and then undone by a reorganisation leaves earnings
// no deposit backs: Check says so and the epoch refuses to close with a
// root the contract could only reject.
func TestUndoneDepositThatWasWithdrawnIsInsolvency(t *testing.T) {
	ctx := context.Background()
	l := open(t)
	d := ledger.Deposit{Ref: "0xaa:1", Account: caller, Amount: big.NewInt(100), Block: 5, BlockHash: "0x05"}
	if _, err := l.CreditRange(ctx, ledger.Cursor{}, []ledger.Deposit{d}, ledger.Cursor{Block: 5, Hash: "0x05"}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Withdraw(ctx, withdrawal("w", caller, 100)); err != nil {
		t.Fatal(err)
	}
	deps, _ := l.DepositsFrom(ctx, 0)
	if err := l.Reorg(ctx, deps, ledger.Cursor{Block: 4, Hash: "0x04"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Check(ctx); err == nil || !strings.Contains(err.Error(), "earnings 100 exceed the 0 deposited") {
		t.Fatalf("check after an undone, withdrawn deposit: %v", err)
	}
	if _, err := l.CloseEpoch(ctx, domain); abi.CodeOf(err) != ledger.CodeInsolvent {
		t.Fatalf("close epoch owing more than deposited: %v", err)
	}
	// A deposit that covers the hole makes the books whole again.
	more := ledger.Deposit{Ref: "0xcc:1", Account: caller, Amount: big.NewInt(100), Block: 6, BlockHash: "0x06"}
	if _, err := l.CreditRange(ctx, ledger.Cursor{Block: 4, Hash: "0x04"}, []ledger.Deposit{more}, ledger.Cursor{Block: 6, Hash: "0x06"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := l.CloseEpoch(ctx, domain); err != nil {
		t.Fatal(err)
	}
}
