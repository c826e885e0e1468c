package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/kv"
)

// Options configures [Open]. The zero value works.
type Options struct {
	// InMemory keeps everything in memory (tests, demo); Dir is ignored.
	InMemory bool
	// ReadOnly opens the registry for reading only (verification).
	ReadOnly bool
	Logger   *slog.Logger
	// Operator is the address that may, besides a version's publisher and
	// the name's owner, yank any version, and the only one that may publish
	// in the Reserved namespaces.
	Operator string
	// Reserved are namespaces (the part of a plugin name before "/", such
	// as "builtin" for the plugins the node ships) whose names only
	// Operator may publish; a name equal to one is reserved too. Without
	// them anyone may claim any new name.
	Reserved []string
	// Domain is the deployment every signature must be made for.
	Domain Domain
	// Scratch marks a verifier's private copy, which may mirror datanets
	// (see [Registry.MirrorDatanet]).
	Scratch bool
}

// Registry is the store of plugins and datanets. It is safe for concurrent use.
type Registry struct {
	db       kv.Store
	logger   *slog.Logger
	operator string   // canonical address, or ""
	reserved []string // namespaces only the operator publishes in
	domain   Domain
	scratch  bool
	dir      string // "" in memory
	readOnly bool

	// verified holds plugins whose module bytes matched their hash and
	// whose manifest signature checked, by name@version: a plugin is
	// verified when first loaded, not on every call. Yank drops its entry.
	verifiedMu  sync.RWMutex
	verified    map[string]*Plugin
	verifiedGen uint64 // advanced by each forget: a Load that read before one does not cache

	datanets sync.Map // name → *cachedDatanet
	records  *recordCache

	mu     sync.Mutex              // serialises appends to a datanet and guards indexes
	corpus map[string]*corpusIndex // corpus_match, segments added by appends
	search map[string]*searchIndex // BM25, grown by appends

	// Index builds run under ctx, cancelled by Close, which waits for them
	// (builds) before closing the database.
	ctx    context.Context
	cancel context.CancelFunc
	builds sync.WaitGroup
	closed bool // under mu
	jobs   jobs // background work on indexes (writing files, merging)

	storeReads *storeReads // nil but for a Badger registry on disk
}

// jobs counts background jobs, which Close waits for. Its lock is its
// own, so an index may start a job while holding its locks.
type jobs struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// start registers a job; false once the registry is closing.
func (j *jobs) start() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return false
	}
	j.wg.Add(1)
	return true
}

func (j *jobs) done() { j.wg.Done() }

// close refuses new jobs and waits for those running.
func (j *jobs) close() {
	j.mu.Lock()
	j.closed = true
	j.mu.Unlock()
	j.wg.Wait()
}

// Open opens (creating if needed) the registry in dir.
func Open(dir string, opts Options) (*Registry, error) {
	// Record bodies (~0.5-64 KB) go to the value log, keeping the LSM tree
	// small: at a million records that halves import time.
	// Badger's 64 MB memtable and 256 MB block cache held over 80 MB of
	// an idle node's heap, and doubled the Go heap's growth target under
	// load; an import batch (at most Batch records, their bodies in the
	// value log) needs a small part of 16 MB.
	bo := badger.DefaultOptions(dir).WithSyncWrites(true).WithLogger(nil).WithValueThreshold(256).WithReadOnly(opts.ReadOnly).
		WithMemTableSize(16 << 20).WithNumMemtables(3).WithBlockCacheSize(32 << 20).WithValueLogFileSize(64 << 20)
	if opts.InMemory {
		// In memory there is no value log: Badger refuses (by panicking,
		// in v4.9) values above the threshold, so keep its default.
		d := badger.DefaultOptions("")
		bo = bo.WithDir("").WithValueDir("").WithInMemory(true).WithValueThreshold(d.ValueThreshold).WithMemTableSize(d.MemTableSize)
	}
	bdb, err := badger.Open(bo)
	if err != nil {
		return nil, fmt.Errorf("registry: open %s: %w", dir, err)
	}
	if opts.InMemory {
		dir = ""
	}
	r, err := open(kv.NewBadger(bdb), dir, opts)
	if err == nil && dir != "" {
		r.storeReads = newStoreReads(dir, r.ctx.Done())
	}
	return r, err
}

