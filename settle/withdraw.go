package settle

import (
	"context"
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
func (s *Settler) Withdraw(ctx context.Context, caller string, amount *big.Int, requestID string) (*WithdrawResult, error) {
	caller, err := registry.CanonicalAddress(caller)
	if err != nil {
		return nil, err
	}
	id, err := ledger.RequestKey(ledger.RequestWithdraw, caller, requestID)
	if err != nil {
		return nil, err
	}
	if amount == nil || amount.Sign() <= 0 {
		return nil, abi.Errorf(abi.CodeBadRequest, "withdraw a positive amount")
	}
	replay := func(rc *ledger.Receipt) (*WithdrawResult, error) {
		if !rc.IsWithdrawal() || rc.Debit().Cmp(amount) != 0 {
			return nil, abi.Errorf(ledger.CodeRequestConflict, "request id %q already answered another request; use a new id", requestID)
		}
		return &WithdrawResult{Receipt: rc, Replayed: true}, nil
	}
	if rc, err := s.led.Receipt(ctx, id); err == nil {
		return replay(rc)
	} else if abi.CodeOf(err) != abi.CodeNotFound {
		return nil, err
	}
	rc, err := s.led.Withdraw(context.WithoutCancel(ctx), ledger.Withdrawal{ID: id, Account: caller, Amount: amount, Domain: s.Domain()})
	err = s.led.ExplainShort(ctx, caller, amount, "the withdrawal asks for", err)
	if abi.CodeOf(err) == abi.CodeAlreadyExists {
		if prev, perr := s.led.Receipt(ctx, id); perr == nil {
			return replay(prev)
		}
	}
	if err != nil {
		return nil, err
	}
	s.logger.Info("withdrew", "id", id, "caller", caller, "amount", amount)
	return &WithdrawResult{Receipt: rc}, nil
}
