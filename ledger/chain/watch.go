package chain

import (
	"context"
	"errors"
	"math/big"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/tollgate-dev/tollgate/abi"
)

// Head returns the number of the node's latest block.
func (c *Client) Head(ctx context.Context) (uint64, error) {
	n, err := c.eth.BlockNumber(ctx)
	if err != nil {
		return 0, chainErr("head", err)
	}
	return n, nil
}

// BlockHash returns the hash of the canonical block number n, or "" if the
// chain has no such block (it is shorter than that).
func (c *Client) BlockHash(ctx context.Context, n uint64) (string, error) {
	h, err := c.eth.HeaderByNumber(ctx, new(big.Int).SetUint64(n))
	if errors.Is(err, ethereum.NotFound) {
		return "", nil
	}
	if err != nil {
		return "", chainErr("header", err)
	}
	return h.Hash().Hex(), nil
}

// RootOf returns the root and bundle hash posted for epoch, read from the
// contract's RootPosted and RootVetoed events; found is false if that epoch
// was never posted, or its root was vetoed.
func (c *Client) RootOf(ctx context.Context, epoch uint64) (root, bundle string, found bool, err error) {
	root, bundle, _, found, err = c.rootOf(ctx, epoch)
	return root, bundle, found, err
}

// PostTxOf returns the transaction that posted epoch's root, if it stands.
func (c *Client) PostTxOf(ctx context.Context, epoch uint64) (tx string, found bool, err error) {
	_, _, tx, found, err = c.rootOf(ctx, epoch)
	return tx, found, err
}

func (c *Client) rootOf(ctx context.Context, epoch uint64) (root, bundle, tx string, found bool, err error) {
	q := ethereum.FilterQuery{
		FromBlock: new(big.Int).SetUint64(c.dep.Block),
		Addresses: []common.Address{common.HexToAddress(c.dep.Settlement)},
		Topics: [][]common.Hash{
			{c.settleABI.GetABI().Events["RootPosted"].ID, c.settleABI.GetABI().Events["RootVetoed"].ID},
			{common.BigToHash(new(big.Int).SetUint64(epoch))},
		},
	}
	logs, err := c.filterLogs(ctx, q)
	if err != nil {
		return "", "", "", false, chainErr("filter roots", err)
	}
	// In order: a veto (or a rotation that dropped it) undoes the post.
	for i := range logs {
		if ev, err := c.settleABI.UnpackRootPostedEvent(&logs[i]); err == nil {
			root, bundle, tx, found = common.Hash(ev.Root).Hex(), common.Hash(ev.Bundle).Hex(), logs[i].TxHash.Hex(), true
		} else if _, err := c.settleABI.UnpackRootVetoedEvent(&logs[i]); err == nil {
			root, bundle, tx, found = "", "", "", false
		} else {
			return "", "", "", false, chainErr("decode root", err)
		}
	}
	return root, bundle, tx, found, nil
}

// OperatorAt returns the operator whose key signs the receipts of epoch:
// the last OperatorChanged event whose fromEpoch is at most epoch.
func (c *Client) OperatorAt(ctx context.Context, epoch uint64) (string, error) {
	q := ethereum.FilterQuery{
		FromBlock: new(big.Int).SetUint64(c.dep.Block),
		Addresses: []common.Address{common.HexToAddress(c.dep.Settlement)},
		Topics:    [][]common.Hash{{c.settleABI.GetABI().Events["OperatorChanged"].ID}},
	}
	logs, err := c.filterLogs(ctx, q)
	if err != nil {
		return "", chainErr("filter operator changes", err)
	}
	op := ""
	for i := range logs {
		ev, err := c.settleABI.UnpackOperatorChangedEvent(&logs[i])
		if err != nil {
			return "", chainErr("decode operator change", err)
		}
		if ev.FromEpoch.Cmp(new(big.Int).SetUint64(epoch)) <= 0 {
			op = ev.Operator.Hex()
		}
	}
	if op == "" {
		return "", abi.Errorf(CodeChain, "no operator for epoch %d in the contract's events", epoch)
	}
	return op, nil
}

// filterLogs runs q from its FromBlock to the head in ranges of at most
// LogRange blocks, so a long-lived deployment can be read through an
// RPC endpoint that limits the range of a query.
func (c *Client) filterLogs(ctx context.Context, q ethereum.FilterQuery) ([]types.Log, error) {
	head, err := c.eth.BlockNumber(ctx)
	if err != nil {
		return nil, err
	}
	var out []types.Log
	n := c.opts.maxLogBlocks
	for from := q.FromBlock.Uint64(); from <= head; from += n {
		q.FromBlock, q.ToBlock = new(big.Int).SetUint64(from), new(big.Int).SetUint64(min(from+n-1, head))
		logs, err := c.eth.FilterLogs(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, logs...)
	}
	return out, nil
}
