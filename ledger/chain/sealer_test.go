package chain_test

import (
	"context"
	"math/big"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/ledger/chain"
)

var sink atomic.Int64

// A transaction sent the moment StartNode returns is mined. geth's own
// on-demand sealing subscribed to the pool from a goroutine of its own, so
// a deployment made at once could enter the pool unheard and wait for
// ever; the race is a scheduling one, so it is tried many times.
func TestTransactionRightAfterStartIsMined(t *testing.T) {
	operator := newKey(t)
	// Goroutines that hold the cores make a late listener likelier.
	stop := make(chan struct{})
	defer close(stop)
	for range 4 {
		go func() {
			for {
				select {
				case <-stop:
					return
				default:
					for i := 0; i < 1e5; i++ {
						sink.Add(1)
					}
				}
			}
		}()
	}
	for i := range 25 {
		node, err := chain.StartNode("", crypto.PubkeyToAddress(operator.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		_, err = chain.Deploy(ctx, node.Client(), operator)
		cancel()
		node.Close()
		if err != nil {
			t.Fatalf("start %d: deploying right after start: %v", i, err)
		}
	}
}

// A transaction the miner will not take (its fee cap is below the base
// fee) does not make the node seal empty blocks in a loop; the next
// transaction that can be mined is.
func TestUnmineableTransactionSealsNoEmptyBlocks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	operator := newKey(t)
	node, err := chain.StartNode(t.TempDir(), crypto.PubkeyToAddress(operator.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	ec := node.Client()
	before, err := ec.BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	signer := types.LatestSignerForChainID(big.NewInt(chain.DevChainID))
	to := common.HexToAddress("0x00000000000000000000000000000000000000aa")
	stuck := types.MustSignNewTx(operator, signer, &types.DynamicFeeTx{ChainID: big.NewInt(chain.DevChainID), Nonce: 0,
		GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(1), Gas: 21000, To: &to, Value: big.NewInt(1)})
	if err := ec.SendTransaction(ctx, stuck); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	after, err := ec.BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after > before+1 {
		t.Fatalf("%d blocks sealed in a second for one transaction that cannot be mined", after-before)
	}
	// The same nonce at market fees replaces it and is mined.
	tip, err := ec.SuggestGasTipCap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	head, err := ec.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	feeCap := new(big.Int).Add(tip, new(big.Int).Mul(head.BaseFee, big.NewInt(2)))
	good := types.MustSignNewTx(operator, signer, &types.DynamicFeeTx{ChainID: big.NewInt(chain.DevChainID), Nonce: 0,
		GasTipCap: tip, GasFeeCap: feeCap, Gas: 21000, To: &to, Value: big.NewInt(1)})
	if err := ec.SendTransaction(ctx, good); err != nil {
		t.Fatal(err)
	}
	for {
		rc, err := ec.TransactionReceipt(ctx, good.Hash())
		if err == nil {
			if rc.Status != types.ReceiptStatusSuccessful {
				t.Fatalf("replacement failed: %+v", rc)
			}
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("the replacement at market fees was never mined")
		case <-time.After(20 * time.Millisecond):
		}
	}
}
