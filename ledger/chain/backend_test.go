package chain_test

import (
	"context"
	"math/big"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/ledger/chain"
)

// countingBackend is the embedded chain's client seen only as a
// chain.Backend. It counts the transactions and log queries that pass
// through it, so a test can tell that the client used the backend it was
// given for everything it sent and read.
type countingBackend struct {
	chain.Backend
	sent, filtered atomic.Int64
}

func (b *countingBackend) SendTransaction(ctx context.Context, tx *types.Transaction) error {
	b.sent.Add(1)
	return b.Backend.SendTransaction(ctx, tx)
}

func (b *countingBackend) FilterLogs(ctx context.Context, q ethereum.FilterQuery) ([]types.Log, error) {
	b.filtered.Add(1)
	return b.Backend.FilterLogs(ctx, q)
}

// TestClientRunsOnAnyBackend deploys, funds, deposits and reads back
// through a Backend that is not an *ethclient.Client, on the embedded chain.
func TestClientRunsOnAnyBackend(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	operator, caller := newKey(t), newKey(t)
	node, err := chain.StartNode(t.TempDir(), crypto.PubkeyToAddress(operator.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	b := &countingBackend{Backend: node.Client()}

	dep, err := chain.Deploy(ctx, b, operator)
	if err != nil {
		t.Fatal(err)
	}
	c, err := chain.Attach(ctx, b, dep)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendETH(ctx, operator, addr(caller), big.NewInt(1e18)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Mint(ctx, operator, addr(caller), big.NewInt(1000)); err != nil {
		t.Fatal(err)
	}
	d, err := c.Deposit(ctx, caller, addr(caller), big.NewInt(400))
	if err != nil {
		t.Fatal(err)
	}
	// deploy token, deploy settlement, fund, mint, approve, deposit
	if got := b.sent.Load(); got != 6 {
		t.Errorf("%d transactions went through the backend, want 6", got)
	}

	deps, err := c.Deposits(ctx, dep.Block, 0)
	if err != nil || len(deps) != 1 || deps[0].Ref != d.Ref || deps[0].Amount.Cmp(big.NewInt(400)) != 0 {
		t.Fatalf("deposits = %+v, %v; want the one of 400 made", deps, err)
	}
	if b.filtered.Load() == 0 {
		t.Error("deposits were read without a log query through the backend")
	}
	if got, err := c.TotalDeposited(ctx); err != nil || got.Cmp(big.NewInt(400)) != 0 {
		t.Errorf("total deposited = %v, %v; want 400", got, err)
	}
	if got, err := c.TokenBalance(ctx, addr(caller)); err != nil || got.Cmp(big.NewInt(600)) != 0 {
		t.Errorf("caller holds %v, %v; want 600", got, err)
	}
	if op, err := c.Operator(ctx); err != nil || op != addr(operator) {
		t.Errorf("operator = %q, %v; want %s", op, err, addr(operator))
	}
	if head, err := c.Head(ctx); err != nil || head < d.Block {
		t.Errorf("head = %d, %v; want at least the deposit's block %d", head, err, d.Block)
	}
}
