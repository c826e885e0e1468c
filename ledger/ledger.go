package ledger

import (
	"cmp"
	"context"
	"crypto/ecdsa"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/fsutil"
	"github.com/tollgate-dev/tollgate/internal/kv"
)

// Options configures [Open]. The zero value opens a ledger that can credit
// deposits and be read; committing receipts needs a Signer.
type Options struct {
	InMemory bool
	// ReadOnly opens the books for reading only (verification): nothing is
	// written and every write is refused.
	ReadOnly bool
	// Signer is the operator's key. The ledger signs each receipt with it
	// when it commits the receipt, after assigning its epoch, so the
	// signature covers everything the receipt says.
	Signer *ecdsa.PrivateKey
	// Operator is the address every receipt must be signed by; it defaults
	// to Signer's. Check refuses a ledger with neither.
	Operator string
	Logger   *slog.Logger
	// CommitDelay is how long the writer may hold a batch open for the
	// commits of other calls in flight, so that they share one sync
	// (PostgreSQL's commit_delay). It applies only while at least
	// CommitSiblings other reservations are outstanding, so a lone call
	// never waits. Zero uses DefaultCommitDelay; negative disables it.
	CommitDelay time.Duration
	// CommitSiblings is how many other calls in flight make a commit worth
	// delaying; zero uses DefaultCommitSiblings.
	CommitSiblings int

	valueLogFileSize int64         // tests: smaller value-log files than ValueLogFileSize
	pageoutEvery     time.Duration // tests: another interval than PageoutInterval; negative, none
}

// The defaults for Options.CommitDelay and Options.CommitSiblings.
const (
	DefaultCommitDelay    = 2 * time.Millisecond
	DefaultCommitSiblings = 2
)

// Ledger is the book of record. It is safe for concurrent use.
type Ledger struct {
	db       kv.Store
	blog     *badgerLog // nil unless the books are in Badger
	logger   *slog.Logger
	signer   *ecdsa.PrivateKey
	operator string
	readOnly bool
	// open is the open epoch and the bundle of the one before it, as last
	// committed: what Commit signs a receipt for.
	open atomic.Pointer[openState]

	ops      chan *op
	quit     chan struct{}
	stopped  chan struct{}
	pagedOut chan struct{} // closed when the pageout loop has stopped
	batches  atomic.Uint64
	closeMu  sync.RWMutex
	closed   bool
	inflight sync.WaitGroup
	closeOne sync.Once
	closeErr error

	// acctMu serialises, per account (striped), reading its credit and
	// changing what it holds: a call's reservation is checked against the
	// credit under the same lock that a commit's release takes, and a
	// commit debits the credit before it releases, so no interleaving
	// admits a call that cannot pay. Other accounts never wait.
	acctMu   [accountStripes]sync.Mutex
	credits  credits             // accounts' credit as last committed
	resMu    sync.Mutex          // guards the reserved map, held for map operations only
	reserved map[string]*big.Int // account -> credit held by calls in flight
	// active counts unreleased reservations: calls in flight that will
	// commit, which the writer may wait for.
	active   atomic.Int64
	delay    time.Duration
	siblings int64

	// seat is this host's writer seat in books other hosts write too, or
	// -1 for the books' sole writer (and for a reader); leaseUse is when a
	// call last reserved each account's leased credit.
	seat       int
	leaseUse   map[string]time.Time // guarded by resMu
	leasesDone chan struct{}        // closed when the lease loop has stopped
	vacant     map[int]time.Time    // seats with leases first found vacant; the lease loop's own

	treeMu    sync.Mutex
	treeEpoch uint64
	tree      *Tree
}

// The ledger's own error codes.
const (
	CodeUnbalanced  abi.Code = "ledger_unbalanced" // postings would not sum to zero, or debit someone else
	CodeInsolvent   abi.Code = "ledger_insolvent"  // a write would owe more than was deposited
	CodeEpochEmpty  abi.Code = "epoch_empty"       // an epoch with no new receipts cannot close
	CodeEpochClosed abi.Code = "epoch_closed"      // another host closed the epoch first
)

