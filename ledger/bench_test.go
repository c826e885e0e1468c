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

	"github.com/jackc/pgx/v5"
	"github.com/tollgate-dev/tollgate/internal/kv"
	"github.com/tollgate-dev/tollgate/internal/pgtest"

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

// BenchmarkHosts (PostgreSQL pass; TOLLGATE_POSTGRES set): 64 callers, over
// 8 accounts, each reserve and commit receipts with a 1 KB output through
// one ledger on Badger, then through 1, 2 and 3 hosts (ledgers in writer
// seats of their own) sharing one PostgreSQL, in the same run. It reports
// receipts/s for each, and what each receipt costs PostgreSQL:
// transactions (read and write, pg_stat_database) and WAL bytes.
func BenchmarkHosts(b *testing.B) {
	if !onPostgres() {
		b.Skip("the PostgreSQL pass runs it")
	}
	const callers, perCaller, accounts = 64, 40, 8
	ctx := context.Background()
	acct := func(i int) string { return fmt.Sprintf("0x%040x", 0x100+i%accounts) }
	output := make([]byte, 1024)
	var seq atomic.Int64
	run := func(ls []*ledger.Ledger) time.Duration {
		for i := range accounts {
			if err := ls[0].Credit(ctx, ledger.Deposit{Ref: fmt.Sprint("d", seq.Add(1)), Account: acct(i), Amount: big.NewInt(1 << 62)}); err != nil {
				b.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		start := time.Now()
		for c := range callers {
			l, who := ls[c%len(ls)], acct(c)
			wg.Go(func() {
				for range perCaller {
					res, err := l.Reserve(ctx, who, big.NewInt(30))
					if err != nil {
						b.Error(err)
						return
					}
					r := withDomain(receipt(fmt.Sprint("r", seq.Add(1)), 30))
					r.Caller, r.Postings[0].Account = who, who
					if err := l.Commit(ctx, r, output, res); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		return time.Since(start)
	}
	n := float64(callers * perCaller)
	b.Run("badger", func(b *testing.B) {
		var d time.Duration
		for range b.N {
			l, err := ledger.Open(b.TempDir(), ledger.Options{Signer: operatorKey})
			if err != nil {
				b.Fatal(err)
			}
			d += run([]*ledger.Ledger{l})
			l.Close()
		}
		b.ReportMetric(n*float64(b.N)/d.Seconds(), "receipts/s")
	})
	for hosts := 1; hosts <= 3; hosts++ {
		b.Run(fmt.Sprintf("postgres-%d-hosts", hosts), func(b *testing.B) {
			var d time.Duration
			var txns, wal float64
			for range b.N {
				dsn := pgtest.DSN(b)
				var ls []*ledger.Ledger
				for range hosts {
					s, err := kv.OpenPostgres(ctx, dsn, kv.PostgresOptions{Store: kv.StoreLedger, Writer: true, Seats: hosts})
					if err != nil {
						b.Fatal(err)
					}
					l, err := ledger.OpenStore(s, ledger.Options{Signer: operatorKey})
					if err != nil {
						b.Fatal(err)
					}
					ls = append(ls, l)
				}
				conn, err := pgx.Connect(ctx, dsn)
				if err != nil {
					b.Fatal(err)
				}
				stats := func() (xacts, lsn float64) {
					// Closed sessions have flushed their counts; the
					// running ones flush theirs at most a second late.
					time.Sleep(1100 * time.Millisecond)
					conn.QueryRow(ctx, "SELECT pg_stat_force_next_flush()").Scan(new(any))
					if err := conn.QueryRow(ctx, "SELECT xact_commit + xact_rollback, pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0') FROM pg_stat_database WHERE datname = current_database()").Scan(&xacts, &lsn); err != nil {
						b.Fatal(err)
					}
					return xacts, lsn
				}
				x0, w0 := stats()
				d += run(ls)
				for _, l := range ls {
					l.Close() // their sessions end, flushing their counts
				}
				x1, w1 := stats()
				conn.Close(ctx)
				txns += x1 - x0
				wal += w1 - w0
			}
			total := n * float64(b.N)
			b.ReportMetric(total/d.Seconds(), "receipts/s")
			b.ReportMetric(txns/total, "pg-txns/receipt")
			b.ReportMetric(wal/total, "wal-bytes/receipt")
		})
	}
}

// BenchmarkSynchronousReplica (PostgreSQL pass): the same load as
// BenchmarkHosts through one host, against a primary with a streaming
// replica, first with synchronous_commit on (an answered receipt is on the
// primary's disk) and then remote_apply with the replica synchronous (an
// answered receipt is applied on the replica too, so a failover loses
// none), in the same run.
func BenchmarkSynchronousReplica(b *testing.B) {
	if !onPostgres() {
		b.Skip("the PostgreSQL pass runs it")
	}
	const callers, perCaller = 64, 40
	ctx := context.Background()
	primary, err := pgtest.Start(pgtest.Bin(b))
	if err != nil {
		b.Fatal(err)
	}
	defer primary.Stop()
	standby, err := primary.Standby()
	if err != nil {
		b.Fatal(err)
	}
	defer standby.Stop()
	admin, err := pgx.Connect(ctx, primary.URL("postgres"))
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close(ctx)
	var seq atomic.Int64
	run := func(db string) float64 {
		if err := primary.CreateDB(db); err != nil {
			b.Fatal(err)
		}
		s, err := kv.OpenPostgres(ctx, primary.URL(db), kv.PostgresOptions{Store: kv.StoreLedger, Writer: true})
		if err != nil {
			b.Fatal(err)
		}
		l, err := ledger.OpenStore(s, ledger.Options{Signer: operatorKey})
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		if err := l.Credit(ctx, ledger.Deposit{Ref: "d", Account: caller, Amount: big.NewInt(1 << 62)}); err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		start := time.Now()
		for range callers {
			wg.Go(func() {
				for range perCaller {
					res, err := l.Reserve(ctx, caller, big.NewInt(30))
					if err == nil {
						err = l.Commit(ctx, withDomain(receipt(fmt.Sprint("r", seq.Add(1)), 30)), make([]byte, 1024), res)
					}
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		return float64(callers*perCaller) / time.Since(start).Seconds()
	}
	setSync := func(names, commit string) {
		for _, q := range []string{"ALTER SYSTEM SET synchronous_standby_names = '" + names + "'", "ALTER SYSTEM SET synchronous_commit = '" + commit + "'", "SELECT pg_reload_conf()"} {
			if _, err := admin.Exec(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	var local, replicated float64
	for i := range b.N {
		setSync("", "on")
		local += run(fmt.Sprint("local", i))
		setSync("*", "remote_apply")
		var state string
		if err := admin.QueryRow(ctx, "SELECT sync_state FROM pg_stat_replication").Scan(&state); err != nil || state != "sync" {
			b.Fatalf("the replica is %q (%v), want sync", state, err)
		}
		replicated += run(fmt.Sprint("replicated", i))
	}
	b.ReportMetric(local/float64(b.N), "receipts/s-on")
	b.ReportMetric(replicated/float64(b.N), "receipts/s-remote_apply")
	b.ReportMetric(replicated/local, "remote_apply/on")
}
