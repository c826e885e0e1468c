package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/abi"
	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/ledger/chain"
	"github.com/tollgate-dev/tollgate/registry"
)

// receiptCommand shows one receipt, or lists an account's.
func receiptCommand(a *app) *cobra.Command {
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one receipt: what a call cost, and who earned what",
		Long: `Show a receipt by its id, or by a prefix of it that matches one of the
caller's receipts (as receipt list prints them).`,
		Example: `  tollgate receipt show 7f3a
  tollgate receipt show 7f3a9c0e… --json`,
		Args: nArgs(1, 1),
	}
	a.jsonFlag(show)
	show.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		c := newClient(a.server, a.tokenFor(a.server))
		res, err := c.ledger.GetReceipt(ctx, authed(c, &tollgatev1.GetReceiptRequest{Id: args[0]}))
		if connect.CodeOf(err) == connect.CodeNotFound {
			// A prefix: resolved among the caller's own receipts.
			full, perr := resolveReceipt(ctx, c, args[0])
			if perr != nil {
				return perr
			}
			if full == "" {
				return err
			}
			res, err = c.ledger.GetReceipt(ctx, authed(c, &tollgatev1.GetReceiptRequest{Id: full}))
		}
		if err != nil {
			return err
		}
		if a.asJSON {
			return printJSON(a.out, res.Msg)
		}
		r := res.Msg.GetReceipt()
		fmt.Fprintf(a.out, "agent %s  caller %s  epoch %d  at %s\n", r.GetAgent(), r.GetCaller(), r.GetEpoch(), r.GetTime())
		printReceipt(a.out, r, nil)
		return nil
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List an account's receipts, newest first",
		Example: `  tollgate receipt list
  tollgate receipt list --epoch 3 --limit 10 --json`,
		Args: nArgs(0, 0),
	}
	account := list.Flags().String("account", "", "the account (default: the signed-in one; others need the operator's token)")
	epoch := list.Flags().Uint64("epoch", 0, "one epoch only (default: all)")
	limit := list.Flags().Uint("limit", 50, "most receipts to show")
	a.jsonFlag(list)
	list.RunE = func(cmd *cobra.Command, args []string) error {
		c := newClient(a.server, a.tokenFor(a.server))
		rs, next, err := listReceipts(cmd.Context(), c, *account, *epoch, int(*limit))
		if err != nil {
			return err
		}
		sortNewestFirst(rs)
		if a.asJSON {
			return printJSON(a.out, &tollgatev1.ListReceiptsResponse{Receipts: rs, NextPageToken: next})
		}
		tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "time\tepoch\treceipt\tagent\tmethod\tcharged\tearned")
		for _, ar := range rs {
			r := ar.GetReceipt()
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", shownTime(r), r.GetEpoch(), r.GetId(), r.GetAgent(), r.GetMethod(), tgtString(ar.GetCharged()), tgtString(ar.GetEarned()))
		}
		return tw.Flush()
	}
	g := group("receipt", "Show a receipt, or list an account's receipts", "", "  tollgate receipt list\n  tollgate receipt show 7f3a", show, list)
	a.serverFlags(g, true)
	return g
}

// receiptTime is when a receipt was made, for sorting.
func receiptTime(r *tollgatev1.Receipt) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, r.GetTime())
	return t
}

