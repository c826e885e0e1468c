package ledger_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/kv"
	"github.com/tollgate-dev/tollgate/internal/pgtest"
	"github.com/tollgate-dev/tollgate/ledger"
)

// Several hosts writing one set of books in PostgreSQL, each in its own
// writer seat. These run in the PostgreSQL pass only.

// hosts opens n ledgers on one new database, each a writer in a seat of
// its own, and a reader; all close when the test ends.
func hosts(t *testing.T, n int) (dsn string, ls []*ledger.Ledger, reader *ledger.Ledger) {
	t.Helper()
	if !onPostgres() {
		t.Skip("books shared by several hosts are kept in PostgreSQL")
	}
	dsn = pgtest.DSN(t)
	for range n {
		ls = append(ls, openHost(t, dsn, n))
	}
	s, err := kv.OpenPostgres(context.Background(), dsn, kv.PostgresOptions{Store: kv.StoreLedger, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if reader, err = ledger.OpenStore(s, ledger.Options{ReadOnly: true, Operator: crypto.PubkeyToAddress(operatorKey.PublicKey).Hex()}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reader.Close() })
	return dsn, ls, reader
}

func openHost(t *testing.T, dsn string, seats int) *ledger.Ledger {
	t.Helper()
	s, err := kv.OpenPostgres(context.Background(), dsn, kv.PostgresOptions{Store: kv.StoreLedger, Writer: true, Seats: seats})
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.OpenStore(s, ledger.Options{Signer: operatorKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// call reserves price of caller's credit on l and commits a receipt for
// it, as an invocation does.
func call(ctx context.Context, l *ledger.Ledger, id string, price int64) error {
	res, err := l.Reserve(ctx, caller, big.NewInt(price))
	if err != nil {
		return err
	}
	return l.Commit(ctx, withDomain(receipt(id, price)), []byte("out "+id), res)
}

// mustBalance fails unless the books pass Check and caller's credit and
// the earnings are what spent calls leave of deposited.
func mustBalance(t *testing.T, r *ledger.Ledger, deposited, spent int64) {
	t.Helper()
	ctx := context.Background()
	if err := r.Check(ctx); err != nil {
		t.Fatalf("the shared books fail their check: %v", err)
	}
	bal, err := r.Balance(ctx, caller)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := r.Earned(ctx, dev)
	a, _ := r.Earned(ctx, alice)
	earned := new(big.Int).Add(d, a)
	if bal.Int64() != deposited-spent || earned.Int64() != spent {
		t.Fatalf("caller's credit %s and earnings %s; want %d and %d", bal, earned, deposited-spent, spent)
	}
	tot, err := r.Totals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tot.Deposited.Int64() != deposited || tot.Credit.Int64() != deposited-spent || tot.Earned.Int64() != spent {
		t.Fatalf("totals %+v; want deposited %d, credit %d, earned %d", tot, deposited, deposited-spent, spent)
	}
}

// Three hosts spend one caller's credit at once: no call is paid twice or
// beyond the credit, every acknowledged call has its receipt, and the
// books balance.
func TestHostsShareOneCallersCreditWithoutOverspending(t *testing.T) {
	ctx := context.Background()
	_, ls, reader := hosts(t, 3)
	const deposit, price, callsEach = 1000, 7, 80 // 240 calls want 1,680
	if err := ls[0].Credit(ctx, ledger.Deposit{Ref: "d1", Account: caller, Amount: big.NewInt(deposit)}); err != nil {
		t.Fatal(err)
	}
	var ok, short atomic.Int64
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	for h, l := range ls {
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range callsEach / 4 {
					id := fmt.Sprintf("h%d-w%d-%d", h, w, i)
					switch err := call(ctx, l, id, price); abi.CodeOf(err) {
					case "":
						ok.Add(1)
						mu.Lock()
						acked[id] = true
						mu.Unlock()
					case abi.CodeInsufficientCredit:
						short.Add(1)
					default:
						t.Errorf("call %s: %v", id, err)
					}
				}
			}()
		}
	}
	wg.Wait()
	spent := ok.Load() * price
	if spent > deposit {
		t.Fatalf("%d calls paid %d of a %d deposit", ok.Load(), spent, deposit)
	}
	for id := range acked {
		if _, err := reader.Receipt(ctx, id); err != nil {
			t.Fatalf("acknowledged call %s has no receipt: %v", id, err)
		}
	}
	// Closing a host returns its leases; then every unit is accounted for.
	for _, l := range ls {
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	mustBalance(t, reader, deposit, spent)
}

// A caller's last credit leased by one host is refused on another with
// a message that says so, and spendable there once the first host's lease
// is back.
func TestCreditLeasedElsewhereIsRefusedThenReturned(t *testing.T) {
	ctx := context.Background()
	_, ls, reader := hosts(t, 2)
	a, b := ls[0], ls[1]
	if err := a.Credit(ctx, ledger.Deposit{Ref: "d1", Account: caller, Amount: big.NewInt(100)}); err != nil {
		t.Fatal(err)
	}
	// a holds 90 of the 100 in flight: it leases all of it.
	res, err := a.Reserve(ctx, caller, big.NewInt(90))
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Reserve(ctx, caller, big.NewInt(50))
	if abi.CodeOf(err) != abi.CodeInsufficientCredit {
		t.Fatalf("b reserved credit a holds leased: %v", err)
	}
	if got := err.Error(); !strings.Contains(got, "leased by other hosts") {
		t.Fatalf("the refusal does not say where the credit is: %q", got)
	}
	if err := a.Commit(ctx, withDomain(receipt("r1", 30)), nil, res); err != nil {
		t.Fatal(err)
	}
	if bal, _ := reader.Balance(ctx, caller); bal.Int64() != 70 {
		t.Fatalf("caller's credit %s with 70 leased by a, want 70", bal)
	}
	if err := a.Close(); err != nil { // a drains: its lease goes back
		t.Fatal(err)
	}
	if err := call(ctx, b, "r2", 50); err != nil {
		t.Fatalf("credit a returned is not spendable on b: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	mustBalance(t, reader, 100, 80)
}

// The same request committed on two hosts is charged once.
func TestOneRequestOnTwoHostsIsChargedOnce(t *testing.T) {
	ctx := context.Background()
	_, ls, reader := hosts(t, 2)
	if err := ls[0].Credit(ctx, ledger.Deposit{Ref: "d1", Account: caller, Amount: big.NewInt(1000)}); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		id := fmt.Sprintf("same-%d", i)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for h, l := range ls {
			wg.Go(func() { errs[h] = call(ctx, l, id, 10) })
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch abi.CodeOf(err) {
			case "":
				won++
			case abi.CodeAlreadyExists:
			default:
				t.Fatalf("request %s: %v", id, err)
			}
		}
		if won != 1 {
			t.Fatalf("request %s was committed %d times: %v", id, won, errs)
		}
	}
	for _, l := range ls {
		l.Close()
	}
	mustBalance(t, reader, 1000, 200)
}

// Two hosts close the same epoch at once while a third commits: one root
// for it, every receipt in exactly one closed or open epoch.
func TestHostsRacingToCloseAnEpochCloseItOnce(t *testing.T) {
	ctx := context.Background()
	_, ls, reader := hosts(t, 3)
	if err := ls[0].Credit(ctx, ledger.Deposit{Ref: "d1", Account: caller, Amount: big.NewInt(100_000)}); err != nil {
		t.Fatal(err)
	}
	var paid atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := call(ctx, ls[2], fmt.Sprintf("c%d", i), 3); err != nil {
				t.Errorf("a call while epochs close: %v", err)
				return
			}
			paid.Add(3)
		}
	})
	var last int64 // paid when the last close returned
	for round := range 5 {
		// Calls that returned after the last close (one may have landed
		// before it): the epoch to close has receipts.
		for paid.Load() < last+30 {
			time.Sleep(time.Millisecond)
		}
		closed := make([]*ledger.Epoch, 2)
		errs := make([]error, 2)
		var cw sync.WaitGroup
		for h := range 2 {
			cw.Go(func() { closed[h], errs[h] = ls[h].CloseEpoch(ctx, domain) })
		}
		cw.Wait()
		won := 0
		for h := range 2 {
			switch {
			case errs[h] == nil:
				won++
			case abi.CodeOf(errs[h]) == ledger.CodeEpochClosed, abi.CodeOf(errs[h]) == ledger.CodeEpochEmpty:
				// The other closed it first (and nothing landed since).
			default:
				t.Fatalf("round %d: host %d closing: %v", round, h, errs[h])
			}
		}
		if won == 2 && closed[0].N == closed[1].N {
			t.Fatalf("round %d: epoch %d closed twice", round, closed[0].N)
		}
		if won == 0 {
			t.Fatalf("round %d: neither host closed the epoch: %v", round, errs)
		}
		last = paid.Load()
	}
	close(stop)
	wg.Wait()
	for _, l := range ls {
		l.Close()
	}
	mustBalance(t, reader, 100_000, paid.Load())
}

// A host that loses its seat (its lock's connection dies, and another host
// takes the seat) writes nothing more, and the leases it held come back to
// their accounts exactly, counting every receipt it wrote.
func TestAHostThatLosesItsSeatIsFencedAndItsLeasesReturn(t *testing.T) {
	ctx := context.Background()
	dsn, ls, reader := hosts(t, 1)
	old := ls[0]
	if err := old.Credit(ctx, ledger.Deposit{Ref: "d1", Account: caller, Amount: big.NewInt(1000)}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := call(ctx, old, fmt.Sprintf("old-%d", i), 10); err != nil {
			t.Fatal(err)
		}
	}
	res, err := old.Reserve(ctx, caller, big.NewInt(10)) // a call in flight when the host is lost
	if err != nil {
		t.Fatal(err)
	}
	// The host's lock connection dies (a network partition, say) and a
	// new host takes its seat, returning the seat's leases.
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted`); err != nil {
		t.Fatal(err)
	}
	var heir *ledger.Ledger
	for range 100 {
		s, err := kv.OpenPostgres(ctx, dsn, kv.PostgresOptions{Store: kv.StoreLedger, Writer: true, Seats: 1})
		if errors.Is(err, kv.ErrWriterHeld) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if heir, err = ledger.OpenStore(s, ledger.Options{Signer: operatorKey}); err != nil {
			t.Fatal(err)
		}
		break
	}
	if heir == nil {
		t.Fatal("the lost host's seat never came free")
	}
	defer heir.Close()
	if bal, _ := reader.Balance(ctx, caller); bal.Int64() != 950 {
		t.Fatalf("after the takeover caller's credit is %s, want 950", bal)
	}
	err = old.Commit(ctx, withDomain(receipt("late", 10)), nil, res)
	if abi.CodeOf(err) != abi.CodeUnavailable {
		t.Fatalf("the fenced host's commit: %v, want unavailable", err)
	}
	if _, err := reader.Receipt(ctx, "late"); abi.CodeOf(err) != abi.CodeNotFound {
		t.Fatalf("the fenced host's receipt landed: %v", err)
	}
	if err := call(ctx, heir, "new-1", 10); err != nil {
		t.Fatal(err)
	}
	heir.Close()
	mustBalance(t, reader, 1000, 60)
}

// rawStore opens the shared database without a seat, to look at or
// tamper with keys directly.
func rawStore(t *testing.T, dsn string) *kv.Postgres {
	t.Helper()
	s, err := kv.OpenPostgres(context.Background(), dsn, kv.PostgresOptions{Store: kv.StoreLedger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// A seal left by a close that stopped midway holds every host's commits
// until the settling host (seat 0) opens again, which clears it.
func TestASealLeftBehindIsClearedWhenSeatZeroOpens(t *testing.T) {
	ctx := context.Background()
	dsn, ls, reader := hosts(t, 2)
	a, b := ls[0], ls[1]
	if err := a.Credit(ctx, ledger.Deposit{Ref: "d1", Account: caller, Amount: big.NewInt(1000)}); err != nil {
		t.Fatal(err)
	}
	if err := call(ctx, b, "before", 10); err != nil {
		t.Fatal(err)
	}
	raw := rawStore(t, dsn)
	if err := raw.Update(func(txn kv.Txn) error { return txn.Set([]byte("m/seal"), binary.BigEndian.AppendUint64(nil, 1)) }); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := call(short, b, "held", 10); err == nil {
		t.Fatal("a commit into a sealed epoch landed")
	}
	a.Close()
	a = openHost(t, dsn, 2) // takes the free seat 0
	if a.Seat() != 0 {
		t.Fatalf("the reopened host took seat %d", a.Seat())
	}
	if err := call(ctx, b, "after", 10); err != nil {
		t.Fatalf("a commit once seat 0 reopened: %v", err)
	}
	a.Close()
	b.Close()
	mustBalance(t, reader, 1000, 20)
}

// A host that dies and whose seat nobody takes again leaves its leases
// there; the settling host adopts the vacant seat (fencing the dead
// holder) and returns them.
func TestLeasesInAVacantSeatAreReturned(t *testing.T) {
	ctx := context.Background()
	dsn, ls, reader := hosts(t, 1) // seat 0
	a := ls[0]
	s, err := kv.OpenPostgres(ctx, dsn, kv.PostgresOptions{Store: kv.StoreLedger, Writer: true, Seats: 2})
	if err != nil {
		t.Fatal(err)
	}
	dead, err := ledger.OpenStore(s, ledger.Options{Signer: operatorKey})
	if err != nil {
		t.Fatal(err)
	}
	if dead.Seat() != 1 {
		t.Fatalf("the second host took seat %d", dead.Seat())
	}
	if err := a.Credit(ctx, ledger.Deposit{Ref: "d1", Account: caller, Amount: big.NewInt(1000)}); err != nil {
		t.Fatal(err)
	}
	res, err := dead.Reserve(ctx, caller, big.NewInt(900)) // leases 900 in seat 1
	if err != nil {
		t.Fatal(err)
	}
	// The host dies: its store's sessions end, its ledger never closes.
	s.Close()
	raw := rawStore(t, dsn)
	lease := []byte("l/" + caller + "/1")
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := kv.Get(raw, lease)
		if errors.Is(err, kv.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the vacant seat's lease is still there: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := call(ctx, a, "all", 1000); err != nil {
		t.Fatalf("the returned credit is not spendable: %v", err)
	}
	if err := dead.Commit(ctx, withDomain(receipt("zombie", 10)), nil, res); err == nil {
		t.Fatal("the dead host's commit landed")
	}
	a.Close()
	mustBalance(t, reader, 1000, 1000)
}
