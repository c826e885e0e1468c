package ledger

import (
	"context"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/kv"

	"github.com/tollgate-dev/tollgate/abi"
)

// MinReceiptPrefix is the fewest hex digits [Ledger.ReceiptByPrefix]
// accepts: fewer would match too many receipts to be worth a lookup.
const MinReceiptPrefix = 8

// CodeAmbiguous says a receipt id prefix matches more than one receipt.
const CodeAmbiguous abi.Code = "ambiguous_prefix"

// ReceiptByPrefix returns the receipt whose id is id or, if none is, the one
// receipt whose id starts with id, which must then be at least
// MinReceiptPrefix hex digits. A prefix shared by several receipts is
// refused with CodeAmbiguous, saying how many (counted up to 100).
func (l *Ledger) ReceiptByPrefix(ctx context.Context, id string) (*Receipt, error) {
	r, err := l.Receipt(ctx, id)
	if abi.CodeOf(err) != abi.CodeNotFound {
		return r, err
	}
	if len(id) < MinReceiptPrefix || strings.Trim(strings.ToLower(id), "0123456789abcdef") != "" {
		return nil, err
	}
	prefix := receiptKey(strings.ToLower(id))
	var match string
	n := 0
	err = l.db.View(func(txn kv.Txn) error {
		it := txn.NewIterator(kv.IterOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid() && n < 100; it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			match = string(it.Key()[len("r/"):])
			n++
		}
		return nil
	})
	switch {
	case err != nil:
		return nil, err
	case n == 0:
		return nil, abi.Errorf(abi.CodeNotFound, "ledger: no receipt id starts with %s", id)
	case n > 1:
		more := ""
		if n == 100 {
			more = " or more"
		}
		return nil, abi.Errorf(CodeAmbiguous, "ledger: %d%s receipts have ids starting with %s: give more of the id", n, more, id)
	}
	return l.Receipt(ctx, match)
}
