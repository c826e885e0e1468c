package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"

	"github.com/tollgate-dev/tollgate/internal/kv"

	"github.com/tollgate-dev/tollgate/abi"
)

// Totals are the ledger's running sums.
type Totals struct {
	Deposited *big.Int // every deposit credited
	Credit    *big.Int // Σ credit
	Earned    *big.Int // Σ cumulative earnings
}

// Balance returns an account's credit: what it deposited less what its
// calls were charged, wherever it is leased. Earnings are never credit
// (see [Ledger.Earned]).
func (l *Ledger) Balance(ctx context.Context, account string) (*big.Int, error) {
	if l.seat < 0 && !l.readOnly {
		return l.spendable(account) // all of it, for a sole writer
	}
	var b *big.Int
	err := l.db.View(func(txn kv.Txn) (err error) {
		b, err = creditOf(txn, account)
		return err
	})
	return b, err
}

// spendable returns the credit this ledger spends account's calls from:
// the account's credit for a sole writer, its seat's lease when shared.
func (l *Ledger) spendable(account string) (*big.Int, error) {
	v, gen, ok := l.credits.get(account)
	if ok {
		return new(big.Int).Set(v), nil
	}
	var b *big.Int
	err := l.db.View(func(txn kv.Txn) (err error) {
		b, err = getAmount(txn, l.spendKey(account))
		return err
	})
	if err == nil && !l.readOnly {
		l.credits.fill(account, b, gen)
	}
	return b, err
}

// Earned returns an account's cumulative earnings.
func (l *Ledger) Earned(ctx context.Context, account string) (*big.Int, error) {
	var b *big.Int
	err := l.db.View(func(txn kv.Txn) (err error) {
		b, err = sumPrefixed(txn, earnedKey(account))
		return err
	})
	return b, err
}

// Totals returns the running sums solvency is checked against.
func (l *Ledger) Totals(ctx context.Context) (Totals, error) {
	var t Totals
	err := l.db.View(func(txn kv.Txn) (err error) {
		t, err = totals(txn)
		return err
	})
	return t, err
}

// totals reads the running sums: what the shared totals say, less what
// each seat's receipts moved from credit to earnings.
func totals(txn kv.Txn) (t Totals, err error) {
	if t.Deposited, err = getAmount(txn, depositedKey); err != nil {
		return t, err
	}
	if t.Credit, err = getAmount(txn, creditKey); err != nil {
		return t, err
	}
	if t.Earned, err = getAmount(txn, earnedTotKey); err != nil {
		return t, err
	}
	spent, err := spentTotal(txn)
	if err != nil {
		return t, err
	}
	t.Credit.Sub(t.Credit, spent)
	t.Earned.Add(t.Earned, spent)
	return t, nil
}

// solvent checks that after adding dCredit to Σ credit and dEarned to
// Σ cumulative earnings, the books owe no more than was deposited. A write
// that owes no more than before (a balanced receipt moves credit to
// earnings) keeps solvent books solvent, so it reads nothing: the totals
// are a prefix scan, and reading them for every receipt cost a node 3% of
// its CPU under load. Check and the epoch close still hold the books whole.
func solvent(txn kv.Txn, dCredit, dEarned *big.Int) error {
	if new(big.Int).Add(dCredit, dEarned).Sign() <= 0 {
		return nil
	}
	t, err := totals(txn)
	if err != nil {
		return err
	}
	owed := t.Credit.Add(t.Credit, dCredit)
	owed.Add(owed, t.Earned.Add(t.Earned, dEarned))
	if owed.Cmp(t.Deposited) > 0 {
		return abi.Errorf(CodeInsolvent, "credit and earnings would be %s against %s deposited", owed, t.Deposited)
	}
	return nil
}

func parseAmount(v []byte) (*big.Int, error) {
	a, ok := new(big.Int).SetString(string(v), 10)
	if !ok {
		return nil, fmt.Errorf("ledger: corrupt amount %q", v)
	}
	return a, nil
}

func getAmount(txn kv.Txn, key []byte) (*big.Int, error) {
	item, err := txn.Get(key)
	if errors.Is(err, kv.ErrNotFound) {
		return new(big.Int), nil
	}
	if err != nil {
		return nil, err
	}
	return parseAmount(item)
}

func addAmount(txn kv.Txn, key []byte, delta *big.Int) error {
	a, err := getAmount(txn, key)
	if err != nil {
		return err
	}
	return txn.Set(key, []byte(a.Add(a, delta).String()))
}

func unmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
