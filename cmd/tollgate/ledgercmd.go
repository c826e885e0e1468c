package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/ledger/chain"
	"github.com/tollgate-dev/tollgate/registry"
)

// printJSON prints an API message as the Connect JSON a curl user sees.
func printJSON(out io.Writer, m proto.Message) error {
	b, err := protojson.MarshalOptions{UseProtoNames: false}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, string(b))
	return err
}

// receiptCmd shows one receipt, or lists an account's.
func receiptCmd(ctx context.Context, args []string, out io.Writer) error {
	const use = "usage: tollgate receipt show ID | list [--account A] [--epoch N]"
	sub, err := subcommand(args, use)
	if err != nil {
		return err
	}
	fs := newFlags("receipt " + sub)
	server := fs.String("server", defaultServer, "node URL")
	token := fs.String("token", "", "API token (default: the one tollgate login saved)")
	account := fs.String("account", "", "list: the account (default: the signed-in one; others need the operator's token)")
	epoch := fs.Uint64("epoch", 0, "list: one epoch only (default: all)")
	limit := fs.Uint("limit", 50, "list: most receipts to show")
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	c := newClient(*server, tokenFor(*server, *token))
	switch sub {
	case "show":
		if fs.NArg() != 1 {
			return usageErr(use)
		}
		res, err := c.ledger.GetReceipt(ctx, authed(c, &tollgatev1.GetReceiptRequest{Id: fs.Arg(0)}))
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(out, res.Msg)
		}
		r := res.Msg.GetReceipt()
		fmt.Fprintf(out, "agent %s  caller %s  epoch %d  at %s\n", r.GetAgent(), r.GetCaller(), r.GetEpoch(), r.GetTime())
		printReceipt(out, r, nil)
		return nil
	case "list":
		rs, next, err := listReceipts(ctx, c, *account, *epoch, int(*limit))
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(out, &tollgatev1.ListReceiptsResponse{Receipts: rs, NextPageToken: next})
		}
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "epoch\treceipt\tagent\tmethod\tcharged\tearned")
		for _, ar := range rs {
			r := ar.GetReceipt()
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.GetEpoch(), r.GetId(), r.GetAgent(), r.GetMethod(), tgtString(ar.GetCharged()), tgtString(ar.GetEarned()))
		}
		return tw.Flush()
	}
	return usageErr(use)
}

// listReceipts pages through an account's receipts, up to limit.
func listReceipts(ctx context.Context, c *client, account string, epoch uint64, limit int) ([]*tollgatev1.AccountReceipt, string, error) {
	var out []*tollgatev1.AccountReceipt
	token := ""
	for len(out) < limit {
		res, err := c.ledger.ListReceipts(ctx, authed(c, &tollgatev1.ListReceiptsRequest{Account: account, Epoch: epoch, PageToken: token, PageSize: uint32(min(limit-len(out), 1000))}))
		if err != nil {
			return nil, "", err
		}
		out = append(out, res.Msg.GetReceipts()...)
		if token = res.Msg.GetNextPageToken(); token == "" {
			break
		}
	}
	return out, token, nil
}

// earningsCmd shows what an account has earned, and from which calls.
func earningsCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("earnings")
	server := fs.String("server", defaultServer, "node URL")
	token := fs.String("token", "", "API token (default: the one tollgate login saved)")
	account := fs.String("account", "", "the account (default: the signed-in one; others need the operator's token)")
	limit := fs.Uint("limit", 50, "most paying receipts to show")
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c := newClient(*server, tokenFor(*server, *token))
	bal, err := c.ledger.GetBalance(ctx, authed(c, &tollgatev1.GetBalanceRequest{Account: *account}))
	if err != nil {
		return err
	}
	rs, _, err := listReceipts(ctx, c, bal.Msg.GetAccount(), 0, int(*limit))
	if err != nil {
		return err
	}
	var paying []*tollgatev1.AccountReceipt
	for _, r := range rs {
		if e, ok := new(big.Int).SetString(r.GetEarned(), 10); ok && e.Sign() > 0 {
			paying = append(paying, r)
		}
	}
	if *asJSON {
		return json.NewEncoder(out).Encode(map[string]any{"account": bal.Msg.GetAccount(), "earned": bal.Msg.GetEarned(), "receipts": paying})
	}
	fmt.Fprintf(out, "%s earned %s in all (claimable on-chain once an epoch with it is posted)\n", bal.Msg.GetAccount(), tgtString(bal.Msg.GetEarned()))
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "epoch\treceipt\tagent\tcaller\tearned")
	for _, ar := range paying {
		r := ar.GetReceipt()
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", r.GetEpoch(), r.GetId(), r.GetAgent(), r.GetCaller(), tgtString(ar.GetEarned()))
	}
	return tw.Flush()
}

