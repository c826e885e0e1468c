package kv_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-dev/tollgate/internal/kv"
	"github.com/tollgate-dev/tollgate/internal/pgtest"
)

func TestASecondWriterIsRefusedAndAnOldOneFenced(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	a, err := kv.OpenPostgres(ctx, dsn, kv.PostgresOptions{Store: kv.StoreLedger, Writer: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := kv.OpenPostgres(ctx, dsn, kv.PostgresOptions{Store: kv.StoreLedger, Writer: true}); !errors.Is(err, kv.ErrWriterHeld) {
		t.Fatalf("a second writer: %v, want ErrWriterHeld", err)
	}
	// Another store's writer, and a reader, are not held back.
	r, err := kv.OpenPostgres(ctx, dsn, kv.PostgresOptions{Store: kv.StoreRegistry, Writer: true})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	ro, err := kv.OpenPostgres(ctx, dsn, kv.PostgresOptions{Store: kv.StoreLedger, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()

	set(t, a, "k", "a1")
	// a's lock session dies (a network partition, say); b takes over.
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted`); err != nil {
		t.Fatal(err)
	}
	var b *kv.Postgres
	for range 100 {
		if b, err = kv.OpenPostgres(ctx, dsn, kv.PostgresOptions{Store: kv.StoreLedger, Writer: true}); !errors.Is(err, kv.ErrWriterHeld) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	err = a.Update(func(txn kv.Txn) error { return txn.Set([]byte("k"), []byte("a2")) })
	if !errors.Is(err, kv.ErrFenced) {
		t.Fatalf("the old writer's commit: %v, want ErrFenced", err)
	}
	set(t, b, "k", "b1")
	if v, _ := get(t, ro, "k"); v != "b1" {
		t.Fatalf("k = %q, want b1", v)
	}
}

func TestANewerSchemaIsRefused(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	s, err := kv.OpenPostgres(ctx, dsn, kv.PostgresOptions{Store: kv.StoreLedger})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v int
	if err := conn.QueryRow(ctx, "SELECT version FROM tollgate_schema").Scan(&v); err != nil || v != kv.SchemaVersion {
		t.Fatalf("schema version %d, %v; want %d", v, err, kv.SchemaVersion)
	}
	if _, err := conn.Exec(ctx, "UPDATE tollgate_schema SET version = version + 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.OpenPostgres(ctx, dsn, kv.PostgresOptions{Store: kv.StoreLedger}); !errors.Is(err, kv.ErrSchemaNewer) {
		t.Fatalf("opening a newer schema: %v, want ErrSchemaNewer", err)
	}
}

func TestCommittedWritesSurviveAKilledServer(t *testing.T) {
	c, err := pgtest.Start(pgtest.Bin(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if err := c.CreateDB("crash"); err != nil {
		t.Fatal(err)
	}
	open := func() kv.Store {
		s, err := kv.OpenPostgres(context.Background(), c.URL("crash"), kv.PostgresOptions{Store: kv.StoreLedger, Writer: true})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	set(t, s, "committed", "1")
	tx, _ := s.Begin()
	tx.Set([]byte("uncommitted"), []byte("1"))
	tx.Get([]byte("committed")) // the transaction is open on the server
	if err := c.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err == nil {
		t.Fatal("a commit to a killed server succeeded")
	}
	if _, err := get(t, s, "committed"); err == nil || errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("a read from a killed server: %v, want a connection error", err)
	}
	s.Close()
	if err := c.Restart(); err != nil {
		t.Fatal(err)
	}
	s = open()
	defer s.Close()
	if v, err := get(t, s, "committed"); v != "1" || err != nil {
		t.Fatalf("committed: %q, %v", v, err)
	}
	if _, err := get(t, s, "uncommitted"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("uncommitted: %v, want ErrNotFound", err)
	}
}

func TestWritersTakeSeatsEachFencedOnItsOwn(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	open := func() (*kv.Postgres, error) {
		return kv.OpenPostgres(ctx, dsn, kv.PostgresOptions{Store: kv.StoreLedger, Writer: true, Seats: 2})
	}
	a, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := open()
	if err != nil {
		t.Fatal(err)
	}
	if sa, n := a.Seat(); sa != 0 || n != 2 {
		t.Fatalf("first writer in seat %d of %d, want 0 of 2", sa, n)
	}
	if sb, _ := b.Seat(); sb != 1 {
		t.Fatalf("second writer in seat %d, want 1", sb)
	}
	if _, err := open(); !errors.Is(err, kv.ErrWriterHeld) {
		t.Fatalf("a third writer for two seats: %v, want ErrWriterHeld", err)
	}
	if _, err := kv.OpenPostgres(ctx, dsn, kv.PostgresOptions{Store: kv.StoreLedger, Writer: true, Seats: kv.MaxSeats + 1}); err == nil {
		t.Fatal("more seats than MaxSeats were accepted")
	}
	// Both write at once; then b's seat goes to a newcomer, which fences b
	// and only b.
	set(t, a, "a", "1")
	set(t, b, "b", "1")
	b.Close()
	c, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if sc, _ := c.Seat(); sc != 1 {
		t.Fatalf("the newcomer took seat %d, want the freed seat 1", sc)
	}
	set(t, a, "a", "2")
	set(t, c, "c", "1")
	if ro, err := kv.OpenPostgres(ctx, dsn, kv.PostgresOptions{Store: kv.StoreLedger, ReadOnly: true}); err != nil {
		t.Fatal(err)
	} else {
		defer ro.Close()
		if s, _ := ro.Seat(); s != -1 {
			t.Fatalf("a reader holds seat %d", s)
		}
	}
}

// A writer keeps its seat through a PostgreSQL crash: once the server is
// back it holds the seat's lock again, so a host starting then takes
// another seat rather than fencing it.
func TestAWriterKeepsItsSeatThroughAServerCrash(t *testing.T) {
	c, err := pgtest.Start(pgtest.Bin(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if err := c.CreateDB("seats"); err != nil {
		t.Fatal(err)
	}
	open := func() (*kv.Postgres, error) {
		return kv.OpenPostgres(context.Background(), c.URL("seats"), kv.PostgresOptions{Store: kv.StoreLedger, Writer: true, Seats: 2})
	}
	a, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	set(t, a, "k", "1")
	if err := c.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := c.Restart(); err != nil {
		t.Fatal(err)
	}
	// The keeper retakes seat 0 within a few of its ticks; until then the
	// pool's first uses may fail on connections the crash broke.
	var b *kv.Postgres
	for i := 0; ; i++ {
		time.Sleep(200 * time.Millisecond)
		conn, err := pgx.Connect(context.Background(), c.URL("seats"))
		if err != nil {
			continue
		}
		var n int
		err = conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted").Scan(&n)
		conn.Close(context.Background())
		if err == nil && n == 1 {
			break
		}
		if i > 50 {
			t.Fatal("the writer did not retake its seat's lock after the crash")
		}
	}
	if b, err = open(); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if s, _ := b.Seat(); s != 1 {
		t.Fatalf("a host starting after the crash took seat %d, want 1 (seat 0 is kept)", s)
	}
	for i := 0; ; i++ {
		err := a.Update(func(txn kv.Txn) error { return txn.Set([]byte("k"), []byte("2")) })
		if err == nil {
			break
		}
		if errors.Is(err, kv.ErrFenced) || i > 20 {
			t.Fatalf("the writer after the crash: %v", err)
		}
		time.Sleep(100 * time.Millisecond) // a pooled connection the crash broke
	}
}
