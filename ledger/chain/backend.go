package chain

import (
	"context"
	"math/big"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/tollgate-dev/tollgate/abi"
)

// Backend is what a [Client] needs of an EVM node: to call, transact with
// and deploy contracts (go-ethereum's bind backends), and to read the chain
// id, the head, and an account's balance. An [*ethclient.Client], as [Dial]
// and [Node.Client] return, is one.
type Backend interface {
	bind.ContractBackend
	bind.DeployBackend
	ethereum.ChainIDReader
	ethereum.BlockNumberReader
	BalanceAt(ctx context.Context, account common.Address, blockNumber *big.Int) (*big.Int, error)
}

var _ Backend = (*ethclient.Client)(nil)

// Dial connects to an EVM node's RPC endpoint (http, ws or ipc).
func Dial(ctx context.Context, url string) (*ethclient.Client, error) {
	c, err := ethclient.DialContext(ctx, url)
	if err != nil {
		return nil, abi.Wrap(CodeChain, err, "dial %s", url)
	}
	return c, nil
}
