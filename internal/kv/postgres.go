package kv

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Stores that live in PostgreSQL, each in its own table.
const (
	StoreLedger   = "ledger"
	StoreRegistry = "registry"
	StoreNode     = "node" // what else hosts share: the deployment they settle on, the API's tokens
)

// SchemaVersion is the version of the PostgreSQL schema this build writes.
// Open migrates an older schema to it and refuses a newer one.
const SchemaVersion = 3

// migrations[i] brings the schema from version i to i+1; there are
// SchemaVersion of them. A published step never changes; a new one is
// appended.
var migrations = []string{
	// 1: one table per store, ordered by key as bytes; and the writer of
	// each store, whose token fences a writer that lost its lock.
	`CREATE TABLE kv_ledger (k bytea PRIMARY KEY, v bytea NOT NULL);
	 CREATE TABLE kv_registry (k bytea PRIMARY KEY, v bytea NOT NULL);
	 CREATE TABLE kv_writers (store text PRIMARY KEY, token bigint NOT NULL, host text NOT NULL, since timestamptz NOT NULL)`,
	// 2: several writers per store, each in a seat with its own token.
	`ALTER TABLE kv_writers ADD COLUMN seat int NOT NULL DEFAULT 0;
	 ALTER TABLE kv_writers DROP CONSTRAINT kv_writers_pkey;
	 ALTER TABLE kv_writers ADD PRIMARY KEY (store, seat)`,
	// 3: what else hosts behind a balancer share (the deployment, the
	// API's tokens).
	`CREATE TABLE kv_node (k bytea PRIMARY KEY, v bytea NOT NULL)`,
}

// ErrSchemaNewer is returned by OpenPostgres for a database whose schema a
// newer build wrote.
var ErrSchemaNewer = errors.New("kv: the database's schema is newer than this build's")

// ErrFenced is returned by a commit after another host took the store's
// writer lock: nothing of the transaction was written.
var ErrFenced = errors.New("kv: another host took over this store's writes")

// ErrWriterHeld is returned by OpenPostgres when other hosts hold every
// writer seat of the store.
var ErrWriterHeld = errors.New("kv: other hosts hold every writer seat of this store")

// PostgresOptions configures OpenPostgres.
type PostgresOptions struct {
	// Store names the store's table: StoreLedger, StoreRegistry or
	// StoreNode.
	Store    string
	ReadOnly bool
	// Writer makes this store one of the writers of its table, in a seat
	// of its own: Open takes the first free seat's lock (a session
	// advisory lock) or fails with ErrWriterHeld, and every commit checks,
	// in its own transaction, that no other host has taken the seat since.
	// Ignored when ReadOnly.
	Writer bool
	// Seats is how many writers the table may have at once, each in a
	// numbered seat; 0 or 1 makes this store its only writer.
	Seats int
}

// lockSeat tries a writer seat's session lock: $1 the store, $2 the seat.
const lockSeat = "SELECT pg_try_advisory_lock(hashtext('tollgate_writer'), hashtext($1 || '/' || $2::int))"

// MaxSeats bounds PostgresOptions.Seats.
const MaxSeats = 64

// Postgres is a Store in a PostgreSQL table. Updates run at SERIALIZABLE,
// reads at REPEATABLE READ (one snapshot).
type Postgres struct {
	pool      *pgxpool.Pool
	store     string
	get       string // statements on the store's table
	page      string
	pageNext  string
	upsert    string
	del       string
	readOnly  bool
	lock      *pgx.Conn // holds the writer seat's lock; nil unless a writer; the keeper's once open
	seat      int
	seats     int
	token     int64
	cc        *pgx.ConnConfig // for the connections holding seats
	fenced    atomic.Bool     // another host took this store's seat
	closeOnce sync.Once
	quit      chan struct{} // stops the keeper
	kept      chan struct{} // closed when the keeper has stopped
}

