package ledger

import (
	"context"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tollgate-dev/tollgate/abi"
)

// Withdrawals. A caller takes back credit it has not spent by turning it
// into claimable cumulative earnings of its own account: the next root pays
// it out through the same claim as any earning, so the contract needs no
// second way for tokens to leave. A withdrawal is a signed receipt like an
// invocation's, so it joins its epoch's bundle and is re-checked by verify.
const (
	KindWithdrawal = "withdrawal" // the caller's credit taken back
	KindRefund     = "refund"     // the same amount, claimable on-chain
	// MethodWithdraw is the method of a withdrawal receipt.
	MethodWithdraw = "withdraw"
)

// WithdrawalPostings are the postings of a withdrawal of amount by account:
// its credit down, its cumulative earnings up, by the same amount.
func WithdrawalPostings(account string, amount *big.Int) []Posting {
	return []Posting{
		{Account: account, Kind: KindWithdrawal, Amount: new(big.Int).Neg(amount)},
		{Account: account, Kind: KindRefund, Amount: new(big.Int).Set(amount)},
	}
}

// IsWithdrawal reports whether r is a withdrawal receipt.
func (r *Receipt) IsWithdrawal() bool { return r.Method == MethodWithdraw }

// Withdrawal is a request to take back unspent credit.
type Withdrawal struct {
	ID      string // the receipt id; a retry with the same id is answered with the same receipt
	Account string
	Amount  *big.Int
	Domain  Domain // the receipt's signing domain
}

// Withdraw moves amount of account's free credit (credit not held by calls
// in flight) into its claimable cumulative earnings, in one signed receipt
// of the open epoch. Credit a running call has reserved cannot be
// withdrawn, and a call cannot reserve what a withdrawal holds: both go
// through the same reservations, so their sum never exceeds the credit.
func (l *Ledger) Withdraw(ctx context.Context, w Withdrawal) (*Receipt, error) {
	if w.ID == "" || w.Amount == nil || w.Amount.Sign() <= 0 || !common.IsHexAddress(w.Account) {
		return nil, abi.Errorf(abi.CodeBadRequest, "ledger: a withdrawal needs an id, an account and a positive amount")
	}
	if common.HexToAddress(w.Account).Hex() != w.Account {
		return nil, abi.Errorf(abi.CodeBadRequest, "ledger: withdrawal account %q is not in checksum form", w.Account)
	}
	// A retry is answered as such before it can be refused for credit it
	// already withdrew (Commit checks the id again, atomically).
	if _, err := l.Receipt(ctx, w.ID); err == nil {
		return nil, abi.Errorf(abi.CodeAlreadyExists, "ledger: withdrawal %s exists", w.ID)
	}
	res, err := l.Reserve(ctx, w.Account, w.Amount)
	if err != nil {
		return nil, err
	}
	d := w.Domain
	r := &Receipt{
		ID: w.ID, Caller: w.Account, Method: MethodWithdraw,
		Postings: WithdrawalPostings(w.Account, w.Amount),
		Time:     time.Now().UTC(), Domain: &d,
	}
	if err := l.Commit(ctx, r, nil, res); err != nil {
		return nil, err
	}
	return r, nil
}

// validateWithdrawal checks a withdrawal receipt's shape: it reads nothing,
// runs nothing, and moves one positive amount from the caller's credit to
// the caller's earnings.
func validateWithdrawal(r *Receipt) error {
	if r.Agent != "" || r.Attribution != "" || len(r.Accesses) != 0 || len(r.Scores) != 0 || len(r.Datanets) != 0 || r.OutputHash != "" || r.InputHash != "" {
		return abi.Errorf(CodeUnbalanced, "ledger: withdrawal %s records a call", r.ID)
	}
	if len(r.Postings) != 2 || r.Postings[1].Amount == nil || r.Postings[1].Amount.Sign() <= 0 {
		return abi.Errorf(CodeUnbalanced, "ledger: withdrawal %s is not one positive amount", r.ID)
	}
	want := WithdrawalPostings(r.Caller, r.Postings[1].Amount)
	for i, p := range r.Postings {
		if p.Account != want[i].Account || p.Kind != want[i].Kind || p.Amount == nil || p.Amount.Cmp(want[i].Amount) != 0 || p.Memo != "" {
			return abi.Errorf(CodeUnbalanced, "ledger: withdrawal %s moves money other than the caller's credit to its earnings", r.ID)
		}
	}
	return nil
}
