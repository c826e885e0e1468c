package ledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tollgate-dev/tollgate/internal/kv"

	"github.com/tollgate-dev/tollgate/abi"
)

// MaxBatch bounds how many writes share one Badger transaction. A receipt is
// a few KB, so a batch stays far below Badger's transaction size limit
// (about 15% of the 64 MB memtable).
const MaxBatch = 256

// op is one write. apply checks everything it needs with reads first and
// writes only once nothing can refuse it, so a refused op (an *abi.Error)
// leaves nothing in the shared transaction.
type op struct {
	apply func(txn kv.Txn) error
	done  chan error
	res   *Reservation // the call's, for a call's commit: no longer in flight once written
}

// errClosed is returned for writes once Close has begun, and for every
// write to a read-only ledger.
func errClosed() error { return abi.Errorf(abi.CodeUnavailable, "ledger: closed or read-only") }

// write runs apply in the writer and returns once its transaction is
// durable (SyncWrites) or refused. It waits for the outcome even if ctx
// ends first: an acknowledged write must never be reported as failed.
// Close waits for every write that got past the closed check, so the writer
// is still running for each op sent here.
func (l *Ledger) write(ctx context.Context, apply func(txn kv.Txn) error) error {
	return l.writeHeld(ctx, nil, apply)
}

// writeHeld is write for a call's commit, made under reservation res
// (which may be nil): the writer does not count the call among those it
// may wait for, and stops counting it in flight once its write is done.
func (l *Ledger) writeHeld(ctx context.Context, res *Reservation, apply func(txn kv.Txn) error) error {
	if err := l.blog.syncFailure(); err != nil {
		return err
	}
	l.closeMu.RLock()
	if l.closed {
		l.closeMu.RUnlock()
		return errClosed()
	}
	l.inflight.Add(1)
	l.closeMu.RUnlock()
	defer l.inflight.Done()
	o := &op{apply: apply, done: make(chan error, 1), res: res}
	select {
	case l.ops <- o:
	case <-ctx.Done():
		return abi.FromContext(ctx.Err())
	}
	return <-o.done
}

// run is the single writer: it takes the writes queued while the previous
// transaction was syncing and commits them together (group commit), so
// durability costs one sync per batch, not per receipt. A sync costs far
// more than the writes it covers, and is often quicker than the time
// between two calls' commits; so while enough other calls are in flight,
// the writer holds a batch open for up to the commit delay to let them
// join it.
func (l *Ledger) run() {
	defer close(l.stopped)
	// CPU profiles show the writer's work as stage=write.
	pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("stage", "write")))
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		var batch []*op
		held := int64(0)
		add := func(o *op) {
			batch = append(batch, o)
			if o.res.inFlight() {
				held++
			}
		}
		select {
		case o := <-l.ops:
			add(o)
		case <-l.quit:
			return
		}
	drain:
		for len(batch) < MaxBatch {
			select {
			case o := <-l.ops:
				add(o)
			default:
				break drain
			}
		}
		if l.delay > 0 && l.active.Load()-held >= l.siblings {
			timer.Reset(l.delay)
		linger:
			for len(batch) < MaxBatch && l.active.Load()-held > 0 {
				select {
				case o := <-l.ops:
					add(o)
				case <-timer.C:
					break linger
				}
			}
			timer.Stop()
		}
		l.commit(batch)
	}
}

func (l *Ledger) commit(batch []*op) {
	for try := 0; ; try++ {
		results, err, each := l.tryCommit(batch)
		if errors.Is(err, kv.ErrConflict) && try < kv.MaxConflictRetries {
			// Another host's transaction touched what this one read
			// (shared books): nothing was written; run the batch again.
			kv.Backoff(try)
			continue
		}
		if each {
			l.commitEach(batch)
			return
		}
		err = writeError(err)
		for i, o := range batch {
			if err != nil {
				// A refusal worked out in a failed transaction may rest on
				// a read that failed: the failure is every op's answer.
				results[i] = err
			}
			o.res.landed()
			o.done <- results[i]
		}
		l.batches.Add(1)
		return
	}
}

// tryCommit runs batch in one transaction. It returns each op's refusal
// and the transaction's error; each is set if an op failed in a way that
// may have left a partial write, so each op must be committed on its own.
func (l *Ledger) tryCommit(batch []*op) (results []error, err error, each bool) {
	txn, err := l.db.Begin()
	if err != nil {
		return make([]error, len(batch)), err, false
	}
	results = make([]error, len(batch))
	for i, o := range batch {
		err := o.apply(txn)
		var ae *abi.Error
		if errors.Is(err, kv.ErrConflict) {
			txn.Discard()
			l.credits.publish(false)
			return results, err, false
		}
		if err != nil && !errors.As(err, &ae) {
			// An I/O error or a full transaction: the transaction may hold a
			// partial write, so drop it and commit each op on its own.
			txn.Discard()
			l.credits.publish(false)
			return results, err, true
		}
		results[i] = err
	}
	err = txn.Commit()
	if err == nil {
		err = l.blog.syncFailure()
	}
	// Before anyone hears back: a reservation released after its commit
	// must find the credit that commit left.
	l.credits.publish(err == nil)
	return results, err, false
}

// writeError says what a failed write means to its caller: a host whose
// writer seat another has taken can write nothing more.
func writeError(err error) error {
	if errors.Is(err, kv.ErrFenced) {
		return abi.Wrap(abi.CodeUnavailable, err, "ledger: another host took this host's writer seat; restart it")
	}
	return err
}

func (l *Ledger) commitEach(batch []*op) {
	for _, o := range batch {
		err := l.update(o.apply)
		if err == nil {
			err = l.blog.syncFailure()
		}
		l.credits.publish(err == nil)
		o.res.landed()
		o.done <- writeError(err)
		l.batches.Add(1)
	}
}

// Batches returns how many transactions the writer has committed; with
// Receipts committed it shows how well group commit is batching.
func (l *Ledger) Batches() uint64 { return l.batches.Load() }

// badgerLog is the ledger's Badger logger. Badger reports a failed sync of
// its value log, where receipts and outputs live, only to its logger, and
// returns success: the ledger watches for it. After a failed sync what
// reached the disk is unknown, so every write from then on is refused
// until the node restarts and Badger recovers from what the disk holds.
type badgerLog struct {
	logger *slog.Logger
	failed atomic.Pointer[string]
}

// syncFailure returns an error once a sync has failed.
func (b *badgerLog) syncFailure() error {
	if b == nil {
		return nil
	}
	if msg := b.failed.Load(); msg != nil {
		return abi.Errorf(abi.CodeUnavailable, "ledger: a disk sync failed (%s); the node must restart", *msg)
	}
	return nil
}

func (b *badgerLog) Errorf(format string, args ...any) {
	msg := strings.TrimSpace(fmt.Sprintf(format, args...))
	if strings.Contains(strings.ToLower(msg), "sync") {
		b.failed.CompareAndSwap(nil, &msg)
	}
	if b.logger != nil {
		b.logger.Error("badger: " + msg)
	}
}

func (b *badgerLog) Warningf(format string, args ...any) {
	if b.logger != nil {
		b.logger.Warn("badger: " + strings.TrimSpace(fmt.Sprintf(format, args...)))
	}
}

func (*badgerLog) Infof(string, ...any)  {}
func (*badgerLog) Debugf(string, ...any) {}
