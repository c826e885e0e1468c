package host

import (
	"context"
	"math/big"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/tgt"
)

// shortOfCredit restates an insufficient-credit error from the ledger in
// TGT, with what the account has and what it needs; other errors pass
// through unchanged.
func (h *Host) shortOfCredit(ctx context.Context, account string, need *big.Int, what string, err error) error {
	if abi.CodeOf(err) != abi.CodeInsufficientCredit {
		return err
	}
	bal, berr := h.led.Balance(ctx, account)
	if berr != nil {
		return err
	}
	return &abi.Error{Code: abi.CodeInsufficientCredit, Cause: err,
		Message: "insufficient credit: " + account + " has " + tgt.WithUnits(bal) + " of credit (less what calls in flight hold), and " + what + " " + tgt.WithUnits(need)}
}
