package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"

	"connectrpc.com/connect"

	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/gen/tollgate/v1/tollgatev1connect"
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

func invokeCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("invoke")
	server := fs.String("server", defaultServer, "node URL")
	token := fs.String("token", "", "caller's API token")
	agentFlag := fs.String("agent", exampleAgent, "agent name@version, or name for name@latest (or give it as the first argument)")
	maxPriceFlag := fs.String("max-price", "", "the most to pay per call, in tokens (0.01), base units (1500wei) or 0 (default: the price the agent has now, shown first)")
	asJSON := fs.Bool("json", false, "print the response as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	agent, words := *agentFlag, fs.Args()
	// The first argument names the agent when input follows it, or comes
	// on standard input (echo "Why?" | tollgate invoke me/qa).
	if len(words) > 0 && !flagGiven(fs, "agent") && looksLikeAgent(words[0]) && (len(words) > 1 || stdinPiped()) {
		agent, words = words[0], words[1:]
	}
	if !strings.Contains(agent, "@") {
		agent += "@latest"
	}
	input := strings.Join(words, " ")
	if len(words) == 0 {
		var err error
		if input, err = readStdin(); err != nil {
			return err
		}
	}
	c := newClient(*server, tokenFor(*server, *token))
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
		// name@latest in between (at another price, reading other, dearer
		// datanets) is not what runs.
		q, err := c.quote(ctx, agent)
		if err != nil {
			return err
		}
		agent, maxPrice = q.Resolved, q.Price
		if !*asJSON {
			fmt.Fprintf(os.Stderr, "%s is %s: %s a call, plus its record reads (refused if it asks more when the call arrives)\n", q.Agent, q.Resolved, tgt(q.Price))
		}
	}
	res, err := c.invoke(ctx, agent, input, maxPrice)
	if err != nil {
		return err
	}
	if *asJSON {
		// The response, and the bound the call was sent with.
		return json.NewEncoder(out).Encode(struct {
			*tollgatev1.InvokeResponse
			MaxPrice string `json:"max_price"`
		}{res, maxPrice.String()})
	}
	fmt.Fprintln(out, res.GetOutputText())
	fmt.Fprintln(out)
	printReceipt(out, res.GetReceipt(), nil)
	return nil
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

// flagGiven reports whether a flag was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
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

func balanceCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("balance")
	server := fs.String("server", defaultServer, "node URL")
	token := fs.String("token", "", "API token of the account (or the operator's)")
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return usageErr("balance: give at most one account address (default: the token's own)")
	}
	c := newClient(*server, tokenFor(*server, *token))
	res, err := c.ledger.GetBalance(ctx, authed(c, &tollgatev1.GetBalanceRequest{Account: fs.Arg(0)}))
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(out, res.Msg)
	}
	fmt.Fprintf(out, "%s  balance %s  earned %s\n", res.Msg.GetAccount(), tgtString(res.Msg.GetBalance()), tgtString(res.Msg.GetEarned()))
	return nil
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
}

func short(addr string) string {
	if len(addr) > 10 {
		return addr[:6] + "…" + addr[len(addr)-4:]
	}
	return addr
}
