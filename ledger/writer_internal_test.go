package ledger

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// A call stops counting among the calls in flight once the writer has
// written its commit, before it gets round to releasing its reservation:
// otherwise the next batch would wait the whole commit delay for a call
// that has nothing left to commit.
func TestAWrittenCommitIsNoLongerInFlight(t *testing.T) {
	l, err := Open(t.TempDir(), Options{CommitDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	if err := l.write(ctx, func(txn *badger.Txn) error { return addAmount(txn, balanceKey("0x1"), big.NewInt(10)) }); err != nil {
		t.Fatal(err)
	}
	res, err := l.Reserve(ctx, "0x1", big.NewInt(1))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Release()
	if !res.inFlight() || l.active.Load() != 1 {
		t.Fatalf("a new reservation: in flight %v, %d active", res.inFlight(), l.active.Load())
	}
	if err := l.writeHeld(ctx, res, func(*badger.Txn) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if res.inFlight() || l.active.Load() != 0 {
		t.Fatalf("after its commit is written: in flight %v, %d active", res.inFlight(), l.active.Load())
	}
	res.Release()
	if l.active.Load() != 0 {
		t.Fatalf("released after landing: %d active", l.active.Load())
	}
}