// OpenPostgres connects to the database at dsn (a postgres:// URL or a
// key=value string), migrates its schema to SchemaVersion, and opens the
// named store.
func OpenPostgres(ctx context.Context, dsn string, opts PostgresOptions) (*Postgres, error) {
	if opts.Store != StoreLedger && opts.Store != StoreRegistry && opts.Store != StoreNode {
		return nil, fmt.Errorf("kv: unknown store %q", opts.Store)
	}
	if opts.Seats < 0 || opts.Seats > MaxSeats {
		return nil, fmt.Errorf("kv: %d writer seats: from 1 to %d", opts.Seats, MaxSeats)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("kv: postgres address: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("kv: postgres: %w", err)
	}
	table := "kv_" + opts.Store
	p := &Postgres{pool: pool, store: opts.Store, readOnly: opts.ReadOnly, seat: -1, seats: max(opts.Seats, 1),
		get:      "SELECT v FROM " + table + " WHERE k = $1",
		page:     "SELECT k, CASE WHEN $3 THEN v END FROM " + table + " WHERE k >= $1 AND ($2::bytea IS NULL OR k < $2) ORDER BY k LIMIT $4",
		pageNext: "SELECT k, CASE WHEN $3 THEN v END FROM " + table + " WHERE k > $1 AND ($2::bytea IS NULL OR k < $2) ORDER BY k LIMIT $4",
		upsert:   "INSERT INTO " + table + " (k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[]) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
		del:      "DELETE FROM " + table + " WHERE k = ANY($1::bytea[])",
	}
	if err := p.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if opts.Writer && !opts.ReadOnly {
		if err := p.takeWriter(ctx, cfg.ConnConfig); err != nil {
			pool.Close()
			return nil, err
		}
		p.cc = cfg.ConnConfig
		p.quit, p.kept = make(chan struct{}), make(chan struct{})
		go p.keep(cfg.ConnConfig)
	}
	return p, nil
}

// migrate brings the schema to SchemaVersion, one step per transaction,
// under a lock so that hosts starting together migrate once.
func (p *Postgres) migrate(ctx context.Context) error {
	if p.readOnly {
		v, err := p.schemaVersion(ctx, p.pool)
		if err == nil && v != SchemaVersion {
			err = fmt.Errorf("kv: the database's schema is version %d, this build reads %d", v, SchemaVersion)
			if v > SchemaVersion {
				err = fmt.Errorf("%w: %w", ErrSchemaNewer, err)
			}
		}
		return err
	}
	return pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('tollgate_schema'))"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS tollgate_schema (version int NOT NULL)"); err != nil {
			return err
		}
		v, err := p.schemaVersion(ctx, tx)
		if err != nil {
			return err
		}
		if v > SchemaVersion {
			return fmt.Errorf("%w: version %d, this build knows %d", ErrSchemaNewer, v, SchemaVersion)
		}
		for ; v < SchemaVersion; v++ {
			if _, err := tx.Exec(ctx, migrations[v]); err != nil {
				return fmt.Errorf("kv: schema migration %d: %w", v+1, err)
			}
		}
		if _, err := tx.Exec(ctx, "DELETE FROM tollgate_schema"); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "INSERT INTO tollgate_schema (version) VALUES ($1)", SchemaVersion)
		return err
	})
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// schemaVersion is the schema's version; 0 for a database never migrated.
func (p *Postgres) schemaVersion(ctx context.Context, q querier) (int, error) {
	var v int
	err := q.QueryRow(ctx, "SELECT coalesce((SELECT max(version) FROM tollgate_schema), 0)").Scan(&v)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("kv: read schema version: %w", err)
	}
	return v, nil
}

// takeWriter takes the first free writer seat's lock on a connection of
// its own and advances that seat's fencing token.
func (p *Postgres) takeWriter(ctx context.Context, cc *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return fmt.Errorf("kv: postgres: %w", err)
	}
	for seat := range p.seats {
		var ok bool
		if err := conn.QueryRow(ctx, lockSeat, p.store, seat).Scan(&ok); err != nil {
			conn.Close(ctx)
			return fmt.Errorf("kv: writer lock: %w", err)
		}
		if !ok {
			continue
		}
		host, _ := os.Hostname()
		err = conn.QueryRow(ctx, `INSERT INTO kv_writers (store, seat, token, host, since) VALUES ($1, $2, 1, $3, now())
			ON CONFLICT (store, seat) DO UPDATE SET token = kv_writers.token + 1, host = excluded.host, since = now()
			RETURNING token`, p.store, seat, fmt.Sprintf("%s pid %d", host, os.Getpid())).Scan(&p.token)
		if err != nil {
			conn.Close(ctx)
			return fmt.Errorf("kv: writer token: %w", err)
		}
		p.lock, p.seat = conn, seat
		return nil
	}
	conn.Close(ctx)
	return fmt.Errorf("%w (%s, %d seats)", ErrWriterHeld, p.store, p.seats)
}

// Seat returns the writer seat this store holds and how many the table
// has; seat is -1 for a store that is not a writer.
func (p *Postgres) Seat() (seat, seats int) { return p.seat, p.seats }

