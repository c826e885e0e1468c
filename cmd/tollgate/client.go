package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"

	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/gen/tollgate/v1/tollgatev1connect"
	"github.com/tollgate-dev/tollgate/ledger/chain"
	"github.com/tollgate-dev/tollgate/registry"
)

type client struct {
	agent    tollgatev1connect.AgentServiceClient
	ledger   tollgatev1connect.LedgerServiceClient
	registry tollgatev1connect.RegistryServiceClient
	token    string
}

func newClient(server, token string) *client {
	return &client{
		agent:    tollgatev1connect.NewAgentServiceClient(http.DefaultClient, server),
		ledger:   tollgatev1connect.NewLedgerServiceClient(http.DefaultClient, server),
		registry: tollgatev1connect.NewRegistryServiceClient(http.DefaultClient, server),
		token:    token,
	}
}

// quote is what a call of an agent costs as the node resolves it now.
type quote struct {
	Agent    string   // the ref asked for, as sent
	Resolved string   // the name@version it resolves to
	Price    *big.Int // per call, in base units
}

// quote resolves agent (name@latest included) and reads its price per
// call from its signed manifest.
func (c *client) quote(ctx context.Context, agent string) (quote, error) {
	return quoteWith(ctx, c.registry, agent)
}

func quoteWith(ctx context.Context, reg tollgatev1connect.RegistryServiceClient, agent string) (quote, error) {
	res, err := reg.GetPlugin(ctx, connect.NewRequest(&tollgatev1.GetPluginRequest{Ref: agent}))
	if err != nil {
		return quote{}, err
	}
	var m registry.Manifest
	if err := json.Unmarshal([]byte(res.Msg.GetPlugin().GetManifestJson()), &m); err != nil {
		return quote{}, fmt.Errorf("the node sent %s's manifest unreadable: %w", agent, err)
	}
	return quote{Agent: agent, Resolved: m.Ref(), Price: m.PriceAmount()}, nil
}

func authed[T any](c *client, msg *T) *connect.Request[T] {
	req := connect.NewRequest(msg)
	if c.token != "" {
		req.Header().Set("Authorization", "Bearer "+c.token)
	}
	return req
}

// invoke calls agent, paying at most maxPrice per call: the node refuses
// the call (price_exceeded) if the agent asks more when the call arrives.
func (c *client) invoke(ctx context.Context, agent, input string, maxPrice *big.Int) (*tollgatev1.InvokeResponse, error) {
	res, err := c.agent.Invoke(ctx, authed(c, &tollgatev1.InvokeRequest{Agent: agent, InputText: input, MaxPrice: maxPrice.String()}))
	if err != nil {
		return nil, err
	}
	return res.Msg, nil
}

// quoteAndInvoke resolves agent, tells the caller the price it will pay,
// and invokes the version it resolved to with exactly that price as the
// bound: a republish in between (at another price, reading other
// datanets) changes nothing the caller agreed to.
func (c *client) quoteAndInvoke(ctx context.Context, agent, input string) (quote, *tollgatev1.InvokeResponse, error) {
	q, err := c.quote(ctx, agent)
	if err != nil {
		return q, nil, err
	}
	res, err := c.invoke(ctx, q.Resolved, input, q.Price)
	return q, res, err
}

func invokeCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "invoke [NAME[@VERSION]] [INPUT…]",
		Short: "Invoke an agent on a running node and print its answer and receipt",
		Long: `Invoke an agent and print its answer and the receipt of what the call cost
and who earned it. The agent is the first argument when it looks like one
(owner/name or name@version) and input follows or comes on standard input,
else --agent; NAME without @VERSION is NAME@latest. Without INPUT the input
is read from standard input.

The CLI first resolves the agent and shows its price; the call is sent
naming the version it resolved to, with that price as the most it pays
(--max-price changes the bound), so a republish in between is refused,
not charged.`,
		Example: `  tollgate invoke examples/qa "Why is the sky blue?"
  echo "Why is the sky blue?" | tollgate invoke examples/qa@1.0.0 --json
  tollgate invoke --agent you/agent --max-price 0.01 -- "-5 is negative"`,
		Args: nArgs(0, -1),
	}
	a.serverFlags(cmd, false)
	agentFlag := cmd.Flags().String("agent", exampleAgent, "agent name@version, or name for name@latest (or give it as the first argument)")
	maxPriceFlag := cmd.Flags().String("max-price", "", "the most to pay per call, in TGT (0.01), base units (1500wei) or 0 (default: the price the agent has now, shown first)")
	a.jsonFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, words []string) error {
		ctx, out := cmd.Context(), a.out
		agent := *agentFlag
		// The first argument names the agent when input follows it, or comes
		// on standard input (echo "Why?" | tollgate invoke me/qa).
		if len(words) > 0 && !cmd.Flags().Changed("agent") && looksLikeAgent(words[0]) && (len(words) > 1 || stdinPiped()) {
			agent, words = words[0], words[1:]
		}
		agent = withVersion(agent)
		input := strings.Join(words, " ")
		if len(words) == 0 {
			var err error
			if input, err = readStdin(); err != nil {
				return err
			}
		}
		c := newClient(a.server, a.tokenFor(a.server))
		var maxPrice *big.Int
		if *maxPriceFlag != "" {
			v, err := parsePrice(*maxPriceFlag)
			if err != nil {
				return usageErr("invoke: --max-price: " + err.Error())
			}
			maxPrice = v
		} else {
			// The caller agrees to the version and price it is shown, and to
			// no more: the call names that version, so a republish of
			// name@latest in between (at another price, reading other,
			// dearer datanets) is not what runs.
			q, err := c.quote(ctx, agent)
			if err != nil {
				return err
			}
			agent, maxPrice = q.Resolved, q.Price
			if !a.asJSON {
				fmt.Fprintf(os.Stderr, "%s is %s: %s a call, plus its record reads (refused if it asks more when the call arrives)\n", q.Agent, q.Resolved, tgt(q.Price))
			}
		}
		res, err := c.invoke(ctx, agent, input, maxPrice)
		if err != nil {
			return err
		}
		if a.asJSON {
			// The response, and the bound the call was sent with.
			m, err := protoMap(res)
			if err != nil {
				return err
			}
			m["maxPrice"] = maxPrice.String()
			return printValue(out, m)
		}
		fmt.Fprintln(out, res.GetOutputText())
		fmt.Fprintln(out)
		printReceipt(out, res.GetReceipt(), nil)
		return nil
	}
	return cmd
}

