package ledger

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/kv"
)

// Every receipt is indexed under each account it names (its caller and
// every account a posting pays), newest first, so an account's calls and
// earnings are listed without scanning the books:
//
//	A/<account>/<^epoch, 8 bytes big-endian><^unix nanoseconds, 8 bytes><receipt id>
//
// The epoch and the time are stored complemented so a forward scan starts
// at the newest; receipts of the same nanosecond follow in id order, so the
// order is total and a page token resumes it exactly. (An older layout,
// a/<account>/<^epoch><id>, listed an epoch's receipts in id order, which
// is no order a reader can follow; its keys are left in place unread.)
func accountPrefix(account string) []byte { return []byte("A/" + account + "/") }

func accountReceiptKey(account string, epoch uint64, t time.Time, id string) []byte {
	k := binary.BigEndian.AppendUint64(accountPrefix(account), ^epoch)
	k = binary.BigEndian.AppendUint64(k, ^uint64(t.UnixNano()))
	return append(k, id...)
}

// accountIndexKey marks a ledger whose receipts are all indexed by account
// in the current layout.
var accountIndexKey = []byte("m/account-index-by-time")

// indexReceipt writes r's account index entries.
func indexReceipt(txn kv.Txn, r *Receipt) error {
	for _, a := range receiptAccounts(r) {
		if err := txn.Set(accountReceiptKey(a, r.Epoch, r.Time, r.ID), nil); err != nil {
			return err
		}
	}
	return nil
}

// receiptAccounts returns the accounts r names, once each: its caller and
// every account a posting pays.
func receiptAccounts(r *Receipt) []string {
	out := []string{r.Caller}
	for _, p := range r.Postings {
		if !slices.Contains(out, p.Account) {
			out = append(out, p.Account)
		}
	}
	return out
}

// indexAccounts builds the account index of a ledger written before it had
// one, in one pass, once.
func (l *Ledger) indexAccounts() error {
	var done bool
	if err := l.db.View(func(txn kv.Txn) error {
		_, err := txn.Get(accountIndexKey)
		done = err == nil
		if errors.Is(err, kv.ErrNotFound) {
			return nil
		}
		return err
	}); err != nil || done {
		return err
	}
	var keys [][]byte
	err := l.db.View(func(txn kv.Txn) error {
		return scan(txn, "r/", func(k, v []byte) error {
			var r Receipt
			if err := unmarshal(v, &r); err != nil {
				return fmt.Errorf("receipt %s: %w", k, err)
			}
			for _, a := range receiptAccounts(&r) {
				keys = append(keys, accountReceiptKey(a, r.Epoch, r.Time, r.ID))
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("ledger: index receipts by account: %w", err)
	}
	// In chunks, each well inside a transaction's limit; the mark that the
	// index is whole goes last, so a crash midway redoes the pass.
	for chunk := range slices.Chunk(keys, 10_000) {
		if err := l.update(func(txn kv.Txn) error {
			for _, k := range chunk {
				if err := txn.Set(k, nil); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return fmt.Errorf("ledger: index receipts by account: %w", err)
		}
	}
	return l.update(func(txn kv.Txn) error { return txn.Set(accountIndexKey, []byte{1}) })
}

// AccountReceipt is a receipt as one account sees it: what it was charged
// and what it earned by it.
type AccountReceipt struct {
	Receipt *Receipt
	Charged *big.Int
	Earned  *big.Int
}

// AccountReceipts returns up to limit receipts naming account, newest
// first (by epoch, then by time, then by id), from epoch (0: all epochs), after the page token a previous call
// returned ("" to start). next is "" on the last page.
func (l *Ledger) AccountReceipts(ctx context.Context, account string, epoch uint64, after string, limit int) (out []AccountReceipt, next string, err error) {
	prefix := accountPrefix(account)
	if epoch != 0 {
		prefix = binary.BigEndian.AppendUint64(prefix, ^epoch)
	}
	var start []byte
	if after != "" {
		k, err := hex.DecodeString(after)
		if err != nil || len(k) < len(prefix) || string(k[:len(prefix)]) != string(prefix) {
			return nil, "", abi.Errorf(abi.CodeBadRequest, "ledger: page token %q is not one this listing gave", after)
		}
		start = append(k, 0)
	}
	err = l.db.View(func(txn kv.Txn) error {
		it := txn.NewIterator(kv.IterOptions{Prefix: prefix})
		defer it.Close()
		if start == nil {
			it.Rewind()
		} else {
			it.Seek(start)
		}
		for ; it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			k := bytes.Clone(it.Key())
			if len(out) == limit {
				next = hex.EncodeToString(lastKey(out, account))
				return nil
			}
			id := string(k[len(accountPrefix(account))+16:])
			var r Receipt
			if err := kv.GetJSON(txn, receiptKey(id), &r); err != nil {
				return fmt.Errorf("ledger: receipt %s: %w", id, err)
			}
			ar := AccountReceipt{Receipt: &r, Charged: new(big.Int), Earned: new(big.Int)}
			for _, p := range r.Postings {
				switch {
				case p.Account != account:
				case p.Amount.Sign() < 0:
					ar.Charged.Sub(ar.Charged, p.Amount)
				default:
					ar.Earned.Add(ar.Earned, p.Amount)
				}
			}
			out = append(out, ar)
		}
		return nil
	})
	return out, next, err
}

func lastKey(out []AccountReceipt, account string) []byte {
	r := out[len(out)-1].Receipt
	return accountReceiptKey(account, r.Epoch, r.Time, r.ID)
}

// Epochs returns up to limit closed epochs, newest first, below before
// (0: from the newest).
func (l *Ledger) Epochs(ctx context.Context, before uint64, limit int) ([]*Epoch, error) {
	open, err := l.OpenEpoch(ctx)
	if err != nil {
		return nil, err
	}
	n := open - 1
	if before != 0 && before-1 < n {
		n = before - 1
	}
	var out []*Epoch
	for ; n >= 1 && len(out) < limit; n-- {
		e, err := l.Epoch(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}
