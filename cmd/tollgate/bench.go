package main

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate-dev/tollgate/api"
	"github.com/tollgate-dev/tollgate/settle"

	"connectrpc.com/connect"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/abi"
	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/gen/tollgate/v1/tollgatev1connect"
	"github.com/tollgate-dev/tollgate/internal/siwe"
)

// benchResult is one load run.
type benchResult struct {
	// Calls counts the calls that succeeded, the only ones in PerSecond,
	// P50 and P99; Errors counts the rest.
	Calls, Errors int64
	// Refills counts callers that ran out of credit and went on as a new,
	// funded account; the refused call is not a sample.
	Refills    int64
	PerSecond  float64
	P50, P99   time.Duration
	FirstError string
}

// benchCmd is a load generator: -c callers invoke an agent for -d, and
// with --noop the same load first runs against a Connect handler that does
// nothing, in this process, so the node's figures come with their ratio to
// the transport's own cost on the same machine in the same run.
func benchCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load a node with concurrent invocations; --noop compares with a no-op handler",
		Long: `Load a node: -c callers invoke an agent back to back for -d. Without --token
each caller signs in as a new account and is funded by the faucet (a
development node). With --noop the same load first runs against a Connect
handler that does nothing, in this process, so the figures come with their
ratio to the transport's own cost on the same machine.`,
		Example: `  tollgate bench -c 64 -d 30s --noop
  tollgate bench --agent you/qa -c 8 -d 10s --json`,
		Args: nArgs(0, 0),
	}
	a.serverFlags(cmd, false)
	fs := cmd.Flags()
	agent := fs.String("agent", exampleAgent, "agent name@version, or name for name@latest")
	input := fs.String("input", "Why is the sky blue?", "input text")
	conc := fs.IntP("concurrency", "c", 64, "concurrent callers")
	dur := fs.DurationP("duration", "d", 30*time.Second, "how long to run")
	maxPriceFlag := fs.String("max-price", "", "the most a call may pay as the agent's price, in TGT (0.01), base units (1500wei) or 0 (default: the agent's price before the run)")
	noop := fs.Bool("noop", false, "also measure a no-op Connect handler in this process, with the same load")
	metricsToken := fs.String("metrics-token", "", "the operator's token: also report the node's CPU time per invoke, read from its /metrics (steadier than throughput on a shared machine)")
	also := fs.StringSlice("also", nil, "more hosts sharing --server's store (serve --store): callers are spread over --server and these, signed in and funded through --server (its tokens work on every host)")
	a.jsonFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return a.bench(cmd.Context(), benchOptions{agent: *agent, input: *input, concurrency: *conc, duration: *dur, maxPrice: *maxPriceFlag, noop: *noop, metricsToken: *metricsToken, also: *also})
	}
	return cmd
}

// benchResultJSON is what bench prints under --json.
type benchResultJSON struct {
	InvokesPerSecond float64 `json:"invokesPerSecond"`
	P50Ms            float64 `json:"p50Ms"`
	P99Ms            float64 `json:"p99Ms"`
	Calls            int64   `json:"calls"`
	Errors           int64   `json:"errors"`
	Refills          int64   `json:"refills"`
	FirstError       string  `json:"firstError,omitempty"`
	NoopPerSecond    float64 `json:"noopPerSecond,omitempty"`
	NoopP99Ms        float64 `json:"noopP99Ms,omitempty"`
	// NodeCPUMicrosPerInvoke is the node's CPU time (user and system) over
	// the run, per successful call; with --metrics-token only.
	NodeCPUMicrosPerInvoke float64 `json:"nodeCpuMicrosPerInvoke,omitempty"`
}

// benchOptions are a bench run's flags.
type benchOptions struct {
	agent, input string
	concurrency  int
	duration     time.Duration
	maxPrice     string
	noop         bool
	metricsToken string
	also         []string // more hosts of the same node
}

