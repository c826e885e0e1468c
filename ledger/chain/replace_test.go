package chain_test

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/ledger/chain"
)

// A transaction whose fees the chain will not take stays unmined; the
// client replaces it, same nonce, at market fees, records the replacement
// as the post's intent before sending it, and the root lands once.
func TestStuckTransactionIsReplaced(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	operator := newKey(t)
	node, err := chain.StartNode(t.TempDir(), crypto.PubkeyToAddress(operator.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	dep, err := chain.Deploy(ctx, node.Client(), operator)
	if err != nil {
		t.Fatal(err)
	}
	// One wei of tip and fee cap: below the base fee and the miner's
	// minimum tip, never mined as sent.
	c, err := chain.Attach(ctx, node.Client(), dep, chain.WithReplaceAfter(300*time.Millisecond), chain.WithFirstFees(big.NewInt(1), big.NewInt(1)))
	if err != nil {
		t.Fatal(err)
	}
	var intents []string
	root := common.HexToHash("0x1234").Hex()
	tx, err := c.PostRoot(ctx, operator, 1, root, big.NewInt(0), ledger.ZeroBundle, func(tx, raw string) error {
		intents = append(intents, tx)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(intents) < 2 || intents[len(intents)-1] != tx || intents[0] == tx {
		t.Fatalf("mined %s; intents recorded %v: want the stuck one first and the mined replacement last", tx, intents)
	}
	rc, err := node.Client().TransactionReceipt(ctx, common.HexToHash(tx))
	if err != nil || rc.Status != 1 {
		t.Fatalf("replacement receipt %v %v", rc, err)
	}
	if _, err := node.Client().TransactionReceipt(ctx, common.HexToHash(intents[0])); err == nil {
		t.Fatal("the stuck transaction was mined too")
	}
	if got, _, found, err := c.RootOf(ctx, 1); err != nil || !found || got != root {
		t.Fatalf("root of epoch 1: %s %v %v", got, found, err)
	}
}

// If another transaction of the same key takes the nonce of a stuck one,
// no version of the stuck one can be mined: the client says so with
// CodeSuperseded instead of replacing it for ever.
func TestSupersededTransactionIsReported(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	operator := newKey(t)
	node, err := chain.StartNode(t.TempDir(), crypto.PubkeyToAddress(operator.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	ec := node.Client()
	dep, err := chain.Deploy(ctx, ec, operator)
	if err != nil {
		t.Fatal(err)
	}
	stuck, err := chain.Attach(ctx, ec, dep, chain.WithReplaceAfter(500*time.Millisecond), chain.WithFirstFees(big.NewInt(1), big.NewInt(1)))
	if err != nil {
		t.Fatal(err)
	}
	nonce, err := ec.PendingNonceAt(ctx, crypto.PubkeyToAddress(operator.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := stuck.PostRoot(ctx, operator, 1, common.HexToHash("0x1").Hex(), big.NewInt(0), ledger.ZeroBundle, nil)
		done <- err
	}()
	// Meanwhile the same key sends something else with the same nonce, at
	// market fees; it replaces the stuck one in the pool and is mined.
	time.Sleep(100 * time.Millisecond)
	head, _ := ec.HeaderByNumber(ctx, nil)
	to := crypto.PubkeyToAddress(operator.PublicKey)
	other, err := types.SignNewTx(operator, types.LatestSignerForChainID(stuck.ChainID()), &types.DynamicFeeTx{
		ChainID: stuck.ChainID(), Nonce: nonce, GasTipCap: big.NewInt(1e9), GasFeeCap: new(big.Int).Add(big.NewInt(1e9), new(big.Int).Mul(head.BaseFee, big.NewInt(2))),
		Gas: 21000, To: &to, Value: big.NewInt(1),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := ec.SendTransaction(ctx, other); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if abi.CodeOf(err) != chain.CodeSuperseded {
			t.Fatalf("a post whose nonce another transaction took: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the client kept replacing a superseded transaction")
	}
}