// epochCmd lists closed epochs, or closes the open one (operator).
func epochCmd(ctx context.Context, args []string, out io.Writer) error {
	const use = "usage: tollgate epoch list | close"
	sub, err := subcommand(args, use)
	if err != nil {
		return err
	}
	fs := newFlags("epoch " + sub)
	server := fs.String("server", defaultServer, "node URL")
	token := fs.String("token", "", "close: the operator's API token (default: the one tollgate login saved)")
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	c := newClient(*server, tokenFor(*server, *token))
	switch sub {
	case "list":
		res, err := c.ledger.ListEpochs(ctx, connect.NewRequest(&tollgatev1.ListEpochsRequest{}))
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(out, res.Msg)
		}
		fmt.Fprintf(out, "open epoch: %d\n", res.Msg.GetOpen())
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "epoch\tclosed\treceipts\taccounts\ttotal\troot\tposted in")
		for _, e := range res.Msg.GetEpochs() {
			fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%s\t%s\t%s\n", e.GetEpoch(), time.Unix(e.GetClosed(), 0).UTC().Format(time.RFC3339),
				e.GetReceipts(), e.GetAccounts(), tgtString(e.GetTotal()), e.GetRoot(), e.GetPostTx())
		}
		return tw.Flush()
	case "close":
		res, err := c.ledger.CloseEpoch(ctx, authed(c, &tollgatev1.CloseEpochRequest{}))
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(out, res.Msg)
		}
		m := res.Msg
		fmt.Fprintf(out, "closed epoch %d: %d receipts, %d accounts, %s owed in all\nroot %s posted in %s\n",
			m.GetEpoch(), m.GetReceipts(), m.GetAccounts(), tgtString(m.GetTotal()), m.GetRoot(), m.GetPostTx())
		return nil
	}
	return usageErr(use)
}

// depositCmd deposits tokens from a wallet into the settlement contract as
// credit for an account, through the node's chain (or --rpc).
func depositCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("deposit")
	server := fs.String("server", defaultServer, "node URL (names the chain and contracts)")
	keyFile := fs.String("key", "", "wallet key paying the tokens and gas (keystore v3, or hex)")
	passFile := fs.String("passphrase-file", "", "file holding the key's passphrase")
	account := fs.String("account", "", "the account to credit (default: the key's)")
	rpc := fs.String("rpc", "", "EVM node to send through (default: the node's embedded chain)")
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErr("usage: tollgate deposit --key FILE AMOUNT (tokens, e.g. 2.5)")
	}
	amount, err := parseTGT(fs.Arg(0))
	if err != nil {
		return usageErr("deposit: " + err.Error())
	}
	key, err := loadKey(*keyFile, *passFile)
	if err != nil {
		return err
	}
	c := newClient(*server, "")
	dep, err := c.ledger.GetDeployment(ctx, connect.NewRequest(&tollgatev1.GetDeploymentRequest{}))
	if err != nil {
		return err
	}
	url := *rpc
	if url == "" {
		if url = dep.Msg.GetRpc(); url == "" {
			return errors.New("deposit: the node serves no chain RPC; give --rpc")
		}
	}
	ec, err := chain.Dial(ctx, url)
	if err != nil {
		return err
	}
	defer ec.Close()
	sc, err := chain.Attach(ctx, ec, chain.Deployment{ChainID: dep.Msg.GetChainId(), Settlement: dep.Msg.GetSettlement(), Token: dep.Msg.GetToken(), Block: dep.Msg.GetBlock()})
	if err != nil {
		return err
	}
	to := *account
	if to == "" {
		to = registry.Address(key)
	}
	ev, err := sc.Deposit(ctx, key, to, amount)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(out).Encode(map[string]any{"account": to, "amount": amount.String(), "deposit": ev.Ref, "block": ev.Block})
	}
	fmt.Fprintf(out, "deposited %s for %s in %s (block %d); the node credits it once the block is confirmed\n", tgt(amount), to, ev.Ref, ev.Block)
	return nil
}
