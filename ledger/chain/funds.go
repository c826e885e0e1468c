package chain

import (
	"context"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tollgate-dev/tollgate/abi"
)

// CodeUnfunded says an account holds too little of the chain's coin to pay
// for the transactions it must send.
const CodeUnfunded abi.Code = "chain_unfunded"

// Gas an operator spends: deploying the token and the settlement contract,
// and posting one root (measured by BenchmarkSettlementGas, rounded up).
const (
	DeployGas   = 4_000_000
	PostRootGas = 600_000
)

// NeededBalance is what the operator should hold at today's fees to deploy
// (if deploy) and post ten roots: twice the base fee plus the suggested tip,
// per gas, as the transactions will offer.
func NeededBalance(ctx context.Context, ec Backend, deploy bool) (*big.Int, error) {
	head, err := ec.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, chainErr("head", err)
	}
	tip, err := ec.SuggestGasTipCap(ctx)
	if err != nil {
		return nil, chainErr("gas tip", err)
	}
	price := new(big.Int).Set(tip)
	if head.BaseFee != nil {
		price.Add(price, new(big.Int).Mul(head.BaseFee, big.NewInt(2)))
	}
	gas := int64(10 * PostRootGas)
	if deploy {
		gas += DeployGas
	}
	return price.Mul(price, big.NewInt(gas)), nil
}

// AwaitFunds returns once account holds at least need, polling every
// interval until wait has passed; then it fails with CodeUnfunded. say is
// called once, before the first wait, so a person can send the funds.
func AwaitFunds(ctx context.Context, ec Backend, account common.Address, need *big.Int, wait, interval time.Duration, say func(have *big.Int)) error {
	deadline := time.Now().Add(wait)
	for said := false; ; said = true {
		have, err := ec.BalanceAt(ctx, account, nil)
		if err != nil {
			return chainErr("balance", err)
		}
		if have.Cmp(need) >= 0 {
			return nil
		}
		if !said {
			say(have)
		}
		if !time.Now().Before(deadline) {
			return abi.Errorf(CodeUnfunded, "%s holds %s wei; it needs at least %s wei to pay for its transactions: send it some and start again", account.Hex(), have, need)
		}
		select {
		case <-ctx.Done():
			return chainErr("wait for funds", ctx.Err())
		case <-time.After(min(interval, time.Until(deadline))):
		}
	}
}
