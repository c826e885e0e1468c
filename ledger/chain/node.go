package chain

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/catalyst"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/eth/filters"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/event"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/tollgate-dev/tollgate/abi"
)

// DevChainID is the chain id of the embedded development chain.
const DevChainID = 1337

// Node is an embedded single-node EVM chain that mines a block as soon as a
// transaction arrives, built the way `geth --dev --datadir` builds one: a
// go-ethereum node with a data directory, the eth service and a simulated
// beacon. Unlike ethclient/simulated, a restart continues from the chain on
// disk instead of rewinding to genesis.
type Node struct {
	stack  *node.Node
	client *ethclient.Client

	// durable is the highest block whose state is synced to disk; waiters
	// are woken through changed.
	mu      sync.Mutex
	durable uint64
	changed chan struct{}
	sub     event.Subscription
	stopped chan struct{}

	sealer *sealer

	rpcSrv *http.Server // the JSON-RPC for wallets and tools, if served
	rpcURL string
}

// NodeOption configures [StartNode].
type NodeOption func(*node.Config)

// WithRPC serves the chain's JSON-RPC (eth, net, web3) over HTTP on a
// loopback host:port (port 0 picks one; see [Node.RPC]), so wallets and
// standard Ethereum tools can deposit and claim.
func WithRPC(host string, port int) NodeOption {
	return func(c *node.Config) {
		c.HTTPHost, c.HTTPPort = host, port
		c.HTTPModules = []string{"eth", "net", "web3"}
	}
}

// StartNode starts the chain in dir ("" keeps it in memory). The faucet
// account is funded at genesis; give the same one on every start of the
// same dir, since it fixes the genesis block.
func StartNode(dir string, faucetAddr common.Address, opts ...NodeOption) (*Node, error) {
	nodeConf := node.DefaultConfig
	nodeConf.DataDir = dir
	nodeConf.Name = "tollgate-chain"
	nodeConf.P2P = p2p.Config{NoDiscovery: true, NoDial: true, MaxPeers: 0, ListenAddr: ""}
	nodeConf.HTTPHost, nodeConf.WSHost, nodeConf.IPCPath = "", "", ""
	for _, o := range opts {
		o(&nodeConf)
	}
	// The JSON-RPC is served by durableRPC, not geth's own server.
	rpcHost, rpcPort := nodeConf.HTTPHost, nodeConf.HTTPPort
	nodeConf.HTTPHost, nodeConf.HTTPModules = "", nil
	nodeConf.UseLightweightKDF = true
	stack, err := node.New(&nodeConf)
	if err != nil {
		return nil, fmt.Errorf("chain: node: %w", err)
	}
	ethConf := ethconfig.Defaults
	ethConf.NetworkId = DevChainID
	ethConf.SyncMode = ethconfig.FullSync
	// A new chain prices gas by the rules of Ethereum mainnet (Osaka), not
	// by the experimental fork geth's dev preset adds after it, so its gas
	// figures mean what they would mean on a real deployment. A chain
	// already on disk keeps the rules in its stored genesis.
	genesis := core.DeveloperGenesisBlock(ethconfig.Defaults.Miner.GasCeil, &faucetAddr)
	genesis.Config.BogotaTime = nil
	if _, err := os.Stat(filepath.Join(dir, nodeConf.Name, "chaindata")); dir != "" && err == nil {
		genesis = nil
	}
	ethConf.Genesis = genesis
	ethConf.Miner.PendingFeeRecipient = faucetAddr
	ethConf.TxPool.NoLocals = true
	// Durable like the ledger: every sealed block's state trie is written
	// to the database (hash scheme, archive mode: no state kept only in
	// memory), and the database is synced after each block (watchHeads).
	// By default geth keeps recent state in memory and writes it at
	// shutdown, so a SIGKILL rewound the chain to genesis.
	ethConf.StateScheme = rawdb.HashScheme
	ethConf.NoPruning = true
	ethConf.SnapshotCache = 0
	// No log index: geth's indexer renders maps after every block, and a
	// log query that meets it half-way through fails ("failed to retrieve
	// log value pointer ... not found"), which a deposit sync right after
	// a burst of blocks did. Without the index a query reads the blocks'
	// receipts, which for the ranges the settler asks is cheap.
	ethConf.LogNoHistory = true
	backend, err := eth.New(stack, &ethConf)
	if err != nil {
		stack.Close()
		return nil, fmt.Errorf("chain: eth service: %w", err)
	}
	stack.RegisterAPIs([]rpc.API{{Namespace: "eth", Service: filters.NewFilterAPI(filters.NewFilterSystem(backend.APIBackend, filters.Config{}))}})
	beacon, err := catalyst.NewSimulatedBeacon(0, faucetAddr, backend)
	if err != nil {
		stack.Close()
		return nil, fmt.Errorf("chain: beacon: %w", err)
	}
	// With period 0 the beacon seals only when asked: the sealer asks
	// whenever a transaction enters the pool.
	stack.RegisterLifecycle(beacon)
	if err := stack.Start(); err != nil {
		stack.Close()
		return nil, fmt.Errorf("chain: start: %w", err)
	}
	n := &Node{stack: stack, client: ethclient.NewClient(stack.Attach()), changed: make(chan struct{}), stopped: make(chan struct{})}
	heads := make(chan core.ChainHeadEvent, 16)
	n.sub = backend.BlockChain().SubscribeChainHeadEvent(heads)
	n.markDurable(backend, backend.BlockChain().CurrentBlock().Number.Uint64())
	go n.watchHeads(backend, heads)
	n.sealer = startSealer(beacon, backend)
	if rpcHost != "" {
		if err := n.serveRPC(rpcHost, rpcPort); err != nil {
			n.Close()
			return nil, fmt.Errorf("chain: json-rpc on %s:%d: %w", rpcHost, rpcPort, err)
		}
	}
	return n, nil
}

// watchHeads syncs the database after every new head, then marks the head
// durable.
func (n *Node) watchHeads(backend *eth.Ethereum, heads chan core.ChainHeadEvent) {
	defer close(n.stopped)
	for {
		select {
		case h := <-heads:
			n.markDurable(backend, h.Header.Number.Uint64())
		case <-n.sub.Err():
			return
		}
	}
}

func (n *Node) markDurable(backend *eth.Ethereum, block uint64) {
	if err := backend.ChainDb().SyncKeyValue(); err != nil {
		return // not durable: waiters keep waiting, and time out clearly
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if block > n.durable {
		n.durable = block
		close(n.changed)
		n.changed = make(chan struct{})
	}
}

// WaitDurable returns once block and every block before it are on disk,
// state included. [Client] calls it for every transaction it waits on, so
// nothing is reported mined that a crash could take back.
func (n *Node) WaitDurable(ctx context.Context, block uint64) error {
	for {
		n.mu.Lock()
		done, changed := n.durable >= block, n.changed
		n.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return abi.Wrap(CodeChain, ctx.Err(), "block %d not yet durable", block)
		}
	}
}

// RPC returns the URL of the node's JSON-RPC endpoint, or "" if it serves
// none.
func (n *Node) RPC() string { return n.rpcURL }

// Client returns a client of the node.
func (n *Node) Client() *ethclient.Client { return n.client }

// Close stops the node, flushing its state to disk.
func (n *Node) Close() error {
	if n.rpcSrv != nil {
		n.rpcSrv.Close()
	}
	n.client.Close()
	n.sealer.close()
	err := n.stack.Close()
	n.sub.Unsubscribe()
	<-n.stopped
	return errors.Join(err)
}
