package ledger

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tollgate-dev/tollgate/internal/kv"
)

// OperatorSpan says that Address signed receipts from epoch From on. The
// settlement contract can rotate the operator's key; receipts signed before
// stay the old key's.
type OperatorSpan struct {
	From    uint64 `json:"from"`
	Address string `json:"address"`
}

const operatorsPrefix = "m/operator/"

// operatorKey numbers the records in the order the keys took over.
func operatorKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(operatorsPrefix), seq)
}

// recordOperator notes that addr signs from the open epoch on, unless it is
// already the latest signer. It runs at open, before the writer starts.
func (l *Ledger) recordOperator(addr string, open uint64) error {
	spans, err := l.Operators(context.Background())
	if err != nil {
		return err
	}
	if n := len(spans); n > 0 && strings.EqualFold(spans[n-1].Address, addr) {
		return nil
	}
	return l.update(func(txn kv.Txn) error {
		return kv.SetJSON(txn, operatorKey(uint64(len(spans))), OperatorSpan{From: open, Address: addr})
	})
}

// Operators returns every operator key the ledger has signed with, in
// order, each with the epoch it started in.
func (l *Ledger) Operators(ctx context.Context) ([]OperatorSpan, error) {
	var out []OperatorSpan
	err := l.db.View(func(txn kv.Txn) error {
		it := txn.NewIterator(kv.IterOptions{Prefix: []byte(operatorsPrefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var s OperatorSpan
			if err := kv.ValueOf(it, func(v []byte) error { return json.Unmarshal(v, &s) }); err != nil {
				return err
			}
			if !common.IsHexAddress(s.Address) {
				return fmt.Errorf("ledger: operator record %x names %q", it.Key(), s.Address)
			}
			out = append(out, s)
		}
		return nil
	})
	return out, err
}

// signersOf returns who may have signed a receipt of epoch: each operator
// from its first epoch through the epoch its successor started in (a key
// replaced mid-epoch signed part of that epoch), or, for a ledger with no
// record of its operators, the configured operator.
func signersOf(spans []OperatorSpan, fallback string, epoch uint64) []string {
	var out []string
	for i, s := range spans {
		if epoch < s.From {
			continue
		}
		if i+1 < len(spans) && epoch > spans[i+1].From {
			continue
		}
		out = append(out, s.Address)
	}
	if len(spans) == 0 && fallback != "" {
		out = append(out, fallback)
	}
	return out
}
