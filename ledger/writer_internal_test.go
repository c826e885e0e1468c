package ledger

import (
	"context"
	"math/big"
	"os"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/kv"

	"github.com/tollgate-dev/tollgate/abi"
)

// A call stops counting among the calls in flight once the writer has
// written its commit, before it gets round to releasing its reservation:
// otherwise the next batch would wait the whole commit delay for a call
// that has nothing left to commit.
func TestAWrittenCommitIsNoLongerInFlight(t *testing.T) {
	onePass(t)
	l, err := Open(t.TempDir(), Options{CommitDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	if err := l.write(ctx, func(txn kv.Txn) error { return addAmount(txn, balanceKey("0x1"), big.NewInt(10)) }); err != nil {
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
	if err := l.writeHeld(ctx, res, func(kv.Txn) error { return nil }); err != nil {
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

// Badger reports a failed sync of its value log only to its logger. Once
// it has, no commit is acknowledged and every write is refused.
func TestAFailedValueLogSyncStopsWrites(t *testing.T) {
	onePass(t)
	l, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	set := func(txn kv.Txn) error { return addAmount(txn, balanceKey("0x1"), big.NewInt(1)) }
	if err := l.write(ctx, set); err != nil {
		t.Fatal(err)
	}
	// What Badger's value log does when its sync fails (value.go).
	l.db.(*kv.Badger).DB().Opts().Logger.Errorf("Error while curlf sync: %v\n", "input/output error")
	done := make(chan error, 1)
	go func() { done <- l.write(ctx, set) }()
	if err := <-done; abi.CodeOf(err) != abi.CodeUnavailable {
		t.Fatalf("a write after a failed sync: %v, want %s", err, abi.CodeUnavailable)
	}
	// A batch already in the writer when the failure is seen is refused too.
	l.blog.failed.Store(nil)
	if err := l.writeHeld(ctx, nil, func(txn kv.Txn) error {
		l.db.(*kv.Badger).DB().Opts().Logger.Errorf("Error while curlf sync: %v\n", "input/output error")
		return set(txn)
	}); abi.CodeOf(err) != abi.CodeUnavailable {
		t.Fatalf("a batch whose sync failed: %v, want %s", err, abi.CodeUnavailable)
	}
}

// onePass skips, in the PostgreSQL pass of the suite, a test that does not
// depend on the store or tests Badger's own behaviour.
func onePass(t testing.TB) {
	t.Helper()
	if os.Getenv("TOLLGATE_TEST_STORE") == "postgres" {
		t.Skip("ran in the Badger pass")
	}
}
