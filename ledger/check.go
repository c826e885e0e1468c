package ledger

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/dgraph-io/badger/v4"
)

// Check verifies the ledger's invariants from its records alone:
//   - every receipt's postings sum to zero;
//   - every stored balance equals the sum of that account's postings
//     (deposits and receipts), and every cumulative earning the sum of its
//     earning postings;
//   - each closed epoch's leaves sum to its total and rebuild its root;
//   - no account's cumulative earnings decrease from one epoch to the next.
//
// It returns every violation found, joined.
func (l *Ledger) Check(ctx context.Context) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("ledger check: "+format, args...)) }
	balances, earned := map[string]*big.Int{}, map[string]*big.Int{}
	add := func(m map[string]*big.Int, a string, v *big.Int) {
		if m[a] == nil {
			m[a] = new(big.Int)
		}
		m[a].Add(m[a], v)
	}
	err := l.db.View(func(txn *badger.Txn) error {
		if err := scan(txn, "D/", func(_ []byte, v []byte) error {
			var d Deposit
			if err := unmarshal(v, &d); err != nil {
				return err
			}
			add(balances, d.Account, d.Amount)
			add(balances, DepositsAccount, new(big.Int).Neg(d.Amount))
			return nil
		}); err != nil {
			return err
		}
		if err := scan(txn, "r/", func(_ []byte, v []byte) error {
			var r Receipt
			if err := unmarshal(v, &r); err != nil {
				return err
			}
			sum := new(big.Int)
			for _, p := range r.Postings {
				sum.Add(sum, p.Amount)
				add(balances, p.Account, p.Amount)
				if earning(p.Kind) {
					add(earned, p.Account, p.Amount)
				}
			}
			if sum.Sign() != 0 {
				bad("receipt %s postings sum to %s", r.ID, sum)
			}
			return nil
		}); err != nil {
			return err
		}
		for _, c := range []struct {
			prefix string
			want   map[string]*big.Int
		}{{"a/", balances}, {"e/", earned}} {
			seen := map[string]bool{}
			if err := scan(txn, c.prefix, func(k, v []byte) error {
				acct := string(k[len(c.prefix):])
				seen[acct] = true
				got, err := parseAmount(v)
				if err != nil {
					return err
				}
				want := c.want[acct]
				if want == nil {
					want = new(big.Int)
				}
				if got.Cmp(want) != 0 {
					bad("%s%s is %s, its postings sum to %s", c.prefix, acct, got, want)
				}
				return nil
			}); err != nil {
				return err
			}
			for acct, want := range c.want {
				if !seen[acct] && want.Sign() != 0 {
					bad("%s%s is missing, its postings sum to %s", c.prefix, acct, want)
				}
			}
		}
		prev := map[string]*big.Int{}
		return scan(txn, "E/", func(_ []byte, v []byte) error {
			var e Epoch
			if err := unmarshal(v, &e); err != nil {
				return err
			}
			total := new(big.Int)
			cur := map[string]*big.Int{}
			for _, lf := range e.Leaves {
				total.Add(total, lf.Cumulative)
				cur[lf.Account] = lf.Cumulative
			}
			if total.Cmp(e.Total) != 0 {
				bad("epoch %d leaves sum to %s, total says %s", e.N, total, e.Total)
			}
			for acct, before := range prev {
				if now := cur[acct]; now == nil || now.Cmp(before) < 0 {
					bad("epoch %d: %s's cumulative earnings fell from %s to %v", e.N, acct, before, now)
				}
			}
			prev = cur
			if t, err := e.tree(); err != nil || t.Root().Hex() != e.Root {
				bad("epoch %d: leaves do not rebuild root %s (%v)", e.N, e.Root, err)
			}
			return nil
		})
	})
	return errors.Join(append(errs, err)...)
}

func scan(txn *badger.Txn, prefix string, fn func(k, v []byte) error) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix), PrefetchValues: true, PrefetchSize: 100})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		v, err := it.Item().ValueCopy(nil)
		if err != nil {
			return err
		}
		if err := fn(it.Item().KeyCopy(nil), v); err != nil {
			return err
		}
	}
	return nil
}
