package ledger_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/kv"

	"github.com/dgraph-io/badger/v4"

	"github.com/tollgate-dev/tollgate/ledger"
)

// Run with: go test ./ledger -run '^$' -bench . -benchtime 1x
//
// BenchmarkDurableReceipts: 64 concurrent callers commit receipts through
// the ledger (SyncWrites on, group commit), against the same number of
// callers writing the same receipt bytes to a raw Badger with SyncWrites on,
// one transaction each, in the same run.
func BenchmarkDurableReceipts(b *testing.B) {
	const callers, perCaller = 64, 100
	ctx := context.Background()
	l, err := ledger.Open(b.TempDir(), ledger.Options{Signer: operatorKey})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	l.Credit(ctx, ledger.Deposit{Ref: "d", Account: caller, Amount: big.NewInt(1 << 62)})
	bdb, err := badger.Open(badger.DefaultOptions(b.TempDir()).WithSyncWrites(true).WithLogger(nil))
	db := kv.NewBadger(bdb)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	sample, _ := json.Marshal(receipt("sample", 30))
	var seq atomic.Int64
	run := func(write func(id string) error) time.Duration {
		var wg sync.WaitGroup
		start := time.Now()
		for range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range perCaller {
					if err := write(fmt.Sprint("r", seq.Add(1))); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	b.ResetTimer()
	var ours, raw time.Duration
	batches := l.Batches()
	for range b.N {
		ours += run(func(id string) error { return l.Commit(ctx, withDomain(receipt(id, 30)), []byte("output"), nil) })
		raw += run(func(id string) error {
			return db.Update(func(txn kv.Txn) error { return txn.Set([]byte("r/"+id), sample) })
		})
	}
	n := float64(b.N * callers * perCaller)
	b.ReportMetric(n/ours.Seconds(), "receipts/s")
	b.ReportMetric(n/raw.Seconds(), "raw-writes/s")
	b.ReportMetric(raw.Seconds()/ours.Seconds(), "ledger/raw")
	b.ReportMetric(n/float64(l.Batches()-batches), "receipts/txn")
}

// BenchmarkMerkle1M: the tree of 1,000,000 accounts, and one proof.
func BenchmarkMerkle1M(b *testing.B) {
	leaves := make([]ledger.Hash, 1_000_000)
	for i := range leaves {
		leaves[i] = ledger.LeafHash(domain, ledger.Leaf{Account: fmt.Sprintf("0x%040x", i+1), Cumulative: big.NewInt(int64(i + 1))})
	}
	b.ResetTimer()
	var build, proof time.Duration
	for range b.N {
		start := time.Now()
		tree, err := ledger.BuildTree(leaves)
		if err != nil {
			b.Fatal(err)
		}
		build += time.Since(start)
		start = time.Now()
		const proofs = 1000
		for i := range proofs {
			p, ok := tree.Proof(leaves[i*997])
			if !ok || !ledger.VerifyProof(tree.Root(), leaves[i*997], p) {
				b.Fatal("bad proof")
			}
		}
		proof += time.Since(start) / proofs
	}
	b.ReportMetric(build.Seconds()/float64(b.N), "build-s")
	b.ReportMetric(float64(proof.Nanoseconds())/float64(b.N), "proof+verify-ns")
}
