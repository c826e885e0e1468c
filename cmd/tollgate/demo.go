package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/tollgate-dev/tollgate/api"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/api/auth"
	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/verify"
)

// demo runs the whole loop once on embedded defaults in a temporary
// directory: datanet, agent, funded caller, invocations over the real
// Connect API, an epoch settled on-chain, and one contributor's claim.
func demoCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole loop once, end to end, in a temporary directory",
		Long: `Run the whole loop once on embedded defaults, in a temporary directory: a node
with its chain, a datanet and an agent, a funded caller, invocations over
the real Connect API, an epoch settled on-chain, a third-party verification
and one contributor's claim. Each step says what it does and how long it
took; the first run compiles the plugins, which takes a while.`,
		Example: "  tollgate demo\n  tollgate demo --keep",
		Args:    nArgs(0, 0),
	}
	keep := cmd.Flags().Bool("keep", false, "keep the temporary data directory")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return demo(cmd.Context(), *keep, a.out)
	}
	return cmd
}

func demo(ctx context.Context, keepDir bool, out io.Writer) error {
	keep := &keepDir
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "tollgate-demo-")
	if err != nil {
		return err
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}
	start := time.Now()
	last := start
	first := true
	step := func(format string, a ...any) {
		now := time.Now()
		if !first {
			fmt.Fprintf(out, "-- done in %s\n", now.Sub(last).Round(time.Millisecond))
		}
		first = false
		fmt.Fprintf(out, "\n== [%s] "+format+"\n", append([]any{now.Sub(start).Round(100 * time.Millisecond)}, a...)...)
		last = now
	}

	step("Starting a node in %s (Badger ledger and registry, embedded EVM chain, built-in plugins compiled)", dir)
	var n *node
	err = during(out, "starting the chain and compiling the built-in plugins (the first run takes a while; later runs use the cache)", func() error {
		var err error
		n, err = openNode(ctx, nodeConfig{dataDir: dir, logger: slog.New(slog.DiscardHandler)})
		return err
	})
	if err != nil {
		return err
	}
	defer n.close(context.Background())
	dep := n.client.Deployment()
	fmt.Fprintf(out, "chain %d: TestToken %s, Settlement %s, operator %s\n", dep.ChainID, dep.Token, dep.Settlement, n.host.Operator())

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srvCtx, stopSrv := context.WithCancel(ctx)
	defer stopSrv()
	handler, err := n.handler(api.DefaultLimits(), nil)
	if err != nil {
		return err
	}
	go api.Serve(srvCtx, api.NewServer(handler, api.DefaultLimits()), ln)
	server := "http://" + ln.Addr().String()
	fmt.Fprintf(out, "Connect API on %s\n", server)

	step("Creating datanet %s and publishing agent %s", exampleDatanet, exampleAgent)
	var ex *example
	err = during(out, "signing records and compiling the agent", func() error {
		var err error
		ex, err = seedExample(ctx, n)
		return err
	})
	if err != nil {
		return err
	}
	names := map[string]string{n.host.Operator(): "operator"}
	for name, p := range ex.contributors {
		names[p.addr()] = name
	}
	fmt.Fprintf(out, "%d records signed by alice, bob and carol; %s per record read\n", len(facts), tgt(readPrice))
	fmt.Fprintf(out, "%s published by the operator %s (examples/ is the operator's namespace), %s a call, attribution %s\n", ex.agent.Manifest.Ref(), short(ex.developer.addr()), tgt(ex.agent.Manifest.PriceAmount()), ex.agent.Manifest.AttributionRef())

	step("Funding a caller: mint, deposit into Settlement, credit the ledger from the chain")
	caller := newParty("caller")
	names[caller.addr()] = "caller"
	ref, err := fund(ctx, n, caller, callerCredit)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "caller %s deposited %s (deposit %s)\n", short(caller.addr()), tgt(callerCredit), short(ref))
	callTok, err := n.tokens.Issue(auth.Principal{Account: caller.addr()})
	if err != nil {
		return err
	}
	c := newClient(server, callTok)

	for _, q := range []string{"Why is the sky blue?", "At what temperature does water boil?", "Why does ice float on water?"} {
		step("Invoke %s: %q", exampleAgent, q)
		var quoted quote
		var res *tollgatev1.InvokeResponse
		err := during(out, "running the agent (the first call loads it)", func() error {
			var err error
			quoted, res, err = c.quoteAndInvoke(ctx, exampleAgent+"@latest", q)
			return err
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s is %s at %s a call: sent as max_price, so a republish at a higher price is refused, not charged\n", quoted.Agent, quoted.Resolved, tgt(quoted.Price))
		fmt.Fprintln(out, res.GetOutputText())
		fmt.Fprintln(out)
		printReceipt(out, res.GetReceipt(), names)
	}

	step("A caller without credit is refused before the agent runs")
	broke := newParty("broke")
	brokeTok, _ := n.tokens.Issue(auth.Principal{Account: broke.addr()})
	_, _, err = newClient(server, brokeTok).quoteAndInvoke(ctx, exampleAgent+"@latest", "Why is the sky blue?")
	var ce *connect.Error
	if !errors.As(err, &ce) || ce.Meta().Get(api.CodeHeader) != string(abi.CodeInsufficientCredit) {
		return fmt.Errorf("an unfunded caller was not refused: %v", err)
	}
	fmt.Fprintf(out, "refused: %s (%s)\n", ce.Code(), ce.Meta().Get(api.CodeHeader))

	step("Closing epoch 1 and posting its Merkle root on-chain")
	opTok, _ := n.tokens.Issue(auth.Principal{Account: n.host.Operator(), Operator: true})
	closed, err := newClient(server, opTok).ledger.CloseEpoch(ctx, authed(newClient(server, opTok), &tollgatev1.CloseEpochRequest{}))
	if err != nil {
		return err
	}
	e := closed.Msg
	fmt.Fprintf(out, "epoch %d: %d receipts, %d accounts, total %s\nroot %s\nposted in tx %s\n", e.GetEpoch(), e.GetReceipts(), e.GetAccounts(), tgtString(e.GetTotal()), e.GetRoot(), e.GetPostTx())

	step("Earnings by account")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "account\taddress\tearned\t")
	var accounts []string
	for a := range names {
		accounts = append(accounts, a)
	}
	sort.Slice(accounts, func(i, j int) bool { return names[accounts[i]] < names[accounts[j]] })
	for _, a := range accounts {
		earned, err := n.led.Earned(ctx, a)
		if err != nil {
			return err
		}
		if earned.Sign() > 0 {
			fmt.Fprintf(tw, "%s\t%s\t%s\t\n", names[a], a, tgt(earned))
		}
	}
	tw.Flush()
	callerLeft, _ := n.led.Balance(ctx, caller.addr())
	fmt.Fprintf(out, "caller credit left: %s\n", tgt(callerLeft))

	step("Verifying epoch %d as a third party would: re-run every receipt, rebuild the tree", e.GetEpoch())
	var v *verify.Verification
	err = during(out, "re-running the receipts", func() error {
		var err error
		v, err = n.verifyEpoch(ctx, e.GetEpoch())
		return err
	})
	if err != nil {
		return err
	}
	if err := printVerification(v, false, out); err != nil {
		return err
	}

	alice := ex.contributors["alice"]
	step("alice claims on-chain with her Merkle proof")
	proof, err := c.ledger.GetProof(ctx, connect.NewRequest(&tollgatev1.GetProofRequest{Account: alice.addr()}))
	if err != nil {
		return err
	}
	cumulative, _ := new(big.Int).SetString(proof.Msg.GetCumulative(), 10)
	before, err := n.client.TokenBalance(ctx, alice.addr())
	if err != nil {
		return err
	}
	if _, err := n.client.SendETH(ctx, n.operator, alice.addr(), new(big.Int).Div(oneToken, big.NewInt(100))); err != nil {
		return err
	}
	claimTx, err := n.client.Claim(ctx, alice.key, alice.addr(), cumulative, proof.Msg.GetProof())
	if err != nil {
		return err
	}
	after, err := n.client.TokenBalance(ctx, alice.addr())
	if err != nil {
		return err
	}
	earned, _ := n.led.Earned(ctx, alice.addr())
	rise := new(big.Int).Sub(after, before)
	fmt.Fprintf(out, "proof of %d hashes for cumulative %s against root %s\n", len(proof.Msg.GetProof()), tgt(cumulative), proof.Msg.GetRoot())
	fmt.Fprintf(out, "claim tx %s\n", claimTx)
	fmt.Fprintf(out, "alice's token balance: %s -> %s (+%s); the ledger says she earned %s\n", tgt(before), tgt(after), tgt(rise), tgt(earned))
	if rise.Cmp(earned) != 0 {
		return fmt.Errorf("alice received %s on-chain but earned %s", rise, earned)
	}
	if _, err := n.client.Claim(ctx, alice.key, alice.addr(), cumulative, proof.Msg.GetProof()); err == nil {
		return errors.New("a second claim of the same amount was accepted")
	}
	fmt.Fprintln(out, "a second claim of the same proof is refused by the contract")

	step("Checking the ledger's invariants")
	if err := n.led.Check(ctx); err != nil {
		return err
	}
	fmt.Fprintln(out, "postings sum to zero, credit and earnings match their records, solvent, every receipt signed by the operator, the epoch's tree holds its total: ok")
	fmt.Fprintf(out, "-- done in %s\n\nthe whole loop took %s\n", time.Since(last).Round(time.Millisecond), time.Since(start).Round(100*time.Millisecond))
	return nil
}

// during runs fn, saying every few seconds that it is still at what, so
// that slow work (compiling plugins on a cold start) is not silence.
func during(out io.Writer, what string, fn func() error) error {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		start := time.Now()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintf(out, "   … still %s (%s)\n", what, time.Since(start).Round(time.Second))
			}
		}
	}()
	err := fn()
	close(done)
	return err
}