// withVersion makes an agent without @version NAME@latest.
func withVersion(agent string) string {
	if !strings.Contains(agent, "@") {
		return agent + "@latest"
	}
	return agent
}

// looksLikeAgent reports whether an invoke's first argument names the
// agent rather than starting the input: it is an owner/name or a
// name@version, never plain words.
func looksLikeAgent(arg string) bool {
	if !strings.ContainsAny(arg, "/@") {
		return false
	}
	ref := arg
	if !strings.Contains(ref, "@") {
		ref += "@latest"
	}
	_, _, err := registry.ParseRef(ref)
	return err == nil
}

// readStdin reads an invoke's input from standard input when no argument
// gives it; a terminal there means the caller forgot the input.
// stdinPiped reports whether standard input is a pipe or a file rather
// than a terminal or /dev/null.
func stdinPiped() bool {
	fi, err := os.Stdin.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice == 0
}

func readStdin() (string, error) {
	if !stdinPiped() {
		return "", usageErr("invoke: give the input as arguments, or on standard input")
	}
	b, err := io.ReadAll(os.Stdin)
	if err != nil {
		return "", fmt.Errorf("invoke: read standard input: %w", err)
	}
	input := strings.TrimSpace(string(b))
	if input == "" {
		return "", usageErr("invoke: standard input is empty; give the input")
	}
	return input, nil
}

func balanceCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "balance [ACCOUNT]",
		Short: "Show an account's credit and earnings on a node, its deposits still waiting, and its wallet on-chain",
		Long: `Show an account's credit (what it can spend on calls) and earnings (what it
can claim once an epoch with them is posted) on the node; each deposit the
node has seen but not yet credited, with the blocks it still waits for (a
node credits a deposit once enough blocks follow it: see serve
--confirmations); and, when the node has a chain, the account's token
balance on-chain and what it has claimed so far. ACCOUNT defaults to the
signed-in one; another account's balance needs the operator's token.`,
		Example: `  tollgate balance
  tollgate balance 0x5B38Da6a701c568545dCfcB03FcB875f56beddC4 --json`,
		Args: nArgs(0, 1),
	}
	a.serverFlags(cmd, false)
	a.jsonFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		account := ""
		if len(args) == 1 {
			account = args[0]
		}
		c := newClient(a.server, a.tokenFor(a.server))
		res, err := c.ledger.GetBalance(ctx, authed(c, &tollgatev1.GetBalanceRequest{Account: account}))
		if err != nil {
			return err
		}
		r := res.Msg
		if a.asJSON {
			return printJSON(a.out, r)
		}
		fmt.Fprintf(a.out, "%s  balance %s  earned %s\n", r.GetAccount(), tgtString(r.GetBalance()), tgtString(r.GetEarned()))
		for _, d := range r.GetPending() {
			fmt.Fprintf(a.out, "deposit %s of %s (block %d) waits for %d more blocks before it is credited\n", d.GetRef(), tgtString(d.GetAmount()), d.GetBlock(), d.GetBlocksToGo())
		}
		if r.GetWallet() != "" {
			fmt.Fprintf(a.out, "on-chain: wallet %s  claimed %s\n", tgtString(r.GetWallet()), tgtString(r.GetClaimed()))
		} else {
			fmt.Fprintln(a.out, "(the node has no chain: on-chain balance not shown)")
		}
		return nil
	}
	return cmd
}

func deploymentOf(d *tollgatev1.GetDeploymentResponse) chain.Deployment {
	return chain.Deployment{ChainID: d.GetChainId(), Settlement: d.GetSettlement(), Token: d.GetToken(), Block: d.GetBlock()}
}

// printReceipt prints a receipt's postings as a table; names labels
// addresses where it knows them.
func printReceipt(out io.Writer, r *tollgatev1.Receipt, names map[string]string) {
	fmt.Fprintf(out, "receipt %s  charged %s  attribution %s (%s)\n", r.GetId(), tgtString(r.GetCharged()), r.GetAttribution(), r.GetMethod())
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kind\taccount\tamount\t")
	for _, p := range r.GetPostings() {
		who := p.GetAccount()
		if n, ok := names[who]; ok {
			who = n + " " + short(who)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t\n", p.GetKind(), who, tgtString(p.GetAmount()))
	}
	tw.Flush()
	for _, g := range r.GetGenerations() {
		fmt.Fprintf(out, "model %s (%s): %d tokens in, %d out (%s), cost %s; %d training records made its tokens\n",
			g.GetModel(), g.GetBackend(), g.GetTokensIn(), g.GetTokensOut(), g.GetFinish(), tgtString(g.GetCost()), len(g.GetShares()))
		for _, sh := range g.GetShares() {
			fmt.Fprintf(out, "  %s tokens  %s/%s  %s\n", sh.GetTokens(), sh.GetDatanet(), short(sh.GetRecord()), short(sh.GetContributor()))
		}
	}
}

func short(addr string) string {
	if len(addr) > 10 {
		return addr[:6] + "…" + addr[len(addr)-4:]
	}
	return addr
}
