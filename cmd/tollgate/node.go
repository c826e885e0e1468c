package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/api"
	"github.com/tollgate-dev/tollgate/model"

	"github.com/tollgate-dev/tollgate/settle"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/api/auth"
	"github.com/tollgate-dev/tollgate/host"
	"github.com/tollgate-dev/tollgate/internal/fsutil"
	"github.com/tollgate-dev/tollgate/internal/keys"
	"github.com/tollgate-dev/tollgate/internal/kv"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/ledger/chain"
	"github.com/tollgate-dev/tollgate/metrics"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/runtime"
	"github.com/tollgate-dev/tollgate/verify"
)

// nodeConfig says where a Tollgate node keeps its state and which chain it
// settles on.
type nodeConfig struct {
	dataDir string
	// store is a PostgreSQL URL the ledger and registry live in; empty,
	// Badger under dataDir.
	store string
	rpc   string // empty: the embedded chain under dataDir/chain
	// chainRPC is the loopback host:port the embedded chain serves its
	// JSON-RPC on ("" for none).
	chainRPC string
	// Settlement deployment settings, used when the contracts are deployed
	// (the first start): the guardian ("" the operator, fit for a dev
	// chain only) and the challenge and rotation delays in seconds.
	guardian                      string
	challengeDelay, rotationDelay uint64
	// keyFile is the operator's keystore v3 file ("" for operator.json in
	// the data dir, generated at first start with its passphrase in
	// operator.pass); passphraseFile holds its passphrase ("" for
	// operator.pass next to a generated key, else TOLLGATE_PASSPHRASE).
	keyFile, passphraseFile string
	// fundWait is how long a start on an external chain waits for the
	// operator's account to hold gas before giving up.
	fundWait time.Duration
	// confirmations is how many blocks must follow a deposit before it is
	// credited.
	confirmations uint64
	// maxLogBlocks bounds a log query's block range (0: the default).
	maxLogBlocks uint64
	// maxRunning bounds the invocations running at once (0: the default).
	maxRunning int
	// modelServers are the OpenAI-compatible servers models run on.
	modelServers map[string]model.Server
	// minPrice is the floor on an agent's price per call (nil or 0: none).
	minPrice *big.Int
	// commitDelay is ledger.Options.CommitDelay (0: the default; negative: none).
	commitDelay time.Duration
	logger      *slog.Logger
	out         io.Writer // where a start says what it is waiting for

	// The faucet's limits on the embedded chain, as settle.Faucet takes them
	// (0: the defaults; a negative budget or interval: no limit).
	faucetBudget              int
	faucetWindow, faucetEvery time.Duration
}

// reservedNamespaces are the plugin namespaces only the operator publishes
// in: the built-in plugins and the examples the node seeds, which a
// newcomer trusts as the node's own.
var reservedNamespaces = []string{"builtin", "examples"}

// node is everything a running Tollgate owns, opened from one data dir.
type node struct {
	dir      string
	operator *ecdsa.PrivateKey
	reg      *registry.Registry
	led      *ledger.Ledger
	rt       *runtime.Runtime
	chain    *chain.Node // nil with --rpc
	eth      *ethclient.Client
	client   *chain.Client
	tokens   auth.TokenStore
	host     *host.Host
	settle   *settle.Settler
	metrics  *metrics.Metrics
	fresh    bool // the deployment was made by this start
}

// openNode opens or creates the data dir: operator key, registry, ledger,
// compilation cache, chain and contracts (deployed on first start), API
// tokens, and the host with its built-in plugins published.
func openNode(ctx context.Context, cfg nodeConfig) (*node, error) {
	n := &node{dir: cfg.dataDir}
	if err := n.open(ctx, cfg); err != nil {
		n.close(context.Background())
		return nil, err
	}
	return n, nil
}

