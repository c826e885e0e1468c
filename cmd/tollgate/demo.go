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

// demoRun is the state the demo's steps share.
type demoRun struct {
	out    io.Writer
	start  time.Time
	last   time.Time
	first  bool
	n      *node
	server string
	names  map[string]string // address -> who, for printing
	ex     *example
	caller party
	c      *client
}

// step says the demo is at a new step, and how long the last one took.
func (d *demoRun) step(format string, a ...any) {
	now := time.Now()
	if !d.first {
		fmt.Fprintf(d.out, "-- done in %s\n", now.Sub(d.last).Round(time.Millisecond))
	}
	d.first = false
	fmt.Fprintf(d.out, "\n== [%s] "+format+"\n", append([]any{now.Sub(d.start).Round(100 * time.Millisecond)}, a...)...)
	d.last = now
}

func demo(ctx context.Context, keepDir bool, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "tollgate-demo-")
	if err != nil {
		return err
	}
	if !keepDir {
		defer os.RemoveAll(dir)
	}
	d := &demoRun{out: out, start: time.Now(), first: true}
	d.last = d.start
	stopNode, err := d.startNode(ctx, dir)
	if err != nil {
		return err
	}
	defer stopNode()
	for _, stage := range []func(context.Context) error{d.seed, d.fund, d.invoke, d.refuseBroke, d.model} {
		if err := stage(ctx); err != nil {
			return err
		}
	}
	epoch, err := d.closeEpoch(ctx)
	if err != nil {
		return err
	}
	if err := d.earnings(ctx); err != nil {
		return err
	}
	if err := d.verify(ctx, epoch); err != nil {
		return err
	}
	if err := d.claim(ctx); err != nil {
		return err
	}
	d.step("Checking the ledger's invariants")
	if err := d.n.led.Check(ctx); err != nil {
		return err
	}
	fmt.Fprintln(out, "postings sum to zero, credit and earnings match their records, solvent, every receipt signed by the operator, the epoch's tree holds its total: ok")
	fmt.Fprintf(out, "-- done in %s\n\nthe whole loop took %s\n", time.Since(d.last).Round(time.Millisecond), time.Since(d.start).Round(100*time.Millisecond))
	return nil
}

// startNode opens a node in dir and serves its API on a loopback port; the
// function it returns stops both.
func (d *demoRun) startNode(ctx context.Context, dir string) (stop func(), err error) {
	d.step("Starting a node in %s (Badger ledger and registry, embedded EVM chain, built-in plugins compiled)", dir)
	err = during(d.out, "starting the chain and compiling the built-in plugins (the first run takes a while; later runs use the cache)", func() error {
		var err error
		d.n, err = openNode(ctx, nodeConfig{dataDir: dir, logger: slog.New(slog.DiscardHandler)})
		return err
	})
	if err != nil {
		return nil, err
	}
	n := d.n
	dep := n.client.Deployment()
	fmt.Fprintf(d.out, "chain %d: TestToken %s, Settlement %s, operator %s\n", dep.ChainID, dep.Token, dep.Settlement, n.host.Operator())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		n.close(context.Background())
		return nil, err
	}
	handler, err := n.handler(api.DefaultLimits(), nil)
	if err != nil {
		ln.Close()
		n.close(context.Background())
		return nil, err
	}
	srvCtx, stopSrv := context.WithCancel(ctx)
	served := make(chan struct{})
	go func() {
		defer close(served)
		api.Serve(srvCtx, api.NewServer(handler, api.DefaultLimits()), ln)
	}()
	d.server = "http://" + ln.Addr().String()
	fmt.Fprintf(d.out, "Connect API on %s\n", d.server)
	return func() {
		stopSrv()
		<-served
		n.close(context.Background())
	}, nil
}

