package ledger

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/ethereum/go-ethereum/common"

	"github.com/tollgate-dev/tollgate/internal/kv"
)

// Check verifies the ledger's invariants from its records alone:
//   - every receipt's postings sum to zero, debit only its caller, and
//     carry a valid signature by the operator;
//   - every stored credit equals that account's deposits less its calls'
//     debits, and is never negative except as the debt a reorg left by
//     undoing a deposit the account had spent (at most what was undone);
//     every cumulative earning equals the sum
//     of that account's earning postings;
//   - deposits: each read from a known block is indexed by that block, no
//     index entry names anything else, and none lies above the deposit
//     cursor (where a reorganisation check would not look);
//   - solvency: Σ credit + Σ cumulative earnings ≤ Σ deposits credited and
//     Σ cumulative earnings ≤ Σ deposits credited (what a root may owe), and
//     the running totals Commit checks against agree with the records;
//   - the epoch index: every receipt is indexed under its own epoch, every
//     index entry names a receipt, no receipt is in an epoch not yet open,
//     closed epochs run 1…open−1 and each counts the receipts indexed in it;
//   - each closed epoch's leaves sum to its total and rebuild its root, and
//     no account's cumulative earnings decrease from one epoch to the next.
//
// It returns every violation found, joined.
func (l *Ledger) Check(ctx context.Context) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("ledger check: "+format, args...)) }
	credit, earned := map[string]*big.Int{}, map[string]*big.Int{}
	deposited := new(big.Int)
	add := func(m map[string]*big.Int, a string, v *big.Int) {
		if m[a] == nil {
			m[a] = new(big.Int)
		}
		m[a].Add(m[a], v)
	}
	spans, err := l.Operators(ctx)
	if err != nil {
		return err
	}
	if l.operator == "" && len(spans) == 0 {
		bad("no operator address to check receipt signatures against")
	}
	err = l.db.View(func(txn *badger.Txn) error {
		open, err := openEpoch(txn)
		if err != nil {
			return err
		}
		cursor, err := depositCursor(txn)
		if err != nil {
			return err
		}
		byBlock := map[string]uint64{} // deposits read from a known block
		if err := scan(txn, "D/", func(_ []byte, v []byte) error {
			var d Deposit
			if err := unmarshal(v, &d); err != nil {
				return err
			}
			add(credit, d.Account, d.Amount)
			deposited.Add(deposited, d.Amount)
			if d.Block > 0 {
				byBlock[d.Ref] = d.Block
				// A reorg check looks below the cursor only.
				if d.Block > cursor.Block {
					bad("deposit %s is from block %d, above the deposit cursor %d", d.Ref, d.Block, cursor.Block)
				}
			}
			return nil
		}); err != nil {
			return err
		}
		if err := scan(txn, "DB/", func(k, _ []byte) error {
			if len(k) < 3+8 {
				bad("malformed deposit index key %q", k)
				return nil
			}
			block, ref := binary.BigEndian.Uint64(k[3:11]), string(k[11:])
			if b, ok := byBlock[ref]; !ok || b != block {
				bad("deposit index names %s at block %d, which is not a credited deposit there", ref, block)
			}
			delete(byBlock, ref)
			return nil
		}); err != nil {
			return err
		}
		for ref, b := range byBlock {
			bad("deposit %s (block %d) is missing from the block index", ref, b)
		}
		undone := map[string]*big.Int{} // by account: deposits a reorg undid
		if err := scan(txn, "U/", func(_ []byte, v []byte) error {
			var u Undone
			if err := unmarshal(v, &u); err != nil {
				return err
			}
			add(undone, u.Deposit.Account, u.Deposit.Amount)
			return nil
		}); err != nil {
			return err
		}
		receiptEpoch := map[string]uint64{}
		type signedPrev struct {
			epoch  uint64
			bundle string
		}
		prevBundle := map[string]signedPrev{} // receipt id -> the PrevBundle it signed
		if err := scan(txn, "r/", func(_ []byte, v []byte) error {
			var r Receipt
			if err := unmarshal(v, &r); err != nil {
				return err
			}
			receiptEpoch[r.ID] = r.Epoch
			prevBundle[r.ID] = signedPrev{r.Epoch, r.PrevBundle}
			if err := validate(&r); err != nil {
				bad("receipt %s: %v", r.ID, err)
			}
			if err := r.VerifySignature(); err != nil {
				bad("receipt %s: %v", r.ID, err)
			} else if signers := signersOf(spans, l.operator, r.Epoch); !slices.ContainsFunc(signers, func(s string) bool { return strings.EqualFold(s, r.Signer) }) {
				bad("receipt %s (epoch %d) is signed by %s, not the operator of its epoch %v", r.ID, r.Epoch, r.Signer, signers)
			}
			if r.Epoch == 0 || r.Epoch > open {
				bad("receipt %s is in epoch %d, the open epoch is %d", r.ID, r.Epoch, open)
			}
			for _, p := range r.Postings {
				if p.Amount.Sign() < 0 {
					add(credit, p.Account, p.Amount)
				} else {
					add(earned, p.Account, p.Amount)
				}
			}
			// Every account a receipt names lists it.
			for _, a := range receiptAccounts(&r) {
				if _, err := txn.Get(accountReceiptKey(a, r.Epoch, r.Time, r.ID)); err != nil {
					bad("receipt %s is missing from the receipts of %s (%v)", r.ID, a, err)
				}
			}
			return nil
		}); err != nil {
			return err
		}
		indexed := map[uint64]int{}
		if err := scan(txn, "x/", func(k, _ []byte) error {
			if len(k) < 11 || k[10] != '/' {
				bad("malformed epoch index key %q", k)
				return nil
			}
			n, id := binary.BigEndian.Uint64(k[2:10]), string(k[11:])
			indexed[n]++
			switch e, ok := receiptEpoch[id]; {
			case !ok:
				bad("epoch %d indexes receipt %s, which does not exist", n, id)
			case e != n:
				bad("epoch %d indexes receipt %s, which says epoch %d", n, id, e)
			default:
				delete(receiptEpoch, id)
			}
			return nil
		}); err != nil {
			return err
		}
		for id, e := range receiptEpoch {
			bad("receipt %s (epoch %d) is missing from its epoch's index", id, e)
		}
		totals := map[string]*big.Int{"credit": new(big.Int), "earned": new(big.Int)}
		for _, c := range []struct {
			prefix, total string
			want          map[string]*big.Int
		}{{"c/", "credit", credit}, {"e/", "earned", earned}} {
			seen := map[string]bool{}
			if err := scan(txn, c.prefix, func(k, v []byte) error {
				acct := string(k[len(c.prefix):])
				seen[acct] = true
				got, err := parseAmount(v)
				if err != nil {
					return err
				}
				if got.Sign() < 0 {
					if debt, limit := new(big.Int).Neg(got), undone[acct]; c.prefix != "c/" || limit == nil || debt.Cmp(limit) > 0 {
						bad("%s%s is negative: %s", c.prefix, acct, got)
					}
				}
				if !common.IsHexAddress(acct) {
					bad("%s%s is not an account", c.prefix, acct)
				}
				want := c.want[acct]
				if want == nil {
					want = new(big.Int)
				}
				if got.Cmp(want) != 0 {
					bad("%s%s is %s, its records sum to %s", c.prefix, acct, got, want)
				}
				totals[c.total].Add(totals[c.total], got)
				return nil
			}); err != nil {
				return err
			}
			for acct, want := range c.want {
				if !seen[acct] && want.Sign() != 0 {
					bad("%s%s is missing, its records sum to %s", c.prefix, acct, want)
				}
			}
		}
		owed := new(big.Int).Add(totals["credit"], totals["earned"])
		if owed.Cmp(deposited) > 0 {
			bad("insolvent: credit %s + earnings %s exceed the %s deposited", totals["credit"], totals["earned"], deposited)
		}
		// What the settlement tree pays can never exceed what the contract
		// holds, whatever debts a reorganisation left.
		if totals["earned"].Cmp(deposited) > 0 {
			bad("insolvent: earnings %s exceed the %s deposited (debts from undone deposits: credit %s)", totals["earned"], deposited, totals["credit"])
		}
		for key, want := range map[string]*big.Int{string(depositedKey): deposited, string(creditKey): totals["credit"], string(earnedTotKey): totals["earned"]} {
			got, err := getAmount(txn, []byte(key))
			if err != nil {
				return err
			}
			if got.Cmp(want) != 0 {
				bad("running total %s is %s, the records sum to %s", key, got, want)
			}
		}
		prev := map[string]*big.Int{}
		next := uint64(1)
		bundle := ZeroBundle
		bundles := map[uint64]string{0: ZeroBundle}
		if err := scan(txn, "E/", func(_ []byte, v []byte) error {
			var e Epoch
			if err := unmarshal(v, &e); err != nil {
				return err
			}
			if e.N != next {
				bad("closed epoch %d follows epoch %d", e.N, next-1)
			}
			next = e.N + 1
			if e.Receipts != indexed[e.N] {
				bad("epoch %d says %d receipts, %d are indexed in it", e.N, e.Receipts, indexed[e.N])
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
			if total.Cmp(deposited) > 0 {
				bad("epoch %d owes %s, more than the %s ever deposited", e.N, total, deposited)
			}
			for acct, before := range prev {
				if now := cur[acct]; now == nil || now.Cmp(before) < 0 {
					bad("epoch %d: %s's cumulative earnings fell from %s to %v", e.N, acct, before, now)
				}
			}
			prev = cur
			var rs []*Receipt
			var outs [][]byte
			if err := scan(txn, string(epochReceiptsPrefix(e.N))+"/", func(k, _ []byte) error {
				id := string(k[len(epochReceiptsPrefix(e.N))+1:])
				var r Receipt
				if err := kv.GetJSON(txn, receiptKey(id), &r); err != nil {
					return err
				}
				out, err := kv.GetBytes(txn, outputKey(id))
				if err != nil {
					return err
				}
				rs, outs = append(rs, &r), append(outs, out)
				return nil
			}); err != nil {
				return err
			}
			if got, err := BundleHash(bundle, rs, outs); err != nil || got != e.Bundle {
				bad("epoch %d: its receipts and outputs chain to bundle %s, the epoch says %s (%v)", e.N, got, e.Bundle, err)
			}
			bundle = e.Bundle
			bundles[e.N] = e.Bundle
			if t, err := e.tree(); err != nil || t.Root().Hex() != e.Root {
				bad("epoch %d: leaves do not rebuild root %s (%v)", e.N, e.Root, err)
			}
			return nil
		}); err != nil {
			return err
		}
		if next != open {
			bad("epochs 1…%d are closed, but epoch %d is open", next-1, open)
		}
		for id, sp := range prevBundle {
			if want, ok := bundles[sp.epoch-1]; sp.epoch > 0 && ok && sp.bundle != want {
				bad("receipt %s (epoch %d) signs previous bundle %s, epoch %d's is %s", id, sp.epoch, sp.bundle, sp.epoch-1, want)
			}
		}
		return nil
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
