package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"connectrpc.com/connect"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/spf13/cobra"

	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/gen/tollgate/v1/tollgatev1connect"

	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/ledger/chain"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/runtime"
	"github.com/tollgate-dev/tollgate/verify"
)

// verifyCmd re-runs an epoch from a stopped node's data directory without
// writing to it: the ledger and registry are opened read-only, plugins are
// compiled in memory, and the chain is read through --rpc or, by default,
// from a scratch copy of the node's embedded chain. The receipts must be
// signed by the settlement contract's operator, and the rebuilt root must
// be the one the contract holds; a chain that cannot be read fails it.
func verifyCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify --server URL | --data DIR",
		Short: "Re-run an epoch's receipts and check its root, through a node's API or from a stopped node's data",
		Long: `Re-run every receipt of an epoch and rebuild its Merkle root and receipt bundle,
then check them against the root the node recorded and the one the
settlement contract holds. With --server it reads a running node's public
API (and the chain through --rpc, else the node's word); with --data it
opens a stopped node's stores read-only and reads the chain through --rpc,
else a scratch copy of the node's embedded chain.`,
		Example: `  tollgate verify --server http://127.0.0.1:8080 --rpc http://127.0.0.1:8545
  tollgate verify --data ./tollgate-data --epoch 3 --json`,
		Args: nArgs(0, 0),
	}
	fs := cmd.Flags()
	dataDir := fs.String("data", "./tollgate-data", "data directory of the node (stopped; opened read-only)")
	rpc := fs.String("rpc", "", "EVM node the deployment settles on (default: a scratch copy of the node's embedded chain)")
	epoch := fs.Uint64("epoch", 0, "epoch to verify (default: the last closed)")
	settlement := fs.String("settlement", "", "the settlement contract to verify against; the data dir's deployment must name it (default: trust the data dir's)")
	chainID := fs.Uint64("chain-id", 0, "the chain the settlement is on; the data dir's deployment must name it (default: trust the data dir's)")
	server := fs.String("server", "", "verify through a running node's public API instead of a data dir")
	fs.SetAnnotation("server", skipConfig, []string{"true"})
	a.jsonFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return verifyRun(cmd.Context(), a.out, cmd.Flags().Changed("data"), *dataDir, *rpc, *epoch, *settlement, *chainID, *server, a.asJSON)
	}
	return cmd
}