func (n *node) open(ctx context.Context, cfg nodeConfig) (err error) {
	if err := os.MkdirAll(cfg.dataDir, 0o700); err != nil {
		return err
	}
	if n.operator, err = operatorKey(cfg); err != nil {
		return err
	}
	if n.rt, err = runtime.New(runtime.Config{CacheDir: filepath.Join(cfg.dataDir, "wasm-cache"), Logger: cfg.logger}); err != nil {
		return err
	}
	var opts []chain.Option
	if cfg.maxLogBlocks > 0 {
		opts = append(opts, chain.WithMaxLogBlocks(cfg.maxLogBlocks))
	}
	if cfg.rpc == "" {
		var nopts []chain.NodeOption
		if cfg.chainRPC != "" {
			host, port, err := net.SplitHostPort(cfg.chainRPC)
			if err != nil {
				return fmt.Errorf("chain RPC address %q: %w", cfg.chainRPC, err)
			}
			p, err := strconv.Atoi(port)
			if err != nil {
				return fmt.Errorf("chain RPC port %q: %w", port, err)
			}
			nopts = append(nopts, chain.WithRPC(host, p))
		}
		if n.chain, err = chain.StartNode(filepath.Join(cfg.dataDir, "chain"), crypto.PubkeyToAddress(n.operator.PublicKey), nopts...); err != nil {
			return err
		}
		n.eth = n.chain.Client()
		opts = append(opts, chain.WithDurability(n.chain.WaitDurable))
	} else {
		if n.eth, err = chain.Dial(ctx, cfg.rpc); err != nil {
			return err
		}
		// On an external chain the operator pays for gas: say who must be
		// funded and with how much, and wait for it (or fail) before any
		// transaction is attempted.
		_, statErr := os.Stat(filepath.Join(cfg.dataDir, "deployment.json"))
		need, err := chain.NeededBalance(ctx, n.eth, errors.Is(statErr, os.ErrNotExist))
		if err != nil {
			return fmt.Errorf("chain %s: %w", cfg.rpc, err)
		}
		op := crypto.PubkeyToAddress(n.operator.PublicKey)
		say := func(have *big.Int) {
			if cfg.out != nil {
				fmt.Fprintf(cfg.out, "tollgate: operator %s holds %s wei on %s and needs at least %s wei for gas; fund it (waiting %s)\n", op.Hex(), have, cfg.rpc, need, cfg.fundWait)
			}
		}
		if err := chain.AwaitFunds(ctx, n.eth, op, need, cfg.fundWait, 2*time.Second, say); err != nil {
			return fmt.Errorf("operator %s: %w", op.Hex(), err)
		}
	}
	deployOpts := append([]chain.Option{chain.WithDelays(cfg.challengeDelay, cfg.rotationDelay)}, opts...)
	if cfg.guardian != "" {
		deployOpts = append(deployOpts, chain.WithGuardian(cfg.guardian))
	}
	// Hosts sharing a store share its books, and so one deployment: it is
	// recorded in the store (and copied to the data dir, for tools that
	// read one).
	var nodeStore *kv.Postgres
	defer func() {
		if n.tokens == nil && nodeStore != nil {
			nodeStore.Close() // the tokens did not take it over
		}
	}()
	if cfg.store != "" {
		if nodeStore, err = kv.OpenPostgres(ctx, cfg.store, kv.PostgresOptions{Store: kv.StoreNode}); err != nil {
			return err
		}
		n.client, n.fresh, err = sharedDeployment(ctx, n.eth, n.operator, nodeStore, filepath.Join(cfg.dataDir, "deployment.json"), deployOpts)
	} else {
		n.client, n.fresh, err = deployment(ctx, n.eth, n.operator, filepath.Join(cfg.dataDir, "deployment.json"), deployOpts)
	}
	if err != nil {
		return fmt.Errorf("settlement contracts (operator %s): %w", registry.Address(n.operator), err)
	}
	// Only the contract's operator may sign receipts and post roots: a key
	// that is not (a wrong --key, or a new key before the guardian's
	// rotation completed on-chain) would sign receipts no verifier accepts.
	onChainOp, err := n.client.Operator(ctx)
	if err != nil {
		return err
	}
	if op := crypto.PubkeyToAddress(n.operator.PublicKey).Hex(); !strings.EqualFold(onChainOp, op) {
		return abi.Errorf(CodeNotOperator, "operator key %s is not the settlement's operator %s: give that key, or have the guardian rotate the operator to this one first", op, onChainOp)
	}
	ledOpts := ledger.Options{Logger: cfg.logger, Signer: n.operator, CommitDelay: cfg.commitDelay}
	if cfg.store == "" {
		freeBeforeOpen()
		n.led, err = ledger.Open(filepath.Join(cfg.dataDir, "ledger"), ledOpts)
	} else {
		var s *kv.Postgres
		if s, err = kv.OpenPostgres(ctx, cfg.store, kv.PostgresOptions{Store: kv.StoreLedger, Writer: true, Seats: maxHosts}); err == nil {
			n.led, err = ledger.OpenStore(s, ledOpts)
		}
	}
	if err != nil {
		return err
	}
	// Registry signatures are bound to this deployment.
	dep := n.client.Deployment()
	regOpts := registry.Options{Logger: cfg.logger, Operator: registry.Address(n.operator), Reserved: reservedNamespaces,
		Domain: registry.Domain{ChainID: new(big.Int).SetUint64(dep.ChainID), Contract: dep.Settlement}}
	if cfg.store == "" {
		freeBeforeOpen()
		n.reg, err = registry.Open(filepath.Join(cfg.dataDir, "registry"), regOpts)
	} else {
		var s *kv.Postgres
		if s, err = kv.OpenPostgres(ctx, cfg.store, kv.PostgresOptions{Store: kv.StoreRegistry, Writer: true, Seats: maxHosts}); err == nil {
			// The registry's records live in PostgreSQL; the indexes built
			// from them are this host's own.
			n.reg, err = registry.OpenStore(s, filepath.Join(cfg.dataDir, "registry-index"), regOpts)
		}
	}
	if err != nil {
		return err
	}
	if cfg.store == "" {
		n.tokens, err = auth.OpenTokens(filepath.Join(cfg.dataDir, "tokens.json"))
	} else {
		// A token any host issued works on every host.
		n.tokens = auth.OpenSharedTokens(nodeStore)
	}
	if err != nil {
		return err
	}
	n.metrics = metrics.New()
	n.host, err = host.New(host.Config{Registry: n.reg, Ledger: n.led, Runtime: n.rt, Domain: settle.Domain(n.client), Operator: n.operator,
		Logger: cfg.logger, Metrics: n.metrics, MaxRunning: cfg.maxRunning, MinPrice: cfg.minPrice, ModelServers: cfg.modelServers})
	if err != nil {
		return err
	}
	scfg := settle.Config{Ledger: n.led, Chain: n.client, Operator: n.operator, Logger: cfg.logger, Metrics: n.metrics, Confirmations: cfg.confirmations}
	if n.chain != nil {
		// The embedded chain's test token is the operator's to mint.
		// Its limits are kept beside the ledger, so a restart resets neither.
		scfg.Faucet = &settle.Faucet{Amount: new(big.Int).Mul(oneToken, big.NewInt(10)), Gas: new(big.Int).Div(oneToken, big.NewInt(10)),
			Every: cfg.faucetEvery, Budget: cfg.faucetBudget, Window: cfg.faucetWindow, Path: filepath.Join(cfg.dataDir, "faucet.json")}
		if err := scfg.Faucet.Load(); err != nil {
			return err
		}
	}
	if n.settle, err = settle.New(scfg); err != nil {
		return err
	}
	if err := n.host.PublishBuiltins(ctx); err != nil {
		return err
	}
	return nil
}

