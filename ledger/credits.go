package ledger

import (
	"math/big"
	"sync"

	"github.com/tollgate-dev/tollgate/internal/kv"
)

// credits mirrors accounts' credit as the writer last committed it (when
// the books are shared, the credit this host's seat holds leased), so
// that reserving credit for a call (once at the start, and again for each
// record it reads) reads memory rather than Badger. Only the writer
// changes an account's credit (setCredit, inside a write's transaction);
// it stages each value, and publishes them after the transaction commits,
// before any of the batch's callers hears back — so a reservation
// released after its commit is never checked against a credit older than
// that commit. A batch that fails drops its accounts instead.
//
// A read that misses fills the mirror from Badger, unless a batch was
// published since the read began: a value read before a commit was
// published may be older than that commit, and is not kept.
type credits struct {
	mu   sync.Mutex
	gen  uint64              // batches published
	vals map[string]*big.Int // account -> credit; never modified in place
	// staged is what the batch being committed wrote; the writer's own.
	staged map[string]*big.Int
}

// maxCredits bounds the accounts mirrored; past it the mirror starts
// again empty.
const maxCredits = 1 << 16

// get returns account's mirrored credit, or the generation to fill it at.
func (c *credits) get(account string) (v *big.Int, gen uint64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok = c.vals[account]
	return v, c.gen, ok
}

// fill keeps v, read from Badger since generation gen, unless a batch was
// published meanwhile.
func (c *credits) fill(account string, v *big.Int, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if c.vals == nil || len(c.vals) >= maxCredits {
		c.vals = map[string]*big.Int{}
	}
	c.vals[account] = new(big.Int).Set(v)
}

// stage records that the batch being committed sets account's credit to v.
func (c *credits) stage(account string, v *big.Int) {
	if c.staged == nil {
		c.staged = map[string]*big.Int{}
	}
	c.staged[account] = new(big.Int).Set(v)
}

// publish ends a batch: committed, its staged credits become the
// mirror's; not, its accounts are dropped, to be read again.
func (c *credits) publish(committed bool) {
	if len(c.staged) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if c.vals == nil || len(c.vals)+len(c.staged) > maxCredits {
		c.vals = map[string]*big.Int{}
	}
	for a, v := range c.staged {
		if committed {
			c.vals[a] = v
		} else {
			delete(c.vals, a)
		}
	}
	clear(c.staged)
}

// setCredit writes the credit this ledger spends account's calls from
// (its spendKey) in txn; it is the only way that is written, so the mirror
// sees every change. Only the writer calls it.
func (l *Ledger) setCredit(txn kv.Txn, account string, v *big.Int) error {
	l.credits.stage(account, v)
	return txn.Set(l.spendKey(account), []byte(v.String()))
}

// addCredit adds delta to account's credit in txn: when the books are
// shared, to its credit free to lease, which no mirror holds.
func (l *Ledger) addCredit(txn kv.Txn, account string, delta *big.Int) error {
	if l.seat >= 0 {
		return addAmount(txn, balanceKey(account), delta)
	}
	v, err := getAmount(txn, balanceKey(account))
	if err != nil {
		return err
	}
	return l.setCredit(txn, account, v.Add(v, delta))
}