func verifyRun(ctx context.Context, out io.Writer, dataSet bool, dataDirV, rpcV string, epochV uint64, settlementV string, chainIDV uint64, serverV string, asJSONV bool) error {
	dataDir, rpc, epoch, settlement, chainID, server, asJSON := &dataDirV, &rpcV, &epochV, &settlementV, &chainIDV, &serverV, &asJSONV
	if *server != "" {
		// A data dir and a server are two different checks: say which.
		if dataSet || *dataDir != "./tollgate-data" {
			return usageErr("verify: give --server URL (a running node's API) or --data DIR (a stopped node's stores), not both")
		}
		return verifyRemote(ctx, *server, *rpc, *epoch, *settlement, *chainID, *asJSON, out)
	}
	// A copied data dir could name any contract: a verifier who knows the
	// deployment it cares about pins it.
	if *settlement != "" || *chainID != 0 {
		dep, err := readDeployment(*dataDir)
		if err != nil {
			return err
		}
		if *settlement != "" && !strings.EqualFold(dep.Settlement, *settlement) {
			return fmt.Errorf("verify: the data dir settles on %s, not %s", dep.Settlement, *settlement)
		}
		if *chainID != 0 && dep.ChainID != *chainID {
			return fmt.Errorf("verify: the data dir settles on chain %d, not %d", dep.ChainID, *chainID)
		}
	}
	led, err := ledger.Open(filepath.Join(*dataDir, "ledger"), ledger.Options{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("verify: open the ledger read-only (stop the node first; after a crash, start it once so it recovers): %w", err)
	}
	defer led.Close()
	domain, err := registryDomain(*dataDir)
	if err != nil {
		return err
	}
	reg, err := registry.Open(filepath.Join(*dataDir, "registry"), registry.Options{ReadOnly: true, Domain: domain})
	if err != nil {
		return fmt.Errorf("verify: open the registry read-only: %w", err)
	}
	defer reg.Close()
	c, done, err := verifyChain(ctx, *dataDir, *rpc)
	if err != nil {
		return err
	}
	defer done()
	rt, err := runtime.New(runtime.Config{})
	if err != nil {
		return err
	}
	defer rt.Close(context.Background())
	v, err := verify.New(verify.Config{Data: verify.StoreData(led, reg), Runtime: rt, Chain: c})
	if err != nil {
		return err
	}
	defer v.Close(context.Background())
	if *epoch == 0 {
		open, err := led.OpenEpoch(ctx)
		if err != nil {
			return err
		}
		if open <= 1 {
			return errors.New("verify: no epoch has closed yet")
		}
		*epoch = open - 1
	}
	res, err := v.VerifyEpoch(ctx, *epoch)
	if err != nil {
		return err
	}
	return printVerification(res, *asJSON, out)
}

// verifyRemote is a third party's check of a running node, through its
// public API only: it downloads the epoch's receipts and outputs, the
// plugins by hash and the records the receipts read, re-runs everything in
// a scratch directory, and compares the rebuilt root with the chain's, read
// through rpc if given (trusting no one) or as the node reports it.
func verifyRemote(ctx context.Context, server, rpc string, epoch uint64, settlement string, chainID uint64, asJSON bool, out io.Writer) error {
	res, err := tollgatev1connect.NewLedgerServiceClient(http.DefaultClient, server).GetDeployment(ctx, connect.NewRequest(&tollgatev1.GetDeploymentRequest{}))
	if err != nil {
		return fmt.Errorf("verify: %s: %w", server, err)
	}
	dep := chain.Deployment{ChainID: res.Msg.GetChainId(), Settlement: res.Msg.GetSettlement(), Token: res.Msg.GetToken(), Block: res.Msg.GetBlock()}
	if settlement != "" && !strings.EqualFold(dep.Settlement, settlement) {
		return fmt.Errorf("verify: %s settles on %s, not %s", server, dep.Settlement, settlement)
	}
	if chainID != 0 && dep.ChainID != chainID {
		return fmt.Errorf("verify: %s settles on chain %d, not %d", server, dep.ChainID, chainID)
	}
	scratch, err := os.MkdirTemp("", "tollgate-verify-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	data, err := verify.NewRemoteData(http.DefaultClient, server, filepath.Join(scratch, "registry"),
		registry.Domain{ChainID: new(big.Int).SetUint64(dep.ChainID), Contract: dep.Settlement})
	if err != nil {
		return err
	}
	defer data.Close()
	var roots verify.RootReader = verify.RemoteChain{Data: data}
	if !asJSON {
		if rpc != "" {
			fmt.Fprintf(out, "reading the chain's roots and operators from %s\n", rpc)
			if settlement == "" {
				fmt.Fprintf(out, "the settlement contract %s is the one the node names: pin the one you trust with --settlement\n", dep.Settlement)
			}
		} else {
			fmt.Fprintln(out, "reading the chain's roots and operators as the node reports them (give --rpc to read any EVM node instead)")
		}
	}
	if rpc != "" {
		ec, err := chain.Dial(ctx, rpc)
		if err != nil {
			return err
		}
		defer ec.Close()
		c, err := chain.Attach(ctx, ec, dep)
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		roots = c
	}
	rt, err := runtime.New(runtime.Config{})
	if err != nil {
		return err
	}
	defer rt.Close(context.Background())
	v, err := verify.New(verify.Config{Data: data, Runtime: rt, Chain: roots})
	if err != nil {
		return err
	}
	defer v.Close(context.Background())
	if epoch == 0 {
		if epoch, err = data.LastEpoch(ctx); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
	}
	ver, err := v.VerifyEpoch(ctx, epoch)
	if err != nil {
		return err
	}
	return printVerification(ver, asJSON, out)
}

// verifyChain attaches to the deployment recorded in dataDir, through rpc or
// through a scratch copy of the embedded chain (starting a node writes to
// its directory, and verification writes nothing of the node's).
// readDeployment reads the deployment a data dir records.
func readDeployment(dataDir string) (chain.Deployment, error) {
	var dep chain.Deployment
	b, err := os.ReadFile(filepath.Join(dataDir, "deployment.json"))
	if err != nil {
		return dep, fmt.Errorf("verify: %w", err)
	}
	if err := json.Unmarshal(b, &dep); err != nil {
		return dep, fmt.Errorf("verify: deployment.json: %w", err)
	}
	return dep, nil
}

func verifyChain(ctx context.Context, dataDir, rpc string) (*chain.Client, func(), error) {
	dep, err := readDeployment(dataDir)
	if err != nil {
		return nil, nil, err
	}
	var ec *ethclient.Client
	done := func() {}
	if rpc != "" {
		if ec, err = chain.Dial(ctx, rpc); err != nil {
			return nil, nil, err
		}
		done = ec.Close
	} else {
		// The operator's address fixes the embedded chain's genesis; it is
		// read from the key file without decrypting it, and nothing is signed.
		faucet, err := operatorAddress(dataDir)
		if err != nil {
			return nil, nil, fmt.Errorf("verify: the embedded chain needs the node's %s for its genesis (or give --rpc): %w", operatorKeyFile, err)
		}
		scratch, err := os.MkdirTemp("", "tollgate-verify-")
		if err != nil {
			return nil, nil, err
		}
		if err := copyDir(filepath.Join(dataDir, "chain"), filepath.Join(scratch, "chain")); err != nil {
			os.RemoveAll(scratch)
			return nil, nil, fmt.Errorf("verify: copy the embedded chain: %w", err)
		}
		n, err := chain.StartNode(filepath.Join(scratch, "chain"), faucet)
		if err != nil {
			os.RemoveAll(scratch)
			return nil, nil, err
		}
		ec = n.Client()
		done = func() { n.Close(); os.RemoveAll(scratch) }
	}
	c, err := chain.Attach(ctx, ec, dep)
	if err != nil {
		done()
		return nil, nil, fmt.Errorf("verify: %w", err)
	}
	return c, done, nil
}

func copyDir(from, to string) error {
	return filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o700)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o600)
	})
}

