package chain

import (
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/catalyst"
	"github.com/ethereum/go-ethereum/event"
)

// sealer seals a block as soon as transactions enter the pool.
//
// geth's own on-demand loop (catalyst.RegisterSimulatedBeaconAPIs with
// period 0) subscribes to the pool from a goroutine it starts, so a
// transaction sent right after the node starts can enter the pool before
// anything listens, and is then never mined: a deployment made at once
// waited forever. The sealer subscribes before StartNode returns.
type sealer struct {
	beacon *catalyst.SimulatedBeacon
	eth    *eth.Ethereum
	txs    chan core.NewTxsEvent
	sub    event.Subscription
	stop   chan struct{}
	done   chan struct{}
}

func startSealer(beacon *catalyst.SimulatedBeacon, backend *eth.Ethereum) *sealer {
	s := &sealer{beacon: beacon, eth: backend, txs: make(chan core.NewTxsEvent, 64), stop: make(chan struct{}), done: make(chan struct{})}
	s.sub = backend.TxPool().SubscribeTransactions(s.txs, true)
	go s.loop()
	// Transactions already in the pool (kept in its journal across a
	// restart) are sealed too.
	if exec, _ := backend.TxPool().Stats(); exec > 0 {
		select {
		case s.txs <- core.NewTxsEvent{}:
		default:
		}
	}
	return s
}

func (s *sealer) loop() {
	defer close(s.done)
	defer s.sub.Unsubscribe()
	for {
		select {
		case <-s.stop:
			return
		case <-s.sub.Err():
			return
		case <-s.txs:
		}
		s.sealPending()
	}
}

// sealPending seals blocks while the pool holds executable transactions
// and each block takes some of them. A transaction the miner will not
// include (say, its tip is too low) waits for the next arrival rather than
// having empty blocks sealed for it in a loop.
func (s *sealer) sealPending() {
	pool := s.eth.TxPool()
	for {
		select {
		case <-s.stop:
			return
		default:
		}
		// Events for the transactions this block takes are spent by it.
		for drained := false; !drained; {
			select {
			case <-s.txs:
			default:
				drained = true
			}
		}
		head := s.beacon.Commit()
		pool.Sync()
		b := s.eth.BlockChain().GetBlockByHash(head)
		if exec, _ := pool.Stats(); exec == 0 || b == nil || len(b.Transactions()) == 0 {
			return
		}
	}
}

// close stops sealing and waits until no block is being sealed.
func (s *sealer) close() {
	close(s.stop)
	<-s.done
}