// seed creates the example datanet and publishes the example agent.
func (d *demoRun) seed(ctx context.Context) error {
	d.step("Creating datanet %s and publishing agent %s", exampleDatanet, exampleAgent)
	err := during(d.out, "signing records and compiling the agent", func() error {
		var err error
		d.ex, err = seedExample(ctx, d.n)
		return err
	})
	if err != nil {
		return err
	}
	d.names = map[string]string{d.n.host.Operator(): "operator"}
	for name, p := range d.ex.contributors {
		d.names[p.addr()] = name
	}
	fmt.Fprintf(d.out, "%d records signed by alice, bob and carol; %s per record read\n", len(facts), tgt(readPrice))
	m := d.ex.agent.Manifest
	fmt.Fprintf(d.out, "%s published by the operator %s (examples/ is the operator's namespace), %s a call, attribution %s\n", m.Ref(), short(d.ex.developer.addr()), tgt(m.PriceAmount()), m.AttributionRef())
	return nil
}

// fund deposits credit for a new caller on-chain and signs it in.
func (d *demoRun) fund(ctx context.Context) error {
	d.step("Funding a caller: mint, deposit into Settlement, credit the ledger from the chain")
	d.caller = newParty("caller")
	d.names[d.caller.addr()] = "caller"
	ref, err := fund(ctx, d.n, d.caller, callerCredit)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "caller %s deposited %s (deposit %s)\n", short(d.caller.addr()), tgt(callerCredit), short(ref))
	tok, err := d.n.tokens.Issue(auth.Principal{Account: d.caller.addr()})
	if err != nil {
		return err
	}
	d.c = newClient(d.server, tok)
	return nil
}