// openState is the epoch receipts are committed to and the previous epoch's
// bundle, which they sign.
type openState struct {
	epoch  uint64
	bundle string
}

// Format is the version of the ledger's key layout. A ledger written in
// another layout is refused at Open rather than misread.
const Format = 2

// Open opens (creating if needed) the ledger in dir, a Badger database
// with SyncWrites on: a commit returns only once it is on disk.
func Open(dir string, opts Options) (*Ledger, error) {
	blog := &badgerLog{logger: opts.Logger}
	db, err := badger.Open(badgerOptions(dir, opts, blog))
	if err != nil {
		return nil, fmt.Errorf("ledger: open %s: %w", dir, err)
	}
	l, err := open(kv.NewBadger(db), blog, opts)
	if err != nil {
		return nil, err
	}
	if every := cmp.Or(opts.pageoutEvery, PageoutInterval); opts.InMemory || opts.ReadOnly || every < 0 {
		close(l.pagedOut)
	} else {
		go l.pageoutLoop(fsutil.RealDir(dir), every)
	}
	return l, nil
}

// OpenStore opens the ledger kept in store, which it closes when it
// closes. A writable ledger must be the store's only writer: a PostgreSQL
// store is opened with its writer lock (kv.PostgresOptions.Writer). Options
// that only Badger reads (InMemory) are refused.
func OpenStore(store kv.Store, opts Options) (*Ledger, error) {
	if opts.InMemory {
		store.Close()
		return nil, fmt.Errorf("ledger: InMemory applies to a Badger ledger only")
	}
	l, err := open(store, nil, opts)
	if err != nil {
		return nil, err
	}
	close(l.pagedOut)
	return l, nil
}

func open(db kv.Store, blog *badgerLog, opts Options) (*Ledger, error) {
	l := &Ledger{db: db, blog: blog, logger: opts.Logger, signer: opts.Signer, operator: opts.Operator, readOnly: opts.ReadOnly,
		ops: make(chan *op, MaxBatch), quit: make(chan struct{}), stopped: make(chan struct{}), pagedOut: make(chan struct{}), reserved: map[string]*big.Int{},
		delay: opts.CommitDelay, siblings: int64(opts.CommitSiblings),
		seat: -1, leaseUse: map[string]time.Time{}, leasesDone: make(chan struct{}), vacant: map[int]time.Time{}}
	if s, ok := db.(seated); ok && !opts.ReadOnly {
		if l.seat, _ = s.Seat(); l.seat < 0 {
			db.Close()
			return nil, fmt.Errorf("ledger: a writable ledger in a shared store needs a writer seat (kv.PostgresOptions.Writer)")
		}
	}
	if l.delay == 0 {
		l.delay = DefaultCommitDelay
	}
	if l.siblings <= 0 {
		l.siblings = DefaultCommitSiblings
	}
	if l.logger == nil {
		l.logger = slog.New(slog.DiscardHandler)
	}
	if l.operator == "" && l.signer != nil {
		l.operator = crypto.PubkeyToAddress(l.signer.PublicKey).Hex()
	}
	if err := l.load(); err != nil {
		db.Close()
		return nil, err
	}
	if l.readOnly {
		close(l.stopped)
		close(l.leasesDone)
		l.closed = true
		return l, nil
	}
	go l.run()
	if l.seat >= 0 {
		go l.leaseLoop()
	} else {
		close(l.leasesDone)
	}
	return l, nil
}

// ValueLogFileSize is the size of each of the ledger's value log files.
// Badger maps the file it writes, and at every open reads the last one
// through, so a node's resident memory grows with it: Badger's 1 GB
// default put up to a gigabyte of receipts in a loaded node's RSS, and
// most of one in an idle node's after a restart.
const ValueLogFileSize = 64 << 20

