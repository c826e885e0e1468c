package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
)

// verifyCmd re-runs an epoch from a node's data directory (the node must
// be stopped: Badger allows one process).
func verifyCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("verify")
	dataDir := fs.String("data", "./tollgate-data", "data directory of the node")
	rpc := fs.String("rpc", "", "EVM node the node settles on (default: its embedded chain)")
	epoch := fs.Uint64("epoch", 0, "epoch to verify (default: the last closed)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	n, err := openNode(ctx, nodeConfig{dataDir: *dataDir, rpc: *rpc, logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	defer n.close(context.Background())
	if *epoch == 0 {
		open, err := n.led.OpenEpoch(ctx)
		if err != nil {
			return err
		}
		if open <= 1 {
			return errors.New("verify: no epoch has closed yet")
		}
		*epoch = open - 1
	}
	return printVerification(ctx, n, *epoch, out)
}

func printVerification(ctx context.Context, n *node, epoch uint64, out io.Writer) error {
	v, err := n.host.VerifyEpoch(ctx, epoch)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "epoch %d: re-ran %d receipts (signatures, plugins by hash, attribution, splits)\n", v.Epoch, v.Receipts)
	for _, p := range v.Problems {
		fmt.Fprintln(out, "  PROBLEM", p)
	}
	fmt.Fprintf(out, "rebuilt root %s\nledger root  %s\n", v.Root, v.Posted)
	if v.OnChain != "" {
		fmt.Fprintf(out, "on-chain     %s\n", v.OnChain)
	}
	if !v.OK() {
		return fmt.Errorf("epoch %d does not verify", epoch)
	}
	fmt.Fprintln(out, "verified: the rebuilt root matches")
	return nil
}
