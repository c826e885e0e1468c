package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"

	"connectrpc.com/connect"

	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/gen/tollgate/v1/tollgatev1connect"
)

type client struct {
	agent  tollgatev1connect.AgentServiceClient
	ledger tollgatev1connect.LedgerServiceClient
	token  string
}

func newClient(server, token string) *client {
	return &client{
		agent:  tollgatev1connect.NewAgentServiceClient(http.DefaultClient, server),
		ledger: tollgatev1connect.NewLedgerServiceClient(http.DefaultClient, server),
		token:  token,
	}
}

func authed[T any](c *client, msg *T) *connect.Request[T] {
	req := connect.NewRequest(msg)
	if c.token != "" {
		req.Header().Set("Authorization", "Bearer "+c.token)
	}
	return req
}

func (c *client) invoke(ctx context.Context, agent, input string) (*tollgatev1.InvokeResponse, error) {
	res, err := c.agent.Invoke(ctx, authed(c, &tollgatev1.InvokeRequest{Agent: agent, InputText: input}))
	if err != nil {
		return nil, err
	}
	return res.Msg, nil
}

func invokeCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("invoke")
	server := fs.String("server", defaultServer, "node URL")
	token := fs.String("token", "", "caller's API token")
	agent := fs.String("agent", exampleAgent+"@latest", "agent name@version")
	asJSON := fs.Bool("json", false, "print the response as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("invoke: give the input as an argument")
	}
	res, err := newClient(*server, tokenFor(*server, *token)).invoke(ctx, *agent, strings.Join(fs.Args(), " "))
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(out).Encode(res)
	}
	fmt.Fprintln(out, res.GetOutputText())
	fmt.Fprintln(out)
	printReceipt(out, res.GetReceipt(), nil)
	return nil
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
		return errors.New("balance: give at most one account address (default: the token's own)")
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