// badgerOptions are the database options of a ledger in dir, with SyncWrites
// on.
func badgerOptions(dir string, opts Options, blog *badgerLog) badger.Options {
	bo := badger.DefaultOptions(dir).WithSyncWrites(true).WithLogger(blog).WithReadOnly(opts.ReadOnly).
		// Receipts and outputs (kilobytes each, written once) go to the
		// value log; the LSM tree keeps keys and small values. With
		// Badger's defaults (every value in the tree, 64 MB memtables, a
		// 256 MB block cache) compaction rewrote each receipt level after
		// level, and held a gigabyte of a loaded node's heap.
		WithValueThreshold(256).WithMemTableSize(16 << 20).WithNumMemtables(3).WithBlockCacheSize(32 << 20).
		WithValueLogFileSize(ValueLogFileSize)
	if opts.valueLogFileSize > 0 {
		bo = bo.WithValueLogFileSize(opts.valueLogFileSize)
	}
	if opts.InMemory {
		// No value log in memory: values stay in the tree, and count in
		// full against a transaction's limit, which the memtable sets.
		d := badger.DefaultOptions("")
		bo = bo.WithDir("").WithValueDir("").WithInMemory(true).WithValueThreshold(d.ValueThreshold).WithMemTableSize(d.MemTableSize)
	}
	return bo
}

// load checks the books' format and reads the open epoch and the bundle
// it signs; a writable ledger also records its signer and indexes accounts
// written before it kept an index.
func (l *Ledger) load() error {
	if err := l.checkFormat(); err != nil {
		return err
	}
	n, err := l.OpenEpoch(context.Background())
	if err != nil {
		return err
	}
	st := &openState{epoch: n, bundle: ZeroBundle}
	if n > 1 {
		e, err := l.Epoch(context.Background(), n-1)
		if err != nil {
			return err
		}
		st.bundle = e.Bundle
	}
	l.open.Store(st)
	if !l.readOnly && l.signer != nil {
		if err := l.recordOperator(crypto.PubkeyToAddress(l.signer.PublicKey).Hex(), n); err != nil {
			return err
		}
	}
	if l.readOnly {
		return nil
	}
	if l.seat >= 0 {
		if err := l.returnSeatLeases(); err != nil {
			return err
		}
	}
	if l.seat <= 0 {
		// Only the books' sole writer, or the host in seat 0, closes
		// epochs: a seal left at open is a close that stopped midway, and
		// would hold every commit. Clearing it is safe: a close still
		// running checks the seal again in its own transaction.
		if err := l.update(func(txn kv.Txn) error { return unseal(txn, st.epoch) }); err != nil {
			return err
		}
	}
	return l.indexAccounts()
}

// checkFormat stamps a new ledger with Format and refuses one written in
// another layout (the first layout kept earnings in the spendable balance).
func (l *Ledger) checkFormat() error {
	have, err := kv.Layout(l.db, Format, l.readOnly)
	if err != nil {
		return fmt.Errorf("ledger: read format: %w", err)
	}
	if have != "" {
		return abi.Errorf(abi.CodeInternal, "ledger: the books are in format %s, this build reads format %d: keep them with the build that wrote them", have, Format)
	}
	return nil
}

// Close lets every write already started finish, stops the writer and
// closes the database. Writes that start after Close has begun are refused
// with CodeUnavailable. It is safe to call more than once, concurrently.
func (l *Ledger) Close() error {
	l.closeOne.Do(func() {
		l.closeMu.Lock()
		wasClosed := l.closed
		l.closed = true
		l.closeMu.Unlock()
		if !wasClosed {
			l.inflight.Wait()
			close(l.quit)
		}
		<-l.stopped
		<-l.leasesDone
		<-l.pagedOut
		if l.seat >= 0 && !wasClosed {
			// Nothing commits any more: what this seat leased is final.
			if err := l.returnSeatLeases(); err != nil {
				l.logger.Warn("return leases at close; the seat's next holder returns them", "err", err)
			}
		}
		l.closeErr = l.db.Close()
	})
	return l.closeErr
}