// handler serves the node's API behind limits, with sign-in if signIn is
// set.
func (n *node) handler(limits api.Limits, signIn *auth.SignIn) (http.Handler, error) {
	cfg := api.Config{Host: n.host, Settler: n.settle, Registry: n.reg, Ledger: n.led, Auth: n.tokens, Limits: limits, SignIn: signIn, Metrics: n.metrics}
	if n.chain != nil {
		cfg.ChainRPC = n.chain.RPC()
	}
	return api.New(cfg)
}

func (n *node) close(ctx context.Context) {
	if n.host != nil {
		n.host.Close(ctx)
	}
	if n.rt != nil {
		n.rt.Close(ctx)
	}
	if n.chain != nil {
		n.chain.Close()
	} else if n.eth != nil {
		n.eth.Close()
	}
	if n.led != nil {
		n.led.Close()
	}
	if n.reg != nil {
		n.reg.Close()
	}
	if n.tokens != nil {
		n.tokens.Close()
	}
}

// maxHosts is how many hosts may write one --store at once: its writer
// seats. The host in seat 0 settles (see settle.Settler).
const maxHosts = 16

// deploymentKey is where a shared store records the deployment its hosts
// settle on.
var deploymentKey = []byte("deployment")

// sharedDeployment attaches to the contracts the shared store records,
// deploying them first if there are none yet (of hosts starting together,
// the first to record its deployment wins; the others' are left unused).
// It copies the record to path.
func sharedDeployment(ctx context.Context, ec *ethclient.Client, key *ecdsa.PrivateKey, store kv.Store, path string, opts []chain.Option) (*chain.Client, bool, error) {
	var dep chain.Deployment
	err := store.View(func(txn kv.Txn) error { return kv.GetJSON(txn, deploymentKey, &dep) })
	fresh := errors.Is(err, kv.ErrNotFound)
	switch {
	case fresh:
		if dep, err = chain.Deploy(ctx, ec, key, opts...); err != nil {
			return nil, false, err
		}
		mine := dep
		err = kv.UpdateRetrying(store, func(txn kv.Txn) error {
			var theirs chain.Deployment
			if err := kv.GetJSON(txn, deploymentKey, &theirs); err == nil {
				dep, fresh = theirs, false
				return nil
			} else if !errors.Is(err, kv.ErrNotFound) {
				return err
			}
			dep, fresh = mine, true
			return kv.SetJSON(txn, deploymentKey, dep)
		})
		if err != nil {
			return nil, false, err
		}
	case err != nil:
		return nil, false, err
	}
	b, _ := json.MarshalIndent(dep, "", "  ")
	if err := fsutil.WriteFileAtomic(path, b, 0o600); err != nil {
		return nil, false, err
	}
	c, err := chain.Attach(ctx, ec, dep, opts...)
	if err != nil {
		return nil, false, fmt.Errorf("the store's settlement %s on chain %d: %w (hosts sharing --store must settle on one chain: give each the same --rpc)", dep.Settlement, dep.ChainID, err)
	}
	return c, fresh, nil
}