// shownTime is a receipt's time for people: to the second, in UTC.
func shownTime(r *tollgatev1.Receipt) string {
	t := receiptTime(r)
	if t.IsZero() {
		return r.GetTime()
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// sortNewestFirst orders receipts by their time, newest first; receipts of
// the same time keep the node's order.
func sortNewestFirst(rs []*tollgatev1.AccountReceipt) {
	sort.SliceStable(rs, func(i, j int) bool {
		ti, tj := receiptTime(rs[i].GetReceipt()), receiptTime(rs[j].GetReceipt())
		if ti.Equal(tj) {
			return rs[i].GetReceipt().GetTime() > rs[j].GetReceipt().GetTime()
		}
		return ti.After(tj)
	})
}

// resolveReceipt finds the one receipt of the caller's whose id starts
// with prefix: "" if none does, a usage error listing them if several do.
func resolveReceipt(ctx context.Context, c *client, prefix string) (string, error) {
	rs, _, err := listReceipts(ctx, c, "", 0, 100_000)
	if err != nil {
		return "", nil // the caller's list is not readable: the lookup's not-found stands
	}
	var ids []string
	for _, r := range rs {
		if id := r.GetReceipt().GetId(); strings.HasPrefix(id, prefix) {
			ids = append(ids, id)
		}
	}
	switch len(ids) {
	case 0:
		return "", nil
	case 1:
		return ids[0], nil
	}
	if len(ids) > 10 {
		ids = append(ids[:10], fmt.Sprintf("and %d more", len(ids)-10))
	}
	return "", usageErr(fmt.Sprintf("receipt show: %q matches %d receipts; give more of the id:\n  %s", prefix, len(ids), strings.Join(ids, "\n  ")))
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

// earningsResult is what earnings prints.
type earningsResult struct {
	Account  string            `json:"account"`
	Earned   string            `json:"earned"`
	Receipts []json.RawMessage `json:"receipts"`
}

// earningsCommand shows what an account has earned, and from which calls.
func earningsCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "earnings",
		Short: "What an account earned in all, and from which calls",
		Example: `  tollgate earnings
  tollgate earnings --account 0x5B38Da6a701c568545dCfcB03FcB875f56beddC4 --json`,
		Args: nArgs(0, 0),
	}
	a.serverFlags(cmd, false)
	account := cmd.Flags().String("account", "", "the account (default: the signed-in one; others need the operator's token)")
	limit := cmd.Flags().Uint("limit", 50, "most paying receipts to show")
	a.jsonFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx, out := cmd.Context(), a.out
		c := newClient(a.server, a.tokenFor(a.server))
		bal, err := c.ledger.GetBalance(ctx, authed(c, &tollgatev1.GetBalanceRequest{Account: *account}))
		if err != nil {
			return err
		}
		rs, _, err := listReceipts(ctx, c, bal.Msg.GetAccount(), 0, int(*limit))
		if err != nil {
			return err
		}
		sortNewestFirst(rs)
		var paying []*tollgatev1.AccountReceipt
		for _, r := range rs {
			if e, ok := new(big.Int).SetString(r.GetEarned(), 10); ok && e.Sign() > 0 {
				paying = append(paying, r)
			}
		}
		if a.asJSON {
			res := earningsResult{Account: bal.Msg.GetAccount(), Earned: bal.Msg.GetEarned(), Receipts: []json.RawMessage{}}
			for _, r := range paying {
				b, err := protoJSON(r)
				if err != nil {
					return err
				}
				res.Receipts = append(res.Receipts, b)
			}
			return printValue(out, res)
		}
		fmt.Fprintf(out, "%s earned %s in all (claimable on-chain once an epoch with it is posted)\n", bal.Msg.GetAccount(), tgtString(bal.Msg.GetEarned()))
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "time\tepoch\treceipt\tagent\tcaller\tearned")
		for _, ar := range paying {
			r := ar.GetReceipt()
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", shownTime(r), r.GetEpoch(), r.GetId(), r.GetAgent(), r.GetCaller(), tgtString(ar.GetEarned()))
		}
		return tw.Flush()
	}
	return cmd
}

