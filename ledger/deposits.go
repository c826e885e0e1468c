package ledger

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/kv"
)

// Deposit is a credit to an account from funds deposited on-chain.
type Deposit struct {
	Ref     string    `json:"ref"` // unique: e.g. the deposit's transaction hash and log index
	Account string    `json:"account"`
	Amount  *big.Int  `json:"amount"`
	Time    time.Time `json:"time"`
	// Block and BlockHash say where the deposit's log was read, so a reorg
	// that removes that block can undo it (see [Ledger.Reorg]).
	Block     uint64 `json:"block,omitempty"`
	BlockHash string `json:"block_hash,omitempty"`
}

// Undone is a deposit a chain reorganisation removed after it was credited.
type Undone struct {
	Deposit Deposit   `json:"deposit"`
	Time    time.Time `json:"time"`
	// Debt is how far the undo took the account's credit below zero: credit
	// it had already spent. The account can call nothing until it deposits
	// that much again.
	Debt *big.Int `json:"debt,omitempty"`
}

func depositBlockKey(block uint64, ref string) []byte {
	return append(binary.BigEndian.AppendUint64([]byte("DB/"), block), ref...)
}

func undoneKey(d Deposit) []byte { return []byte("U/" + d.Ref + "@" + d.BlockHash) }

// Credit records a deposit. A ref already credited is not credited again:
// ErrAlreadyExists is returned and nothing changes.
func (l *Ledger) Credit(ctx context.Context, d Deposit) error {
	if d.Amount == nil || d.Amount.Sign() <= 0 || d.Ref == "" || !common.IsHexAddress(d.Account) {
		return abi.Errorf(abi.CodeBadRequest, "ledger: deposit needs a ref, an account and a positive amount")
	}
	d.Time = time.Now().UTC()
	return l.write(ctx, func(txn kv.Txn) error {
		if _, err := txn.Get(depositKey(d.Ref)); err == nil {
			return abi.Errorf(abi.CodeAlreadyExists, "ledger: deposit %s already credited", d.Ref)
		} else if !errors.Is(err, kv.ErrNotFound) {
			return err
		}
		return l.creditTxn(txn, d)
	})
}

// CodeCursorMoved says the deposit cursor is no longer where a sync read it:
// another sync moved it.
const CodeCursorMoved abi.Code = "ledger_cursor_moved"

// CreditRange credits the deposits read from the blocks after from through
// to, and moves the cursor to to, in one transaction: a crash leaves either
// all of the range credited and the cursor past it, or none of it, so no
// credited deposit ever lies above the cursor, where a reorganisation would
// not look for it. It refuses with CodeCursorMoved if the cursor is not at
// from. Deposits already credited are skipped; it returns how many it
// credited.
func (l *Ledger) CreditRange(ctx context.Context, from Cursor, deps []Deposit, to Cursor) (int, error) {
	for _, d := range deps {
		if d.Amount == nil || d.Amount.Sign() <= 0 || d.Ref == "" || !common.IsHexAddress(d.Account) {
			return 0, abi.Errorf(abi.CodeBadRequest, "ledger: deposit needs a ref, an account and a positive amount")
		}
	}
	now := time.Now().UTC()
	n := 0
	err := l.write(ctx, func(txn kv.Txn) error {
		n = 0
		cur, err := depositCursor(txn)
		if err != nil {
			return err
		}
		if cur.Block != from.Block || common.HexToHash(cur.Hash) != common.HexToHash(from.Hash) {
			return abi.Errorf(CodeCursorMoved, "ledger: the deposit cursor is at %d, not %d", cur.Block, from.Block)
		}
		fresh := make([]Deposit, 0, len(deps))
		seen := map[string]bool{}
		for _, d := range deps {
			if seen[d.Ref] {
				continue
			}
			seen[d.Ref] = true
			if _, err := txn.Get(depositKey(d.Ref)); err == nil {
				continue
			} else if !errors.Is(err, kv.ErrNotFound) {
				return err
			}
			fresh = append(fresh, d)
		}
		for _, d := range fresh {
			d.Time = now
			if err := l.creditTxn(txn, d); err != nil {
				return err
			}
		}
		n = len(fresh)
		return setDepositCursor(txn, to)
	})
	return n, err
}

func (l *Ledger) creditTxn(txn kv.Txn, d Deposit) error {
	if err := kv.SetJSON(txn, depositKey(d.Ref), d); err != nil {
		return err
	}
	if d.Block > 0 {
		if err := txn.Set(depositBlockKey(d.Block, d.Ref), nil); err != nil {
			return err
		}
	}
	for _, k := range [][]byte{depositedKey, creditKey} {
		if err := addAmount(txn, k, d.Amount); err != nil {
			return err
		}
	}
	return l.addCredit(txn, d.Account, d.Amount)
}

