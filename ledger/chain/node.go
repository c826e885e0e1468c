package chain

import (
	"crypto/ecdsa"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/catalyst"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/eth/filters"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/rpc"
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
}

// StartNode starts the chain in dir ("" keeps it in memory). The faucet
// key's account is funded at genesis; give the same key on every start of
// the same dir, since it fixes the genesis block.
func StartNode(dir string, faucet *ecdsa.PrivateKey) (*Node, error) {
	nodeConf := node.DefaultConfig
	nodeConf.DataDir = dir
	nodeConf.Name = "tollgate-chain"
	nodeConf.P2P = p2p.Config{NoDiscovery: true, NoDial: true, MaxPeers: 0, ListenAddr: ""}
	nodeConf.HTTPHost, nodeConf.WSHost, nodeConf.IPCPath = "", "", ""
	nodeConf.UseLightweightKDF = true
	stack, err := node.New(&nodeConf)
	if err != nil {
		return nil, fmt.Errorf("chain: node: %w", err)
	}
	faucetAddr := crypto.PubkeyToAddress(faucet.PublicKey)
	ethConf := ethconfig.Defaults
	ethConf.NetworkId = DevChainID
	ethConf.SyncMode = ethconfig.FullSync
	ethConf.Genesis = core.DeveloperGenesisBlock(ethconfig.Defaults.Miner.GasCeil, &faucetAddr)
	ethConf.Miner.PendingFeeRecipient = faucetAddr
	ethConf.TxPool.NoLocals = true
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
	// With period 0 the beacon's API seals a block whenever a transaction
	// enters the pool.
	catalyst.RegisterSimulatedBeaconAPIs(stack, beacon)
	stack.RegisterLifecycle(beacon)
	if err := stack.Start(); err != nil {
		stack.Close()
		return nil, fmt.Errorf("chain: start: %w", err)
	}
	return &Node{stack: stack, client: ethclient.NewClient(stack.Attach())}, nil
}

// Client returns a client of the node.
func (n *Node) Client() *ethclient.Client { return n.client }

// Close stops the node, flushing its state to disk.
func (n *Node) Close() error {
	n.client.Close()
	return errors.Join(n.stack.Close())
}