// deployment attaches to the contracts recorded in path, deploying them
// first if there are none yet.
func deployment(ctx context.Context, ec *ethclient.Client, key *ecdsa.PrivateKey, path string, opts []chain.Option) (*chain.Client, bool, error) {
	var dep chain.Deployment
	b, err := os.ReadFile(path)
	fresh := errors.Is(err, os.ErrNotExist)
	switch {
	case fresh:
		if dep, err = chain.Deploy(ctx, ec, key, opts...); err != nil {
			return nil, false, err
		}
		b, _ = json.MarshalIndent(dep, "", "  ")
		if err := fsutil.WriteFileAtomic(path, b, 0o600); err != nil {
			return nil, false, err
		}
	case err != nil:
		return nil, false, err
	default:
		if err := json.Unmarshal(b, &dep); err != nil {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
	}
	c, err := chain.Attach(ctx, ec, dep, opts...)
	return c, fresh, err
}

// operatorKey loads the operator's key from its keystore file. With no
// --key, the key is operator.json in the data dir, with its passphrase in
// operator.pass (mode 0600), both generated at the first start so that
// `serve` with no flags keeps working; a data dir from before keystores
// has its plaintext operator.key converted and removed.
func operatorKey(cfg nodeConfig) (*ecdsa.PrivateKey, error) {
	if cfg.keyFile != "" {
		pass, err := keys.Passphrase(cfg.passphraseFile)
		if err != nil {
			return nil, fmt.Errorf("operator key %s: %w", cfg.keyFile, err)
		}
		k, err := keys.Load(cfg.keyFile, pass)
		if err != nil {
			return nil, fmt.Errorf("operator key %s: %w", cfg.keyFile, err)
		}
		return k, nil
	}
	keyPath := filepath.Join(cfg.dataDir, operatorKeyFile)
	passPath := filepath.Join(cfg.dataDir, operatorPassFile)
	if cfg.passphraseFile != "" {
		passPath = cfg.passphraseFile
	}
	wrap := func(err error) error { return fmt.Errorf("operator key %s: %w", keyPath, err) }
	if _, err := os.Stat(keyPath); err == nil {
		pass, err := keys.Passphrase(passPath)
		if err != nil {
			return nil, wrap(err)
		}
		k, err := keys.Load(keyPath, pass)
		if err != nil {
			return nil, wrap(err)
		}
		return k, nil
	}
	// No key yet: convert a plaintext key from an older data dir, or make one.
	legacy := filepath.Join(cfg.dataDir, "operator.key")
	k, err := readHexKey(legacy)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if k, err = crypto.GenerateKey(); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, fmt.Errorf("operator key %s: %w", legacy, err)
	}
	pass, err := keys.Passphrase(passPath)
	if abi.CodeOf(err) == keys.CodeNoPassphrase || errors.Is(err, os.ErrNotExist) {
		// A crash between the two files leaves a passphrase and no key.
		pass = hex.EncodeToString(randomBytes(32))
		if err := fsutil.WriteFileAtomic(passPath, []byte(pass+"\n"), 0o600); err != nil {
			return nil, wrap(err)
		}
	} else if err != nil {
		return nil, wrap(err)
	}
	if err := keys.Write(keyPath, k, pass, keys.Light); err != nil {
		return nil, wrap(err)
	}
	if err := os.Remove(legacy); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return k, nil
}