func (a *app) bench(ctx context.Context, o benchOptions) error {
	out, server, token := a.out, &a.server, &a.token
	agent, input, conc, dur, maxPriceFlag, noop, asJSON := &o.agent, &o.input, &o.concurrency, &o.duration, &o.maxPrice, &o.noop, &a.asJSON
	if *conc < 1 || *dur <= 0 {
		return usageErr("bench: -c and -d must be positive")
	}
	*agent = withVersion(*agent)
	// Every call carries a max_price, as every CLI call does: a bench
	// measures calls at the price it started with.
	var maxPrice *big.Int
	if *maxPriceFlag != "" {
		v, err := parsePrice(*maxPriceFlag)
		if err != nil {
			return usageErr("bench: --max-price: " + err.Error())
		}
		maxPrice = v
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conc, MaxConnsPerHost: *conc}}
	if maxPrice == nil {
		q, err := quoteWith(ctx, tollgatev1connect.NewRegistryServiceClient(client, *server), *agent)
		if err != nil {
			return fmt.Errorf("bench: resolving %s: %w", *agent, err)
		}
		maxPrice = q.Price
	}
	tokens := make([]string, *conc)
	for i := range tokens {
		tokens[i] = *token
	}
	var refill func(context.Context) (string, error)
	if *token == "" {
		if err := benchCallers(ctx, client, *server, tokens); err != nil {
			if strings.Contains(err.Error(), string(settle.CodeFaucetBudget)) {
				return fmt.Errorf("bench: provisioning callers: %w (a run funds two accounts a caller: start the node with serve --faucet-budget 0, or give --token)", err)
			}
			return fmt.Errorf("bench: provisioning callers (give --token on a node without a faucet): %w", err)
		}
		// A spare funded account per caller, made before the run, so
		// callers that run dry during it switch accounts without loading
		// the node with sign-ins and faucet transactions.
		spares := make([]string, *conc)
		if err := benchCallers(ctx, client, *server, spares); err != nil {
			return fmt.Errorf("bench: provisioning callers: %w", err)
		}
		pool := make(chan string, len(spares))
		for _, t := range spares {
			pool <- t
		}
		refill = func(ctx context.Context) (string, error) {
			select {
			case t := <-pool:
				return t, nil
			default:
			}
			tok := []string{""}
			err := benchCallers(ctx, client, *server, tok)
			return tok[0], err
		}
	}
	req := &tollgatev1.InvokeRequest{Agent: *agent, InputText: *input, MaxPrice: maxPrice.String()}
	var noopRes *benchResult
	if *noop {
		url, stop, err := noopServer()
		if err != nil {
			return err
		}
		r := runLoad(ctx, []tollgatev1connect.AgentServiceClient{tollgatev1connect.NewAgentServiceClient(client, url)}, tokens, nil, req, *dur)
		stop()
		noopRes = &r
	}
	nodes := []tollgatev1connect.AgentServiceClient{tollgatev1connect.NewAgentServiceClient(client, *server)}
	for _, h := range o.also {
		if !strings.HasPrefix(h, "http://") && !strings.HasPrefix(h, "https://") {
			return usageErr("bench: --also " + h + ": want a host's URL (http://…)")
		}
		nodes = append(nodes, tollgatev1connect.NewAgentServiceClient(client, h))
	}
	// One call first on each host, unmeasured: it compiles the agent and
	// its attribution plugin, a cost paid once per host, not per call.
	for i, node := range nodes {
		warm := connect.NewRequest(req)
		if tokens[0] != "" {
			warm.Header().Set("Authorization", "Bearer "+tokens[0])
		}
		if _, err := node.Invoke(ctx, warm); err != nil {
			host := *server
			if i > 0 {
				host = o.also[i-1]
			}
			return fmt.Errorf("bench: the first call on %s failed: %w", host, err)
		}
	}
	var cpu0 float64
	if o.metricsToken != "" {
		v, err := nodeCPUSeconds(ctx, client, *server, o.metricsToken)
		if err != nil {
			return err
		}
		cpu0 = v
	}
	res := runLoad(ctx, nodes, tokens, refill, req, *dur)
	cpuPerInvoke := 0.0
	if o.metricsToken != "" && res.Calls > 0 {
		cpu1, err := nodeCPUSeconds(ctx, client, *server, o.metricsToken)
		if err != nil {
			return err
		}
		cpuPerInvoke = (cpu1 - cpu0) / float64(res.Calls) * 1e6
	}
	if *asJSON {
		m := benchResultJSON{InvokesPerSecond: res.PerSecond, P50Ms: ms(res.P50), P99Ms: ms(res.P99), Calls: res.Calls, Errors: res.Errors, Refills: res.Refills, FirstError: res.FirstError,
			NodeCPUMicrosPerInvoke: cpuPerInvoke}
		if noopRes != nil {
			m.NoopPerSecond, m.NoopP99Ms = noopRes.PerSecond, ms(noopRes.P99)
		}
		return printValue(out, m)
	}
	print := func(name string, r benchResult) {
		fmt.Fprintf(out, "%-8s %8.0f calls/s  p50 %7.2f ms  p99 %7.2f ms  (%d calls, %d errors, %d callers refilled)\n", name, r.PerSecond, ms(r.P50), ms(r.P99), r.Calls, r.Errors, r.Refills)
		if r.FirstError != "" {
			fmt.Fprintf(out, "         first error: %s\n", r.FirstError)
		}
	}
	if noopRes != nil {
		print("no-op", *noopRes)
	}
	print("invoke", res)
	if cpuPerInvoke > 0 {
		fmt.Fprintf(out, "node CPU: %.0f µs per invoke (user and system, from its /metrics; refills included)\n", cpuPerInvoke)
	}
	if noopRes != nil && noopRes.PerSecond > 0 {
		fmt.Fprintf(out, "invoke / no-op: throughput %.4f×, p99 %.1f×\n", res.PerSecond/noopRes.PerSecond, ms(res.P99)/max(ms(noopRes.P99), 1e-9))
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// benchCallers signs in one new account per caller and funds each from
// the faucet.
func benchCallers(ctx context.Context, client *http.Client, server string, tokens []string) error {
	auth := tollgatev1connect.NewAuthServiceClient(client, server)
	ledger := tollgatev1connect.NewLedgerServiceClient(client, server)
	for i := range tokens {
		k, err := crypto.GenerateKey()
		if err != nil {
			return err
		}
		var tok string
		// Sign-in is anonymous, and the node limits anonymous requests by
		// address: wait out a refusal rather than fail the run.
		for attempt := 0; ; attempt++ {
			tok, err = benchSignIn(ctx, auth, k)
			if connect.CodeOf(err) != connect.CodeResourceExhausted || attempt == 10 {
				break
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Second):
			}
		}
		if err != nil {
			return err
		}
		req := connect.NewRequest(&tollgatev1.FaucetRequest{})
		req.Header().Set("Authorization", "Bearer "+tok)
		if _, err := ledger.Faucet(ctx, req); err != nil {
			return err
		}
		tokens[i] = tok
	}
	return nil
}