// invoke asks the example agent three questions and prints each receipt.
func (d *demoRun) invoke(ctx context.Context) error {
	for _, q := range []string{"Why is the sky blue?", "At what temperature does water boil?", "Why does ice float on water?"} {
		d.step("Invoke %s: %q", exampleAgent, q)
		var quoted quote
		var res *tollgatev1.InvokeResponse
		err := during(d.out, "running the agent (the first call loads it)", func() error {
			var err error
			quoted, res, err = d.c.quoteAndInvoke(ctx, exampleAgent+"@latest", q)
			return err
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(d.out, "%s is %s at %s a call: sent as max_price, so a republish at a higher price is refused, not charged\n", quoted.Agent, quoted.Resolved, tgt(quoted.Price))
		fmt.Fprintln(d.out, res.GetOutputText())
		fmt.Fprintln(d.out)
		printReceipt(d.out, res.GetReceipt(), d.names)
	}
	return nil
}

// model publishes a model built from the datanet and an agent that asks
// it, and calls the agent: the receipt pays the records read, the model's
// publisher, and the training records for the tokens they made.
func (d *demoRun) model(ctx context.Context) error {
	d.step("Publishing %s, a model built from %s (an ∞-gram model, embedded), and %s, an agent that asks it", exampleModel, exampleDatanet, exampleRAG)
	m, err := seedModel(ctx, d.n, d.ex)
	if err != nil {
		return err
	}
	pin, pout := m.Manifest.Model.Prices()
	t := m.Manifest.Model.Training[0]
	fmt.Fprintf(d.out, "%s: %s per 1,000 prompt tokens, %s per 1,000 generated; trained on %s at version %d (root %s)\n",
		m.Manifest.Ref(), tgt(pin), tgt(pout), t.Datanet, t.Version, short(t.Root))
	q := "Why is the sky blue?"
	d.step("Invoke %s: %q", exampleRAG, q)
	var res *tollgatev1.InvokeResponse
	err = during(d.out, "running the agent and the model (the first call builds the model's index)", func() error {
		var err error
		_, res, err = d.c.quoteAndInvoke(ctx, exampleRAG+"@latest", q)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(d.out, res.GetOutputText())
	fmt.Fprintln(d.out)
	printReceipt(d.out, res.GetReceipt(), d.names)
	return nil
}

// refuseBroke shows a caller without credit refused before anything runs.
func (d *demoRun) refuseBroke(ctx context.Context) error {
	d.step("A caller without credit is refused before the agent runs")
	broke := newParty("broke")
	tok, err := d.n.tokens.Issue(auth.Principal{Account: broke.addr()})
	if err != nil {
		return err
	}
	_, _, err = newClient(d.server, tok).quoteAndInvoke(ctx, exampleAgent+"@latest", "Why is the sky blue?")
	var ce *connect.Error
	if !errors.As(err, &ce) || ce.Meta().Get(api.CodeHeader) != string(abi.CodeInsufficientCredit) {
		return fmt.Errorf("an unfunded caller was not refused: %v", err)
	}
	fmt.Fprintf(d.out, "refused: %s (%s)\n", ce.Code(), ce.Meta().Get(api.CodeHeader))
	return nil
}

// closeEpoch closes the open epoch as the operator and posts its root.
func (d *demoRun) closeEpoch(ctx context.Context) (uint64, error) {
	d.step("Closing epoch 1 and posting its Merkle root on-chain")
	opTok, err := d.n.tokens.Issue(auth.Principal{Account: d.n.host.Operator(), Operator: true})
	if err != nil {
		return 0, err
	}
	op := newClient(d.server, opTok)
	closed, err := op.ledger.CloseEpoch(ctx, authed(op, &tollgatev1.CloseEpochRequest{}))
	if err != nil {
		return 0, err
	}
	e := closed.Msg
	fmt.Fprintf(d.out, "epoch %d: %d receipts, %d accounts, total %s\nroot %s\nposted in tx %s\n", e.GetEpoch(), e.GetReceipts(), e.GetAccounts(), tgtString(e.GetTotal()), e.GetRoot(), e.GetPostTx())
	return e.GetEpoch(), nil
}

// earnings prints what each party earned and the caller's credit left.
func (d *demoRun) earnings(ctx context.Context) error {
	d.step("Earnings by account")
	tw := tabwriter.NewWriter(d.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "account\taddress\tearned\t")
	var accounts []string
	for a := range d.names {
		accounts = append(accounts, a)
	}
	sort.Slice(accounts, func(i, j int) bool { return d.names[accounts[i]] < d.names[accounts[j]] })
	for _, a := range accounts {
		earned, err := d.n.led.Earned(ctx, a)
		if err != nil {
			return err
		}
		if earned.Sign() > 0 {
			fmt.Fprintf(tw, "%s\t%s\t%s\t\n", d.names[a], a, tgt(earned))
		}
	}
	tw.Flush()
	left, err := d.n.led.Balance(ctx, d.caller.addr())
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "caller credit left: %s\n", tgt(left))
	return nil
}

// verify re-runs the closed epoch as a third party would.
func (d *demoRun) verify(ctx context.Context, epoch uint64) error {
	d.step("Verifying epoch %d as a third party would: re-run every receipt, rebuild the tree", epoch)
	var v *verify.Verification
	err := during(d.out, "re-running the receipts", func() error {
		var err error
		v, err = d.n.verifyEpoch(ctx, epoch)
		return err
	})
	if err != nil {
		return err
	}
	return printVerification(v, false, d.out)
}

// claim has alice claim her earnings on-chain with her proof, and shows a
// second claim of the same proof refused.
func (d *demoRun) claim(ctx context.Context) error {
	n, alice := d.n, d.ex.contributors["alice"]
	d.step("alice claims on-chain with her Merkle proof")
	proof, err := d.c.ledger.GetProof(ctx, connect.NewRequest(&tollgatev1.GetProofRequest{Account: alice.addr()}))
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
	earned, err := n.led.Earned(ctx, alice.addr())
	if err != nil {
		return err
	}
	rise := new(big.Int).Sub(after, before)
	fmt.Fprintf(d.out, "proof of %d hashes for cumulative %s against root %s\n", len(proof.Msg.GetProof()), tgt(cumulative), proof.Msg.GetRoot())
	fmt.Fprintf(d.out, "claim tx %s\n", claimTx)
	fmt.Fprintf(d.out, "alice's token balance: %s -> %s (+%s); the ledger says she earned %s\n", tgt(before), tgt(after), tgt(rise), tgt(earned))
	if rise.Cmp(earned) != 0 {
		return fmt.Errorf("alice received %s on-chain but earned %s", rise, earned)
	}
	if _, err := n.client.Claim(ctx, alice.key, alice.addr(), cumulative, proof.Msg.GetProof()); err == nil {
		return errors.New("a second claim of the same amount was accepted")
	}
	fmt.Fprintln(d.out, "a second claim of the same proof is refused by the contract")
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
