package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/big"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/registry"
)

// WithdrawResult is a withdrawal's receipt; Replayed when a retry of the
// same request id was answered with the receipt it already had.
type WithdrawResult struct {
	Receipt  *ledger.Receipt
	Replayed bool
}

// Withdraw takes back amount of the caller's unspent credit: it becomes the
// caller's claimable earnings when the open epoch closes, and is claimed
// on-chain like any earnings. Credit held by the caller's calls in flight
// cannot be withdrawn. A request id makes it safe to retry.
func (h *Host) Withdraw(ctx context.Context, caller string, amount *big.Int, requestID string) (*WithdrawResult, error) {
	caller, err := registry.CanonicalAddress(caller)
	if err != nil {
		return nil, err
	}
	if len(requestID) > MaxRequestIDBytes {
		return nil, abi.Errorf(abi.CodeBadRequest, "request id is %d bytes, limit %d", len(requestID), MaxRequestIDBytes)
	}
	if amount == nil || amount.Sign() <= 0 {
		return nil, abi.Errorf(abi.CodeBadRequest, "withdraw a positive amount")
	}
	id := withdrawalID(caller, requestID)
	replay := func(rc *ledger.Receipt) (*WithdrawResult, error) {
		if !rc.IsWithdrawal() || rc.Debit().Cmp(amount) != 0 {
			return nil, abi.Errorf(CodeRequestConflict, "request id %q already answered another request; use a new id", requestID)
		}
		return &WithdrawResult{Receipt: rc, Replayed: true}, nil
	}
	if rc, err := h.led.Receipt(ctx, id); err == nil {
		return replay(rc)
	} else if abi.CodeOf(err) != abi.CodeNotFound {
		return nil, err
	}
	rc, err := h.led.Withdraw(context.WithoutCancel(ctx), ledger.Withdrawal{ID: id, Account: caller, Amount: amount, Domain: h.domain()})
	err = h.shortOfCredit(ctx, caller, amount, "the withdrawal asks for", err)
	if abi.CodeOf(err) == abi.CodeAlreadyExists {
		if prev, perr := h.led.Receipt(ctx, id); perr == nil {
			return replay(prev)
		}
	}
	if err != nil {
		return nil, err
	}
	h.logger.Info("withdrew", "id", id, "caller", caller, "amount", amount)
	return &WithdrawResult{Receipt: rc}, nil
}

// withdrawalID names a caller's withdrawal request, apart from its
// invocations' ids.
func withdrawalID(caller, requestID string) string {
	if requestID == "" {
		return newID()
	}
	s := sha256.Sum256([]byte("withdraw\x00" + caller + "\x00" + requestID))
	return hex.EncodeToString(s[:16])
}