// OpenStore opens the registry kept in store, which it closes when it
// closes; its derived indexes (suffix arrays, search) are built in dir, a
// directory of this host's own ("" keeps them in memory). A writable
// registry must be the store's only writer. InMemory is refused: it
// applies to a Badger registry only.
func OpenStore(store kv.Store, dir string, opts Options) (*Registry, error) {
	if opts.InMemory {
		store.Close()
		return nil, fmt.Errorf("registry: InMemory applies to a Badger registry only")
	}
	return open(store, dir, opts)
}

func open(db kv.Store, dir string, opts Options) (*Registry, error) {
	var err error
	if err := checkFormat(db, opts.ReadOnly); err != nil {
		db.Close()
		return nil, err
	}
	r := &Registry{db: db, logger: opts.Logger, domain: opts.Domain, scratch: opts.Scratch, corpus: map[string]*corpusIndex{}, search: map[string]*searchIndex{}, records: newRecordCache(RecordCacheBytes),
		readOnly: opts.ReadOnly}
	r.dir = dir
	if opts.Operator != "" {
		if r.operator, err = CanonicalAddress(opts.Operator); err != nil {
			db.Close()
			return nil, err
		}
	}
	for _, ns := range opts.Reserved {
		if r.operator == "" || !nameRE.MatchString(ns) || strings.Contains(ns, "/") {
			db.Close()
			return nil, fmt.Errorf("registry: reserved namespace %q: want a one-segment name, and an Operator to publish in it", ns)
		}
	}
	r.reserved = slices.Clone(opts.Reserved)
	if !opts.ReadOnly {
		if err := r.indexVersions(); err != nil {
			db.Close()
			return nil, err
		}
		if err := r.repairLatest(); err != nil {
			db.Close()
			return nil, err
		}
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	if r.logger == nil {
		r.logger = slog.New(slog.DiscardHandler)
	}
	r.sweepModelBuilds()
	return r, nil
}

// Domain returns the deployment the registry's signatures are bound to.
func (r *Registry) Domain() Domain { return r.domain }

// Close stops index builds and closes the database.
func (r *Registry) Close() error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.builds.Wait()
	r.jobs.close()
	if r.storeReads != nil {
		<-r.storeReads.stopped
	}
	return r.db.Close()
}

// startBuild registers an index build; it refuses once the registry is
// closing. The caller holds r.mu and calls r.builds.Done when done.
func (r *Registry) startBuild() error {
	if r.closed {
		return errorf(abi.CodeUnavailable, "registry is closing")
	}
	r.builds.Add(1)
	return nil
}

// Warm builds the search and corpus_match indexes of every datanet, one
// after another, so that the first queries after a start need not wait.
// It returns when all are built, or at the first failure.
func (r *Registry) Warm(ctx context.Context) error {
	var names []string
	err := r.db.View(func(txn kv.Txn) error {
		it := txn.NewIterator(kv.IterOptions{Prefix: []byte("d/")})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			names = append(names, string(it.Key()[len("d/"):]))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, name := range names {
		start := time.Now()
		if _, err := r.searchIndexFor(ctx, name); err != nil {
			return err
		}
		if _, err := r.corpusIndexFor(ctx, name); err != nil {
			return err
		}
		r.logger.Info("datanet indexed", "datanet", name, "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// Format is the version of the registry's key layout; a registry written
// in another layout is refused at Open rather than misread.
const Format = 2

// checkFormat stamps a new registry with Format and refuses any other.
func checkFormat(db kv.Store, readOnly bool) error {
	have, err := kv.Layout(db, Format, readOnly)
	switch {
	case err != nil:
		return fmt.Errorf("registry: read layout: %w", err)
	case have == "1":
		return errorf(abi.CodeInternal, "registry: written in layout 1, where datanet keys could alias; this build reads layout %d: keep the data with the build that wrote it", Format)
	case have != "":
		return errorf(abi.CodeInternal, "registry: layout %s, this build reads layout %d", have, Format)
	}
	return nil
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func getString(txn kv.Txn, key []byte) (string, error) {
	b, err := kv.GetBytes(txn, key)
	return string(b), err
}

// update runs fn in a write transaction, again while it conflicts with
// another host's (a store several hosts write): each try starts afresh.
func (r *Registry) update(fn func(kv.Txn) error) error { return kv.UpdateRetrying(r.db, fn) }