func printVerification(v *verify.Verification, asJSON bool, out io.Writer) error {
	if asJSON {
		problems, notRerun := v.Problems, v.NotRerun
		if problems == nil {
			problems = []string{}
		}
		if notRerun == nil {
			notRerun = []string{}
		}
		if err := printValue(out, map[string]any{"epoch": v.Epoch, "receipts": v.Receipts, "problems": problems, "notRerun": notRerun,
			"root": v.Root, "posted": v.Posted, "onChain": v.OnChain, "bundle": v.Bundle, "postedBundle": v.PostedBundle,
			"onChainBundle": v.OnChainBundle, "ok": v.OK()}); err != nil {
			return err
		}
		if !v.OK() {
			return fmt.Errorf("epoch %d does not verify", v.Epoch)
		}
		return nil
	}
	fmt.Fprintf(out, "epoch %d: re-ran %d receipts (signatures by the operator, plugins and models by hash, attribution, model generations, splits)\n", v.Epoch, v.Receipts)
	for _, p := range v.Problems {
		fmt.Fprintln(out, "  PROBLEM", p)
	}
	for _, n := range v.NotRerun {
		fmt.Fprintln(out, "  not re-run:", n)
	}
	fmt.Fprintf(out, "rebuilt root %s\nledger root  %s\non-chain     %s\n", v.Root, v.Posted, v.OnChain)
	fmt.Fprintf(out, "receipt bundle, rebuilt %s\n               ledger  %s\n               on-chain %s\n", v.Bundle, v.PostedBundle, v.OnChainBundle)
	if !v.OK() {
		return fmt.Errorf("epoch %d does not verify", v.Epoch)
	}
	fmt.Fprintln(out, "verified: the rebuilt root and receipt bundle match the ledger's and the chain's")
	return nil
}