// epochCommand lists closed epochs, or closes the open one (operator).
func epochCommand(a *app) *cobra.Command {
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the closed epochs: receipts, totals, roots and the transactions that posted them",
		Example: "  tollgate epoch list\n  tollgate epoch list --json",
		Args:    nArgs(0, 0),
	}
	a.jsonFlag(list)
	list.RunE = func(cmd *cobra.Command, args []string) error {
		c := newClient(a.server, a.tokenFor(a.server))
		res, err := c.ledger.ListEpochs(cmd.Context(), connect.NewRequest(&tollgatev1.ListEpochsRequest{}))
		if err != nil {
			return err
		}
		if a.asJSON {
			return printJSON(a.out, res.Msg)
		}
		fmt.Fprintf(a.out, "open epoch: %d\n", res.Msg.GetOpen())
		tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "epoch\tclosed\treceipts\taccounts\ttotal\troot\tposted in")
		for _, e := range res.Msg.GetEpochs() {
			fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%s\t%s\t%s\n", e.GetEpoch(), time.Unix(e.GetClosed(), 0).UTC().Format(time.RFC3339),
				e.GetReceipts(), e.GetAccounts(), tgtString(e.GetTotal()), e.GetRoot(), e.GetPostTx())
		}
		return tw.Flush()
	}
	closeCmd := &cobra.Command{
		Use:     "close",
		Short:   "Close the open epoch and post its Merkle root on-chain (operator)",
		Example: "  tollgate epoch close --token OPERATOR_TOKEN",
		Args:    nArgs(0, 0),
	}
	a.jsonFlag(closeCmd)
	closeCmd.RunE = func(cmd *cobra.Command, args []string) error {
		c := newClient(a.server, a.tokenFor(a.server))
		res, err := c.ledger.CloseEpoch(cmd.Context(), authed(c, &tollgatev1.CloseEpochRequest{}))
		if err != nil {
			return err
		}
		if a.asJSON {
			return printJSON(a.out, res.Msg)
		}
		m := res.Msg
		fmt.Fprintf(a.out, "closed epoch %d: %d receipts, %d accounts, %s owed in all\nroot %s posted in %s\n",
			m.GetEpoch(), m.GetReceipts(), m.GetAccounts(), tgtString(m.GetTotal()), m.GetRoot(), m.GetPostTx())
		return nil
	}
	g := group("epoch", "List closed epochs, or close the open one (operator)", "", "  tollgate epoch list", list, closeCmd)
	a.serverFlags(g, true)
	return g
}

// depositResult is what deposit prints.
type depositResult struct {
	Account string `json:"account"`
	Amount  string `json:"amount"`
	Deposit string `json:"deposit"`
	Block   uint64 `json:"block"`
}

// depositCommand deposits tokens from a wallet into the settlement
// contract as credit for an account, through the node's chain (or --rpc).
func depositCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "deposit AMOUNT",
		Short: "Deposit tokens from a wallet on-chain as an account's credit",
		Long: `Send AMOUNT tokens (TGT, or base units with a wei suffix) from the key's wallet
to the settlement contract as credit for --account (default: the key's). The
node credits it once the block is confirmed.`,
		Example: `  tollgate deposit --key 0x5B38Da6a701c568545dCfcB03FcB875f56beddC4 2.5
  tollgate deposit 1 --key key.json --account 0xAb8483F64d9C6d1EcF9b849Ae677dD3315835cb2`,
		Args: nArgs(1, 1),
	}
	a.serverFlags(cmd, false)
	a.keyFlags(cmd, false, "wallet key paying the tokens and gas")
	account := cmd.Flags().String("account", "", "the account to credit (default: the key's)")
	rpc := cmd.Flags().String("rpc", "", "EVM node to send through (default: the chain RPC the node names)")
	a.jsonFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		amount, err := parseTGT(args[0])
		if err != nil {
			return usageErr("deposit: " + err.Error())
		}
		key, err := a.loadKey()
		if err != nil {
			return err
		}
		c := newClient(a.server, "")
		dep, err := c.ledger.GetDeployment(ctx, connect.NewRequest(&tollgatev1.GetDeploymentRequest{}))
		if err != nil {
			return err
		}
		url := *rpc
		if url == "" {
			if url = dep.Msg.GetRpc(); url == "" {
				return usageErr("deposit: the node names no chain RPC; give --rpc URL")
			}
		}
		ec, err := chain.Dial(ctx, url)
		if err != nil {
			return err
		}
		defer ec.Close()
		sc, err := chain.Attach(ctx, ec, deploymentOf(dep.Msg))
		if err != nil {
			return err
		}
		to := *account
		if to == "" {
			to = registry.Address(key)
		}
		ev, err := sc.Deposit(ctx, key, to, amount)
		if err != nil {
			if reason, ok := chain.RevertReason(err); ok {
				return abi.Errorf(chain.CodeChain, "deposit: %s", reason)
			}
			return err
		}
		if a.asJSON {
			return printValue(a.out, depositResult{Account: to, Amount: amount.String(), Deposit: ev.Ref, Block: ev.Block})
		}
		fmt.Fprintf(a.out, "deposited %s for %s in %s (block %d); the node credits it once the block is confirmed\n", tgt(amount), to, ev.Ref, ev.Block)
		return nil
	}
	return cmd
}