func benchSignIn(ctx context.Context, auth tollgatev1connect.AuthServiceClient, k *ecdsa.PrivateKey) (string, error) {
	ch, err := auth.Challenge(ctx, connect.NewRequest(&tollgatev1.ChallengeRequest{Address: crypto.PubkeyToAddress(k.PublicKey).Hex()}))
	if err != nil {
		return "", err
	}
	sig, err := siwe.Sign(k, ch.Msg.GetMessage())
	if err != nil {
		return "", err
	}
	res, err := auth.SignIn(ctx, connect.NewRequest(&tollgatev1.SignInRequest{Message: ch.Msg.GetMessage(), Signature: hexutil.Encode(sig)}))
	if err != nil {
		return "", err
	}
	return res.Msg.GetToken(), nil
}

// runLoad has one goroutine per token call Invoke back to back for d, on
// the hosts in turn (caller i on hosts[i % len(hosts)]). A
// caller refused for want of credit goes on as a new account from refill,
// when there is one, so a run measures calls, not how long the faucet's
// credit lasts.
func runLoad(ctx context.Context, hosts []tollgatev1connect.AgentServiceClient, tokens []string, refill func(context.Context) (string, error), msg *tollgatev1.InvokeRequest, d time.Duration) benchResult {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var calls, errs, refills atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var first string
	var wg sync.WaitGroup
	start := time.Now()
	for i, tok := range tokens {
		c := hosts[i%len(hosts)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for ctx.Err() == nil {
				req := connect.NewRequest(msg)
				if tok != "" {
					req.Header().Set("Authorization", "Bearer "+tok)
				}
				t0 := time.Now()
				// The run's end is not the call's deadline: a deadline would
				// travel to the node, which would fail the calls still queued
				// there as the run ends.
				_, err := c.Invoke(context.WithoutCancel(ctx), req)
				if ctx.Err() != nil {
					break // finished after the end of the run: not a sample
				}
				took := time.Since(t0)
				var ce *connect.Error
				if refill != nil && errors.As(err, &ce) && ce.Meta().Get(api.CodeHeader) == string(abi.CodeInsufficientCredit) {
					if tok, err = refill(ctx); err == nil {
						refills.Add(1)
						continue
					}
					if ctx.Err() != nil {
						break // the run ended during the refill
					}
				}
				if err != nil {
					if errs.Add(1) == 1 {
						mu.Lock()
						first = err.Error()
						mu.Unlock()
					}
					continue
				}
				mine = append(mine, took)
				calls.Add(1)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	return benchResult{Calls: calls.Load(), Errors: errs.Load(), Refills: refills.Load(), PerSecond: float64(calls.Load()) / elapsed.Seconds(), P50: pct(0.50), P99: pct(0.99), FirstError: first}
}

// noopAgent answers Invoke with nothing: the cost of Connect, HTTP and
// JSON alone.
type noopAgent struct{}

func (noopAgent) Invoke(context.Context, *connect.Request[tollgatev1.InvokeRequest]) (*connect.Response[tollgatev1.InvokeResponse], error) {
	return connect.NewResponse(&tollgatev1.InvokeResponse{}), nil
}

func noopServer() (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(tollgatev1connect.NewAgentServiceHandler(noopAgent{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// nodeCPUSeconds reads the CPU time the node's process has used from its
// /metrics (process_cpu_seconds_total), with the operator's token.
func nodeCPUSeconds(ctx context.Context, client *http.Client, server, token string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(server, "/")+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("bench: reading the node's metrics: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, fmt.Errorf("bench: reading the node's metrics: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("bench: --metrics-token: the node's /metrics answered %s; give the operator's token", resp.Status)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, "process_cpu_seconds_total "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, errors.New("bench: the node's /metrics has no process_cpu_seconds_total")
}
