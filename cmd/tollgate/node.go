package main

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/tollgate-dev/tollgate/host"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/ledger/chain"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/runtime"
)

// nodeConfig says where a Tollgate node keeps its state and which chain it
// settles on.
type nodeConfig struct {
	dataDir string
	rpc     string // empty: the embedded chain under dataDir/chain
	// chainRPC is the loopback host:port the embedded chain serves its
	// JSON-RPC on ("" for none).
	chainRPC string
	// Settlement deployment settings, used when the contracts are deployed
	// (the first start): the guardian ("" the operator, fit for a dev
	// chain only) and the challenge and rotation delays in seconds.
	guardian                      string
	challengeDelay, rotationDelay uint64
	logger                        *slog.Logger
}

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
	tokens   *host.Tokens
	host     *host.Host
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
	keyPath := filepath.Join(cfg.dataDir, "operator.key")
	if n.operator, err = loadOrCreateKey(keyPath); err != nil {
		return fmt.Errorf("operator key %s: %w", keyPath, err)
	}
	if n.led, err = ledger.Open(filepath.Join(cfg.dataDir, "ledger"), ledger.Options{Logger: cfg.logger, Signer: n.operator}); err != nil {
		return err
	}
	if n.rt, err = runtime.New(runtime.Config{CacheDir: filepath.Join(cfg.dataDir, "wasm-cache"), Logger: cfg.logger}); err != nil {
		return err
	}
	var opts []chain.Option
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
		if n.chain, err = chain.StartNode(filepath.Join(cfg.dataDir, "chain"), n.operator, nopts...); err != nil {
			return err
		}
		n.eth = n.chain.Client()
		opts = append(opts, chain.WithDurability(n.chain.WaitDurable))
	} else if n.eth, err = chain.Dial(ctx, cfg.rpc); err != nil {
		return err
	}
	deployOpts := append([]chain.Option{chain.WithDelays(cfg.challengeDelay, cfg.rotationDelay)}, opts...)
	if cfg.guardian != "" {
		deployOpts = append(deployOpts, chain.WithGuardian(cfg.guardian))
	}
	if n.client, n.fresh, err = deployment(ctx, n.eth, n.operator, filepath.Join(cfg.dataDir, "deployment.json"), deployOpts); err != nil {
		return fmt.Errorf("settlement contracts (operator %s): %w", registry.Address(n.operator), err)
	}
	// Registry signatures are bound to this deployment.
	dep := n.client.Deployment()
	regOpts := registry.Options{Logger: cfg.logger, Operator: registry.Address(n.operator),
		Domain: registry.Domain{ChainID: new(big.Int).SetUint64(dep.ChainID), Contract: dep.Settlement}}
	if n.reg, err = registry.Open(filepath.Join(cfg.dataDir, "registry"), regOpts); err != nil {
		return err
	}
	if n.tokens, err = host.OpenTokens(filepath.Join(cfg.dataDir, "tokens.json")); err != nil {
		return err
	}
	n.host, err = host.New(host.Config{Registry: n.reg, Ledger: n.led, Runtime: n.rt, Chain: n.client, Operator: n.operator, Logger: cfg.logger})
	if err != nil {
		return err
	}
	if err := n.host.PublishBuiltins(ctx); err != nil {
		return err
	}
	return nil
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
		if err := writeFileAtomic(path, b, 0o600); err != nil {
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

// readKey reads a hex private key file; it never creates one.
func readKey(path string) (*ecdsa.PrivateKey, error) {
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

func loadOrCreateKey(path string) (*ecdsa.PrivateKey, error) {
	k, err := readKey(path)
	if err == nil {
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	k, err = crypto.GenerateKey()
	if err != nil {
		return nil, err
	}
	return k, writeFileAtomic(path, []byte(hex.EncodeToString(crypto.FromECDSA(k))+"\n"), 0o600)
}

// writeFileAtomic writes b to path so that a crash leaves either the old
// file or the new one, synced: the file, then the rename in its directory.
func writeFileAtomic(path string, b []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
