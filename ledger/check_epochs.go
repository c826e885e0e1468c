package ledger

import (
	"math/big"

	"github.com/tollgate-dev/tollgate/internal/kv"
)

// closedEpochs checks the invariant: closed epochs run 1…open−1, and each
// counts the receipts indexed in it, owes no more than was ever deposited,
// pays no account less than the epoch before, chains its receipts and
// outputs to its bundle and rebuilds its root from its leaves.
func (c *checker) closedEpochs() error {
	var prev map[string]*big.Int
	next := uint64(1)
	bundle := ZeroBundle
	if err := scan(c.txn, "E/", func(_ []byte, v []byte) error {
		var e Epoch
		if err := unmarshal(v, &e); err != nil {
			return err
		}
		if e.N != next {
			c.bad("closed epoch %d follows epoch %d", e.N, next-1)
		}
		next = e.N + 1
		if e.Receipts != c.indexed[e.N] {
			c.bad("epoch %d says %d receipts, %d are indexed in it", e.N, e.Receipts, c.indexed[e.N])
		}
		prev = c.epochLeaves(&e, prev)
		if err := c.epochBundle(&e, bundle); err != nil {
			return err
		}
		bundle = e.Bundle
		c.bundles[e.N] = e.Bundle
		if t, err := e.tree(); err != nil || t.Root().Hex() != e.Root {
			c.bad("epoch %d: leaves do not rebuild root %s (%v)", e.N, e.Root, err)
		}
		return nil
	}); err != nil {
		return err
	}
	if next != c.open {
		c.bad("epochs 1…%d are closed, but epoch %d is open", next-1, c.open)
	}
	return nil
}

// epochLeaves checks the invariant: e's leaves sum to its total, which is
// no more than was ever deposited, and no account's cumulative earnings
// fell from prev, the epoch before. It returns e's earnings by account.
func (c *checker) epochLeaves(e *Epoch, prev map[string]*big.Int) map[string]*big.Int {
	total := new(big.Int)
	cur := map[string]*big.Int{}
	for _, lf := range e.Leaves {
		total.Add(total, lf.Cumulative)
		cur[lf.Account] = lf.Cumulative
	}
	if total.Cmp(e.Total) != 0 {
		c.bad("epoch %d leaves sum to %s, total says %s", e.N, total, e.Total)
	}
	if total.Cmp(c.deposited) > 0 {
		c.bad("epoch %d owes %s, more than the %s ever deposited", e.N, total, c.deposited)
	}
	for acct, before := range prev {
		if now := cur[acct]; now == nil || now.Cmp(before) < 0 {
			c.bad("epoch %d: %s's cumulative earnings fell from %s to %v", e.N, acct, before, now)
		}
	}
	return cur
}

// epochBundle checks the invariant: e's receipts and outputs, chained to
// prev, the bundle of the epoch before, hash to e's bundle.
func (c *checker) epochBundle(e *Epoch, prev string) error {
	var rs []*Receipt
	var outs [][]byte
	if err := scan(c.txn, string(epochReceiptsPrefix(e.N))+"/", func(k, _ []byte) error {
		id := string(k[len(epochReceiptsPrefix(e.N))+1:])
		var r Receipt
		if err := kv.GetJSON(c.txn, receiptKey(id), &r); err != nil {
			return err
		}
		out, err := kv.GetBytes(c.txn, outputKey(id))
		if err != nil {
			return err
		}
		rs, outs = append(rs, &r), append(outs, out)
		return nil
	}); err != nil {
		return err
	}
	if got, err := BundleHash(prev, rs, outs); err != nil || got != e.Bundle {
		c.bad("epoch %d: its receipts and outputs chain to bundle %s, the epoch says %s (%v)", e.N, got, e.Bundle, err)
	}
	return nil
}

// signedBundles checks the invariant: every receipt signs the bundle of
// the epoch before its own, where that epoch is closed.
func (c *checker) signedBundles() error {
	for id, sp := range c.prevBundle {
		if want, ok := c.bundles[sp.epoch-1]; sp.epoch > 0 && ok && sp.bundle != want {
			c.bad("receipt %s (epoch %d) signs previous bundle %s, epoch %d's is %s", id, sp.epoch, sp.bundle, sp.epoch-1, want)
		}
	}
	return nil
}