// Get reads one key in one statement: a lone read is its own snapshot.
func (p *Postgres) Get(key []byte) ([]byte, error) {
	var v []byte
	err := p.pool.QueryRow(context.Background(), p.get, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, pgErr(err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// Pool is the store's connection pool.
func (p *Postgres) Pool() *pgxpool.Pool { return p.pool }

// keepEvery is how often the keeper checks the seat's lock connection.
const keepEvery = 500 * time.Millisecond

// keep holds the seat through a lost lock connection (PostgreSQL
// restarted, a network blip): it connects again and retakes the same
// seat's lock, if no other host has taken the seat meanwhile (its token is
// still this store's). If one has, this store's commits fail with
// ErrFenced, and the keeper stops.
func (p *Postgres) keep(cc *pgx.ConnConfig) {
	defer close(p.kept)
	t := time.NewTicker(keepEvery)
	defer t.Stop()
	for {
		select {
		case <-p.quit:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*keepEvery)
		if p.lock.Ping(ctx) == nil {
			cancel()
			continue
		}
		p.lock.Close(ctx)
		held, err := p.retake(ctx, cc)
		cancel()
		if err == nil && !held {
			p.fenced.Store(true)
			return
		}
	}
}

// retake connects again and takes the seat's lock, if the seat's token is
// still this store's. held is false once another host has the seat.
func (p *Postgres) retake(ctx context.Context, cc *pgx.ConnConfig) (held bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return true, err // try again at the next tick
	}
	var ok bool
	var tok int64
	err = conn.QueryRow(ctx, lockSeat, p.store, p.seat).Scan(&ok)
	if err == nil && ok {
		err = conn.QueryRow(ctx, "SELECT token FROM kv_writers WHERE store = $1 AND seat = $2", p.store, p.seat).Scan(&tok)
	}
	switch {
	case err != nil:
		conn.Close(ctx)
		return true, err
	case !ok || tok != p.token:
		conn.Close(ctx)
		return false, nil
	}
	p.lock = conn
	return true, nil
}

// Fenced reports whether another host has taken this store's writer
// seat, as far as it has found out: nothing it commits lands any more.
func (p *Postgres) Fenced() bool { return p.fenced.Load() }

// Vacant reports whether no host holds writer seat (as its lock says,
// now): it takes the seat's lock and gives it back at once.
func (p *Postgres) Vacant(seat int) bool {
	if seat < 0 || seat >= MaxSeats || seat == p.seat {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return false
	}
	defer conn.Release()
	var ok bool
	if conn.QueryRow(ctx, lockSeat, p.store, seat).Scan(&ok) != nil || !ok {
		return false
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock(hashtext('tollgate_writer'), hashtext($1 || '/' || $2::int))", p.store, seat); err != nil {
		conn.Conn().Close(ctx) // a session still holding the lock must not go back to the pool
	}
	return true
}

// Adopt takes writer seat for a moment, if no host holds it, and advances
// its token, so that whoever held it before can no longer commit; release
// gives the seat up again. ok is false if a host holds the seat.
func (p *Postgres) Adopt(seat int) (release func(), ok bool, err error) {
	if p.cc == nil || seat < 0 || seat >= MaxSeats || seat == p.seat {
		return nil, false, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, p.cc)
	if err != nil {
		return nil, false, fmt.Errorf("kv: adopt seat %d: %w", seat, err)
	}
	if err := conn.QueryRow(ctx, lockSeat, p.store, seat).Scan(&ok); err != nil || !ok {
		conn.Close(ctx)
		return nil, false, err
	}
	if _, err := conn.Exec(ctx, "UPDATE kv_writers SET token = token + 1, since = now() WHERE store = $1 AND seat = $2", p.store, seat); err != nil {
		conn.Close(ctx)
		return nil, false, fmt.Errorf("kv: adopt seat %d: %w", seat, err)
	}
	return func() { conn.Close(context.Background()) }, true, nil
}

// Close closes the store; it is safe to call more than once.
func (p *Postgres) Close() error {
	p.closeOnce.Do(p.close)
	return nil
}

func (p *Postgres) close() {
	if p.quit != nil {
		close(p.quit)
		<-p.kept
	}
	if p.lock != nil {
		p.lock.Close(context.Background()) // ends the session, releasing the lock
	}
	p.pool.Close()
}

func (p *Postgres) View(fn func(Txn) error) error {
	t, err := p.begin(false)
	if err != nil {
		return err
	}
	defer t.Discard()
	if err := fn(t); err != nil || t.err != nil {
		// A failed read can make fn answer wrongly (a walk that stopped
		// early looks like the end): the failure is the answer.
		return cmp.Or(t.err, err)
	}
	return pgErr(t.tx.Commit(t.ctx))
}

func (p *Postgres) Update(fn func(Txn) error) error {
	t, err := p.Begin()
	if err != nil {
		return err
	}
	defer t.Discard()
	if err := fn(t); err != nil {
		if pt, ok := t.(*pgTxn); ok && pt.err != nil {
			return pt.err
		}
		return err
	}
	return t.Commit()
}

func (p *Postgres) Begin() (Tx, error) {
	if p.readOnly {
		return nil, ErrReadOnly
	}
	return p.begin(true)
}

func (p *Postgres) begin(update bool) (*pgTxn, error) {
	ctx := context.Background()
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	if update {
		opts = pgx.TxOptions{IsoLevel: pgx.Serializable}
	}
	tx, err := p.pool.BeginTx(ctx, opts)
	if err != nil {
		return nil, pgErr(err)
	}
	return &pgTxn{p: p, tx: tx, ctx: ctx, update: update}, nil
}

// pgErr maps PostgreSQL's errors to the package's.
func pgErr(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01") { // serialization_failure, deadlock_detected
		return fmt.Errorf("%w: %s", ErrConflict, pe.Message)
	}
	return err
}

// maxPending is how many buffered writes a transaction sends at once.
const maxPending = 512

// pgTxn buffers its writes and sends them in one statement each for sets
// and deletes: before a walk, when many are pending, and at commit.
type pgTxn struct {
	p       *Postgres
	tx      pgx.Tx
	ctx     context.Context
	update  bool
	pending map[string]pgWrite
	// read is what Get read from the server, by key (nil: not found): a
	// transaction reads one snapshot, so a key it has not written since
	// reads the same again. A write drops its key.
	read map[string][]byte
	err  error // the first failure; it fails the transaction
	done bool
}

type pgWrite struct {
	v   []byte
	del bool
}

func (t *pgTxn) fail(err error) error {
	if t.err == nil {
		t.err = pgErr(err)
	}
	return t.err
}

func (t *pgTxn) Get(key []byte) ([]byte, error) {
	if t.err != nil {
		return nil, t.err
	}
	if w, ok := t.pending[string(key)]; ok {
		if w.del {
			return nil, ErrNotFound
		}
		return bytes.Clone(w.v), nil
	}
	if v, ok := t.read[string(key)]; ok {
		if v == nil {
			return nil, ErrNotFound
		}
		return bytes.Clone(v), nil
	}
	var v []byte
	err := t.tx.QueryRow(t.ctx, t.p.get, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		t.remember(key, nil)
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, t.fail(err)
	}
	if v == nil {
		v = []byte{}
	}
	t.remember(key, v)
	return bytes.Clone(v), nil
}

// maxRead bounds the values a transaction remembers reading.
const maxRead = 4096

func (t *pgTxn) remember(key, v []byte) {
	if t.read == nil || len(t.read) >= maxRead {
		t.read = map[string][]byte{}
	}
	t.read[string(key)] = v
}

func (t *pgTxn) Set(key, value []byte) error { return t.write(key, pgWrite{v: value}) }
func (t *pgTxn) Delete(key []byte) error     { return t.write(key, pgWrite{del: true}) }
func (t *pgTxn) write(key []byte, w pgWrite) error {
	if t.err != nil {
		return t.err
	}
	if !t.update {
		return ErrReadOnly
	}
	if len(key) == 0 {
		return errors.New("kv: empty key")
	}
	if t.pending == nil {
		t.pending = map[string]pgWrite{}
	}
	delete(t.read, string(key))
	if w.v == nil && !w.del {
		w.v = []byte{}
	}
	t.pending[string(key)] = w
	if len(t.pending) >= maxPending {
		return t.flush(nil)
	}
	return nil
}

// flush sends the pending writes, after the statements already queued in b
// (nil for none), in one round trip.
func (t *pgTxn) flush(b *pgx.Batch) error {
	if t.err != nil {
		return t.err
	}
	if b == nil {
		b = &pgx.Batch{}
	}
	var sk, sv, dk [][]byte
	// In key order: writers in other seats lock rows in the same order,
	// so they can conflict but not deadlock.
	for _, k := range slices.Sorted(maps.Keys(t.pending)) {
		w := t.pending[k]
		if w.del {
			dk = append(dk, []byte(k))
		} else {
			sk, sv = append(sk, []byte(k)), append(sv, w.v)
		}
	}
	if len(sk) > 0 {
		b.Queue(t.p.upsert, sk, sv)
	}
	if len(dk) > 0 {
		b.Queue(t.p.del, dk)
	}
	t.pending = nil
	if b.Len() == 0 {
		return nil
	}
	if err := t.tx.SendBatch(t.ctx, b).Close(); err != nil {
		return t.fail(err)
	}
	return nil
}

func (t *pgTxn) Commit() error {
	if t.done {
		return errors.New("kv: transaction already ended")
	}
	if t.err != nil {
		t.Discard()
		return t.err
	}
	b := &pgx.Batch{}
	if t.p.lock != nil {
		// The fencing check runs in the transaction it guards: a host that
		// took the lock has advanced the token, and its update conflicts
		// with this share lock, so no commit from an older writer lands
		// after the newer one began.
		b.Queue("SELECT token FROM kv_writers WHERE store = $1 AND seat = $2 FOR SHARE", t.p.store, t.p.seat).QueryRow(func(r pgx.Row) error {
			var tok int64
			if err := r.Scan(&tok); err != nil {
				return err
			}
			if tok != t.p.token {
				return ErrFenced
			}
			return nil
		})
	}
	if err := t.flush(b); err != nil {
		if errors.Is(err, ErrFenced) {
			t.err = ErrFenced
			t.p.fenced.Store(true)
		}
		t.Discard()
		return t.err
	}
	t.done = true
	if err := t.tx.Commit(t.ctx); err != nil {
		t.tx.Rollback(t.ctx) // returns the connection if the commit never reached the server
		return t.fail(err)
	}
	return nil
}

func (t *pgTxn) Discard() {
	if !t.done {
		t.done = true
		t.tx.Rollback(t.ctx)
	}
}

func (t *pgTxn) NewIterator(opts IterOptions) Iterator {
	return &pgIter{t: t, prefix: bytes.Clone(opts.Prefix), end: PrefixEnd(opts.Prefix), values: !opts.KeysOnly, size: 32}
}

// pgIter reads its range a page at a time, each page a query of its own,
// so that the transaction stays free for other reads between pages.
type pgIter struct {
	t      *pgTxn
	prefix []byte
	end    []byte // nil: no upper bound
	values bool
	size   int

	keys, vals [][]byte
	pos        int
	more       bool // the last page was full: there may be more
}

func (i *pgIter) Rewind() { i.Seek(i.prefix) }

func (i *pgIter) Seek(key []byte) {
	if bytes.Compare(key, i.prefix) < 0 {
		key = i.prefix
	}
	i.load(i.t.p.page, key)
}

func (i *pgIter) load(q string, from []byte) {
	if from == nil {
		from = []byte{} // a nil bytea is NULL, which no key is at or after
	}
	i.keys, i.vals, i.pos, i.more = nil, nil, 0, false
	if i.t.err != nil {
		return
	}
	if len(i.t.pending) > 0 {
		if i.t.flush(nil) != nil {
			return
		}
	}
	var end any
	if i.end != nil {
		end = i.end
	}
	rows, err := i.t.tx.Query(i.t.ctx, q, from, end, i.values, i.size)
	if err != nil {
		i.t.fail(err)
		return
	}
	for rows.Next() {
		var k, v []byte
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			i.t.fail(err)
			i.keys = nil
			return
		}
		i.keys, i.vals = append(i.keys, k), append(i.vals, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		i.t.fail(err)
		i.keys = nil
		return
	}
	i.more = len(i.keys) == i.size
	i.size = min(i.size*4, 1024)
}

func (i *pgIter) Valid() bool { return i.t.err == nil && i.pos < len(i.keys) }

func (i *pgIter) Next() {
	i.pos++
	if i.pos == len(i.keys) && i.more {
		i.load(i.t.p.pageNext, i.keys[len(i.keys)-1])
	}
}

func (i *pgIter) Key() []byte { return i.keys[i.pos] }

func (i *pgIter) Value() ([]byte, error) {
	if i.values {
		return slices.Clone(i.vals[i.pos]), nil
	}
	return i.t.Get(i.keys[i.pos])
}

func (i *pgIter) Close() { i.keys, i.vals = nil, nil }
