package ledger

import (
	"context"
	"errors"

	"github.com/dgraph-io/badger/v4"

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
	apply func(txn *badger.Txn) error
	done  chan error
}

// errClosed is returned for writes once Close has begun, and for every
// write to a read-only ledger.
func errClosed() error { return abi.Errorf(abi.CodeUnavailable, "ledger: closed or read-only") }

// write runs apply in the writer and returns once its transaction is
// durable (SyncWrites) or refused. It waits for the outcome even if ctx
// ends first: an acknowledged write must never be reported as failed.
// Close waits for every write that got past the closed check, so the writer
// is still running for each op sent here.
func (l *Ledger) write(ctx context.Context, apply func(txn *badger.Txn) error) error {
	l.closeMu.RLock()
	if l.closed {
		l.closeMu.RUnlock()
		return errClosed()
	}
	l.inflight.Add(1)
	l.closeMu.RUnlock()
	defer l.inflight.Done()
	o := &op{apply: apply, done: make(chan error, 1)}
	select {
	case l.ops <- o:
	case <-ctx.Done():
		return abi.FromContext(ctx.Err())
	}
	return <-o.done
}

// run is the single writer: it takes the writes queued while the previous
// transaction was syncing and commits them together (group commit), so
// durability costs one fsync per batch, not per receipt.
func (l *Ledger) run() {
	defer close(l.stopped)
	for {
		var batch []*op
		select {
		case o := <-l.ops:
			batch = append(batch, o)
		case <-l.quit:
			return
		}
	drain:
		for len(batch) < MaxBatch {
			select {
			case o := <-l.ops:
				batch = append(batch, o)
			default:
				break drain
			}
		}
		l.commit(batch)
	}
}

func (l *Ledger) commit(batch []*op) {
	txn := l.db.NewTransaction(true)
	results := make([]error, len(batch))
	for i, o := range batch {
		err := o.apply(txn)
		var ae *abi.Error
		if err != nil && !errors.As(err, &ae) {
			// An I/O error or a full transaction: the transaction may hold a
			// partial write, so drop it and commit each op on its own.
			txn.Discard()
			l.commitEach(batch)
			return
		}
		results[i] = err
	}
	err := txn.Commit()
	for i, o := range batch {
		if err != nil && results[i] == nil {
			results[i] = err
		}
		o.done <- results[i]
	}
	l.batches.Add(1)
}

func (l *Ledger) commitEach(batch []*op) {
	for _, o := range batch {
		o.done <- l.db.Update(o.apply)
		l.batches.Add(1)
	}
}

// Batches returns how many transactions the writer has committed; with
// Receipts committed it shows how well group commit is batching.
func (l *Ledger) Batches() uint64 { return l.batches.Load() }
