package chain

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/ledger/contracts"
)

// DepositEvent is a deposit seen on-chain.
type DepositEvent struct {
	Ref       string // "txhash:logindex", unique per deposit
	Block     uint64
	BlockHash string
	From      string
	Account   string
	Amount    *big.Int
}

// Deposit approves and deposits amount of key's tokens as credit for
// account, and returns the deposit as the chain recorded it.
func (c *Client) Deposit(ctx context.Context, key *ecdsa.PrivateKey, account string, amount *big.Int) (DepositEvent, error) {
	if _, err := c.send(ctx, key, c.token, c.tokenABI.PackApprove(common.HexToAddress(c.dep.Settlement), amount)); err != nil {
		return DepositEvent{}, err
	}
	var tx *types.Transaction
	err := retryPoolLag(ctx, func() (err error) {
		tx, err = bind.Transact(c.settlement, transactor(ctx, key, c.chainID), c.settleABI.PackDeposit(common.HexToAddress(account), amount))
		return err
	})
	if err != nil {
		return DepositEvent{}, c.revertErr(err)
	}
	rc, err := waitMined(ctx, c.eth, c.opts, tx.Hash())
	if err != nil {
		return DepositEvent{}, err
	}
	for _, lg := range rc.Logs {
		if ev, err := c.settleABI.UnpackDepositedEvent(lg); err == nil {
			return depositEvent(lg, ev), nil
		}
	}
	return DepositEvent{}, abi.Errorf(CodeChain, "deposit %s emitted no Deposited event", tx.Hash().Hex())
}

func depositEvent(lg *types.Log, ev *contracts.SettlementDeposited) DepositEvent {
	return DepositEvent{
		Ref:       fmt.Sprintf("%s:%d", lg.TxHash.Hex(), lg.Index),
		Block:     lg.BlockNumber,
		BlockHash: lg.BlockHash.Hex(),
		From:      ev.From.Hex(),
		Account:   ev.Account.Hex(),
		Amount:    ev.Amount,
	}
}

// Deposits returns the deposits made in blocks [from, to] (to 0 = latest).
func (c *Client) Deposits(ctx context.Context, from, to uint64) ([]DepositEvent, error) {
	q := ethereum.FilterQuery{
		FromBlock: new(big.Int).SetUint64(from),
		Addresses: []common.Address{common.HexToAddress(c.dep.Settlement)},
		Topics:    [][]common.Hash{{c.settleABI.GetABI().Events["Deposited"].ID}},
	}
	if to > 0 {
		q.ToBlock = new(big.Int).SetUint64(to)
	}
	logs, err := c.eth.FilterLogs(ctx, q)
	if err != nil {
		return nil, chainErr("filter deposits", err)
	}
	var out []DepositEvent
	for i := range logs {
		ev, err := c.settleABI.UnpackDepositedEvent(&logs[i])
		if err != nil {
			return nil, chainErr("decode deposit", err)
		}
		out = append(out, depositEvent(&logs[i], ev))
	}
	return out, nil
}