// DepositsFrom returns the credited deposits read from blocks at or after
// block, in block order.
func (l *Ledger) DepositsFrom(ctx context.Context, block uint64) ([]Deposit, error) {
	var out []Deposit
	err := l.db.View(func(txn kv.Txn) error {
		it := txn.NewIterator(kv.IterOptions{Prefix: []byte("DB/")})
		defer it.Close()
		for it.Seek(depositBlockKey(block, "")); it.Valid(); it.Next() {
			ref := string(it.Key()[len("DB/")+8:])
			var d Deposit
			if err := kv.GetJSON(txn, depositKey(ref), &d); err != nil {
				return fmt.Errorf("ledger: deposit %s indexed by block: %w", ref, err)
			}
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

// Cursor is how far the chain's deposit logs have been read: every block
// through Block, whose hash was Hash (empty if unknown).
type Cursor struct {
	Block uint64
	Hash  string
}

// DepositCursor returns the deposit cursor (zero before the first sync).
func (l *Ledger) DepositCursor(ctx context.Context) (Cursor, error) {
	var c Cursor
	err := l.db.View(func(txn kv.Txn) (err error) {
		c, err = depositCursor(txn)
		return err
	})
	return c, err
}

func depositCursor(txn kv.Txn) (Cursor, error) {
	v, err := kv.GetBytes(txn, depositCursorKey)
	if errors.Is(err, kv.ErrNotFound) {
		return Cursor{}, nil
	} else if err != nil {
		return Cursor{}, err
	}
	switch len(v) {
	case 8:
		return Cursor{Block: binary.BigEndian.Uint64(v)}, nil
	case 8 + common.HashLength:
		return Cursor{Block: binary.BigEndian.Uint64(v), Hash: common.BytesToHash(v[8:]).Hex()}, nil
	}
	return Cursor{}, fmt.Errorf("ledger: corrupt deposit cursor")
}

func setDepositCursor(txn kv.Txn, c Cursor) error {
	v := binary.BigEndian.AppendUint64(nil, c.Block)
	if c.Hash != "" {
		v = append(v, common.HexToHash(c.Hash).Bytes()...)
	}
	return txn.Set(depositCursorKey, v)
}

// SetDepositCursor advances the cursor; it never moves it back (only
// [Ledger.Reorg] does).
func (l *Ledger) SetDepositCursor(ctx context.Context, c Cursor) error {
	return l.write(ctx, func(txn kv.Txn) error {
		cur, err := depositCursor(txn)
		if err != nil {
			return err
		}
		if cur.Block > c.Block {
			return nil
		}
		return setDepositCursor(txn, c)
	})
}

// Reorg undoes deposits whose blocks left the canonical chain and moves the
// cursor back to the last block both chains share, in one transaction, so a
// crash leaves either none of it or all of it. Each undone deposit takes its
// amount off its account's credit and the deposits total; credit the
// account already spent leaves it in debt (negative credit), recorded with
// the undo. Deposits re-mined in the new chain are credited again when the
// sync reads them, under their new refs.
func (l *Ledger) Reorg(ctx context.Context, undo []Deposit, back Cursor) error {
	now := time.Now().UTC()
	return l.write(ctx, func(txn kv.Txn) error {
		cur, err := depositCursor(txn)
		if err != nil {
			return err
		}
		if back.Block > cur.Block {
			return abi.Errorf(abi.CodeBadRequest, "ledger: a reorg moves the deposit cursor back, not from %d to %d", cur.Block, back.Block)
		}
		for _, d := range undo {
			var stored Deposit
			if err := kv.GetJSON(txn, depositKey(d.Ref), &stored); errors.Is(err, kv.ErrNotFound) {
				continue // already undone
			} else if err != nil {
				return err
			}
			if stored.BlockHash != d.BlockHash {
				continue // credited again from the new chain meanwhile
			}
			neg := new(big.Int).Neg(stored.Amount)
			for _, k := range [][]byte{depositedKey, creditKey} {
				if err := addAmount(txn, k, neg); err != nil {
					return err
				}
			}
			if err := l.addCredit(txn, stored.Account, neg); err != nil {
				return err
			}
			u := Undone{Deposit: stored, Time: now}
			if credit, err := creditOf(txn, stored.Account); err != nil {
				return err
			} else if credit.Sign() < 0 {
				u.Debt = credit.Neg(credit)
			}
			if err := kv.SetJSON(txn, undoneKey(stored), u); err != nil {
				return err
			}
			if err := txn.Delete(depositKey(stored.Ref)); err != nil {
				return err
			}
			if err := txn.Delete(depositBlockKey(stored.Block, stored.Ref)); err != nil {
				return err
			}
		}
		return setDepositCursor(txn, back)
	})
}