// CodeNotOperator says the node's key is not the settlement contract's
// operator.
const CodeNotOperator abi.Code = "not_operator"

// The operator's key files in a data dir.
const (
	operatorKeyFile  = "operator.json"
	operatorPassFile = "operator.pass"
)

// operatorAddress reads the operator's address from its key file, without
// the passphrase.
func operatorAddress(dataDir string) (common.Address, error) {
	return keys.Address(filepath.Join(dataDir, operatorKeyFile))
}

// readHexKey reads a plaintext hex private key file.
func readHexKey(path string) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := crypto.HexToECDSA(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("not a hex secp256k1 private key: %w", err)
	}
	return k, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return b
}

// verifyEpoch re-runs epoch n from this node's own stores and chain, as a
// third party would from its API.
func (n *node) verifyEpoch(ctx context.Context, epoch uint64) (*verify.Verification, error) {
	v, err := verify.New(verify.Config{Data: verify.StoreData(n.led, n.reg), Runtime: n.rt, Chain: n.client})
	if err != nil {
		return nil, err
	}
	defer v.Close(ctx)
	return v.VerifyEpoch(ctx, epoch)
}

// freeBeforeOpen returns the heap's free memory to the OS before a Badger
// store opens. A store allocates its memtable (some 20 MB) as it opens,
// and writes little of it until calls arrive, but an allocation the
// runtime places in memory the heap held before is cleared first, every
// page of it made resident. Collecting the garbage of starting the chain
// and deploying just before changes where the arena lands: measured, a
// fresh node then idled in about 21 MB of anonymous memory in 12 starts
// of 15, against 40-42 MB in every start without. Where the runtime
// places it is not the node's to choose, so it is no guarantee.
func freeBeforeOpen() { debug.FreeOSMemory() }
