package ledger

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/kv"

	"github.com/ethereum/go-ethereum/common"
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
	spans, err := l.Operators(ctx)
	if err != nil {
		return err
	}
	c := &checker{spans: spans, operator: l.operator,
		credit: map[string]*big.Int{}, earned: map[string]*big.Int{}, undone: map[string]*big.Int{},
		deposited: new(big.Int), byBlock: map[string]uint64{},
		receiptEpoch: map[string]uint64{}, prevBundle: map[string]signedPrev{},
		indexed: map[uint64]int{}, bundles: map[uint64]string{0: ZeroBundle}}
	if l.operator == "" && len(spans) == 0 {
		c.bad("no operator address to check receipt signatures against")
	}
	err = l.db.View(func(txn kv.Txn) (err error) {
		c.txn = txn
		if c.open, err = openEpoch(txn); err != nil {
			return err
		}
		if c.cursor, err = depositCursor(txn); err != nil {
			return err
		}
		// Each step reads what the ones before it summed from the records.
		for _, step := range []func() error{
			c.deposits,
			c.depositIndex,
			c.undoneDeposits,
			c.receipts,
			c.epochIndex,
			c.accounts,
			c.solvency,
			c.runningTotals,
			c.closedEpochs,
			c.signedBundles,
		} {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
	return errors.Join(append(c.errs, err)...)
}

// checker holds what Check has read so far, in one read transaction, and
// the violations it found. Its methods return an error only when they
// cannot read the records; a violation is noted with bad.
type checker struct {
	txn      kv.Txn
	spans    []OperatorSpan
	operator string
	open     uint64
	cursor   Cursor
	errs     []error

	credit, earned map[string]*big.Int // by account: what the records sum to
	undone         map[string]*big.Int // by account: deposits a reorg undid
	deposited      *big.Int            // Σ deposits credited
	byBlock        map[string]uint64   // deposits read from a known block

	receiptEpoch map[string]uint64     // receipt id -> its epoch, until indexed
	prevBundle   map[string]signedPrev // receipt id -> the PrevBundle it signed
	indexed      map[uint64]int        // epoch -> receipts indexed in it

	creditTotal, earnedTotal *big.Int          // Σ stored credit, Σ stored earnings
	bundles                  map[uint64]string // closed epoch -> its bundle
}

// signedPrev is the epoch a receipt was signed for and the previous
// epoch's bundle it signed.
type signedPrev struct {
	epoch  uint64
	bundle string
}

func (c *checker) bad(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("ledger check: "+format, args...))
}

func sumInto(m map[string]*big.Int, a string, v *big.Int) {
	if m[a] == nil {
		m[a] = new(big.Int)
	}
	m[a].Add(m[a], v)
}

// deposits sums every credited deposit into its account's credit and the
// total deposited. Invariant: a deposit read from a known block lies at or
// below the deposit cursor, where a reorganisation check looks.
func (c *checker) deposits() error {
	return scan(c.txn, "D/", func(_ []byte, v []byte) error {
		var d Deposit
		if err := unmarshal(v, &d); err != nil {
			return err
		}
		sumInto(c.credit, d.Account, d.Amount)
		c.deposited.Add(c.deposited, d.Amount)
		if d.Block > 0 {
			c.byBlock[d.Ref] = d.Block
			// A reorg check looks below the cursor only.
			if d.Block > c.cursor.Block {
				c.bad("deposit %s is from block %d, above the deposit cursor %d", d.Ref, d.Block, c.cursor.Block)
			}
		}
		return nil
	})
}

// depositIndex checks the invariant: the block index lists exactly the
// deposits read from a known block, each under its own block.
func (c *checker) depositIndex() error {
	if err := scan(c.txn, "DB/", func(k, _ []byte) error {
		if len(k) < 3+8 {
			c.bad("malformed deposit index key %q", k)
			return nil
		}
		block, ref := binary.BigEndian.Uint64(k[3:11]), string(k[11:])
		if b, ok := c.byBlock[ref]; !ok || b != block {
			c.bad("deposit index names %s at block %d, which is not a credited deposit there", ref, block)
		}
		delete(c.byBlock, ref)
		return nil
	}); err != nil {
		return err
	}
	for ref, b := range c.byBlock {
		c.bad("deposit %s (block %d) is missing from the block index", ref, b)
	}
	return nil
}

// undoneDeposits sums, by account, the deposits a reorganisation undid:
// the most debt each account's credit may show.
func (c *checker) undoneDeposits() error {
	return scan(c.txn, "U/", func(_ []byte, v []byte) error {
		var u Undone
		if err := unmarshal(v, &u); err != nil {
			return err
		}
		sumInto(c.undone, u.Deposit.Account, u.Deposit.Amount)
		return nil
	})
}

// receipts checks the invariant: every receipt is well formed (its postings
// sum to zero and debit only its caller), is signed by the operator of its
// epoch, lies in an epoch already open, and is listed under every account it
// names. It sums each receipt's debits into credit and its earning postings
// into earned.
func (c *checker) receipts() error {
	return scan(c.txn, "r/", func(_ []byte, v []byte) error {
		var r Receipt
		if err := unmarshal(v, &r); err != nil {
			return err
		}
		c.receiptEpoch[r.ID] = r.Epoch
		c.prevBundle[r.ID] = signedPrev{r.Epoch, r.PrevBundle}
		if err := validate(&r); err != nil {
			c.bad("receipt %s: %v", r.ID, err)
		}
		if err := r.VerifySignature(); err != nil {
			c.bad("receipt %s: %v", r.ID, err)
		} else if signers := signersOf(c.spans, c.operator, r.Epoch); !slices.ContainsFunc(signers, func(s string) bool { return strings.EqualFold(s, r.Signer) }) {
			c.bad("receipt %s (epoch %d) is signed by %s, not the operator of its epoch %v", r.ID, r.Epoch, r.Signer, signers)
		}
		if r.Epoch == 0 || r.Epoch > c.open {
			c.bad("receipt %s is in epoch %d, the open epoch is %d", r.ID, r.Epoch, c.open)
		}
		for _, p := range r.Postings {
			if p.Amount.Sign() < 0 {
				sumInto(c.credit, p.Account, p.Amount)
			} else {
				sumInto(c.earned, p.Account, p.Amount)
			}
		}
		// Every account a receipt names lists it.
		for _, a := range receiptAccounts(&r) {
			if _, err := c.txn.Get(accountReceiptKey(a, r.Epoch, r.Time, r.ID)); err != nil {
				c.bad("receipt %s is missing from the receipts of %s (%v)", r.ID, a, err)
			}
		}
		return nil
	})
}

// epochIndex checks the invariant: every receipt is indexed under its own
// epoch and every index entry names a receipt. It counts the receipts
// indexed in each epoch.
func (c *checker) epochIndex() error {
	if err := scan(c.txn, "x/", func(k, _ []byte) error {
		if len(k) < 11 || k[10] != '/' {
			c.bad("malformed epoch index key %q", k)
			return nil
		}
		n, id := binary.BigEndian.Uint64(k[2:10]), string(k[11:])
		c.indexed[n]++
		switch e, ok := c.receiptEpoch[id]; {
		case !ok:
			c.bad("epoch %d indexes receipt %s, which does not exist", n, id)
		case e != n:
			c.bad("epoch %d indexes receipt %s, which says epoch %d", n, id, e)
		default:
			delete(c.receiptEpoch, id)
		}
		return nil
	}); err != nil {
		return err
	}
	for id, e := range c.receiptEpoch {
		c.bad("receipt %s (epoch %d) is missing from its epoch's index", id, e)
	}
	return nil
}

// accounts checks the invariant: every account's stored credit equals its
// deposits less its calls' debits, and its stored cumulative earnings equal
// its earning postings; neither is negative, except credit by at most the
// deposits a reorganisation undid. It sums the stored amounts.
func (c *checker) accounts() (err error) {
	// An account's credit is what is free to lease (c/) and what seats
	// hold leased (l/<account>/<seat>); its earnings, e/<account> and
	// each seat's e/<account>/<seat>.
	if c.creditTotal, err = c.storedAmounts("credit", []string{"c/", "l/"}, c.credit, c.undone); err != nil {
		return err
	}
	c.earnedTotal, err = c.storedAmounts("earnings", []string{"e/"}, c.earned, nil)
	return err
}

// storedAmounts compares each account's amounts stored under prefixes
// (at <prefix><account>, or at <prefix><account>/<seat> for one seat's
// part) with what the records sum to, want, allowing the debt in mayOwe,
// and returns their sum. No seat's part may be negative.
func (c *checker) storedAmounts(what string, prefixes []string, want, mayOwe map[string]*big.Int) (*big.Int, error) {
	total := new(big.Int)
	got := map[string]*big.Int{}
	for _, prefix := range prefixes {
		if err := scan(c.txn, prefix, func(k, v []byte) error {
			acct, seat, part := strings.Cut(string(k[len(prefix):]), "/")
			amt, err := parseAmount(v)
			if err != nil {
				return err
			}
			if !common.IsHexAddress(acct) {
				c.bad("%s is not an account", k)
			}
			if _, err := strconv.ParseUint(seat, 10, 16); part && err != nil || !part && prefix == "l/" {
				c.bad("%s is not an account's part in a seat", k)
			}
			if part && amt.Sign() < 0 {
				c.bad("%s is negative: %s", k, amt)
			}
			sumInto(got, acct, amt)
			total.Add(total, amt)
			return nil
		}); err != nil {
			return nil, err
		}
	}
	for acct, g := range got {
		if g.Sign() < 0 {
			if debt, limit := new(big.Int).Neg(g), mayOwe[acct]; limit == nil || debt.Cmp(limit) > 0 {
				c.bad("%s of %s is negative: %s", what, acct, g)
			}
		}
		w := want[acct]
		if w == nil {
			w = new(big.Int)
		}
		if g.Cmp(w) != 0 {
			c.bad("%s of %s is %s, its records sum to %s", what, acct, g, w)
		}
	}
	for acct, w := range want {
		if got[acct] == nil && w.Sign() != 0 {
			c.bad("%s of %s is missing, its records sum to %s", what, acct, w)
		}
	}
	return total, nil
}

// solvency checks the invariant: Σ credit + Σ cumulative earnings ≤
// Σ deposits credited, and Σ cumulative earnings alone ≤ Σ deposits: what
// the settlement tree pays can never exceed what the contract holds,
// whatever debts a reorganisation left.
func (c *checker) solvency() error {
	owed := new(big.Int).Add(c.creditTotal, c.earnedTotal)
	if owed.Cmp(c.deposited) > 0 {
		c.bad("insolvent: credit %s + earnings %s exceed the %s deposited", c.creditTotal, c.earnedTotal, c.deposited)
	}
	if c.earnedTotal.Cmp(c.deposited) > 0 {
		c.bad("insolvent: earnings %s exceed the %s deposited (debts from undone deposits: credit %s)", c.earnedTotal, c.deposited, c.creditTotal)
	}
	return nil
}

// runningTotals checks the invariant: the running totals Commit checks
// solvency against equal the sums of the records.
func (c *checker) runningTotals() error {
	t, err := totals(c.txn)
	if err != nil {
		return err
	}
	for _, t := range []struct {
		name      string
		got, want *big.Int
	}{{"deposited", t.Deposited, c.deposited}, {"credit", t.Credit, c.creditTotal}, {"earned", t.Earned, c.earnedTotal}} {
		if t.got.Cmp(t.want) != 0 {
			c.bad("running total %s is %s, the records sum to %s", t.name, t.got, t.want)
		}
	}
	return scan(c.txn, "t/spent/", func(k, v []byte) error {
		if a, err := parseAmount(v); err != nil || a.Sign() < 0 {
			c.bad("%s is %s: a seat cannot have spent less than nothing", k, v)
		}
		return nil
	})
}

func scan(txn kv.Txn, prefix string, fn func(k, v []byte) error) error {
	it := txn.NewIterator(kv.IterOptions{Prefix: []byte(prefix)})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		v, err := it.Value()
		if err != nil {
			return err
		}
		if err := fn(bytes.Clone(it.Key()), v); err != nil {
			return err
		}
	}
	return nil
}
