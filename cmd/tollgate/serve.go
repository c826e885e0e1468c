package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/api"
	"github.com/tollgate-dev/tollgate/model"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/settle"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tollgate-dev/tollgate/api/auth"
	"github.com/tollgate-dev/tollgate/internal/keys"
	"github.com/tollgate-dev/tollgate/ledger"
)

func serveCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a node: Connect API and web page, ledger, registry, embedded chain",
		Long: `Run a Tollgate node from a data directory: the Connect API and web page, the
Badger ledger and registry, and by default an embedded EVM development chain
with the settlement contracts (deployed on the first start). With --rpc it
settles on an external chain instead, paying gas from the operator key.

The first start seeds an example datanet and agent, funds a caller, and
prints the operator's and the caller's tokens. Ctrl-C stops it cleanly.`,
		Example: `  tollgate serve
  tollgate serve --data ./node --addr 0.0.0.0:8080 --rate 200 --log-format json
  tollgate serve --rpc https://rpc.example --key operator.json --passphrase-file pass --fund-wait 10m`,
		Args: nArgs(0, 0),
	}
	fs := cmd.Flags()
	dataDir := fs.String("data", "./tollgate-data", "data directory: ledger, registry, chain, keys")
	addr := fs.String("addr", "127.0.0.1:8080", "address of the Connect API and web page")
	rpc := fs.String("rpc", "", "EVM node to settle on (default: the embedded chain in the data directory)")
	chainRPC := fs.String("chain-rpc", "127.0.0.1:8545", "loopback host:port of the embedded chain's JSON-RPC, for wallets and Ethereum tools (empty: none)")
	guardian := fs.String("guardian", "", "guardian of a new deployment: may veto roots, pause, rotate the operator (default: the operator, for dev chains only)")
	challenge := fs.Uint64("challenge-delay", 0, "seconds a posted root waits before it can be claimed, for a new deployment")
	rotation := fs.Uint64("rotation-delay", 0, "seconds before a proposed operator may take over, for a new deployment")
	keyFile := fs.String("key", "", "operator's keystore v3 file (default: operator.json in the data directory, generated at the first start)")
	passFile := fs.String("passphrase-file", "", "file holding the key's passphrase (default: operator.pass next to a generated key, else $"+keys.PassphraseEnv+")")
	fundWait := fs.Duration("fund-wait", 0, "with --rpc, how long to wait for the operator's account to be funded with gas")
	confirmations := fs.Int("confirmations", -1, "blocks that must follow a deposit before it is credited (default: by chain id, 0 on dev chains, 12 elsewhere)")
	maxLogBlocks := fs.Uint64("max-log-blocks", 0, "most blocks one log query to the chain spans (default 2000; lower it for an RPC endpoint that limits ranges more)")
	defaults := api.DefaultLimits()
	rateLimit := fs.Float64("rate", defaults.Rate, "requests per second each account may send (0: unlimited)")
	burst := fs.Int("burst", defaults.Burst, "requests an account may send at once above its rate")
	inFlight := fs.Int("max-in-flight", defaults.MaxInFlight, "requests each account may have running at once (0: unlimited)")
	maxBody := fs.Int64("max-body", defaults.MaxBodyBytes, "largest request body, in bytes")
	minPrice := fs.String("min-price", "0", "lowest price per call of an agent this node publishes and runs, in tokens (0.01) or base units (1500wei); every call's receipt is kept for good")
	modelServers := configFlag{}
	fs.Var(modelServers, "model-server", "an OpenAI-compatible server models may be published on, NAME=URL (repeat for more); its API key, if any, is read from $TOLLGATE_MODEL_SERVER_KEY_<NAME>")
	maxRunning := fs.Int("max-running", 0, "invocations running at once, the rest waiting their turn (default: two per core)")
	store := fs.String("store", "", "where the ledger and registry live: empty for Badger in the data directory, or a PostgreSQL URL (postgres://user:pass@host:port/db); up to 16 hosts may share one, settling on one chain (--rpc) with one operator key")
	commitDelay := fs.Duration("commit-delay", ledger.DefaultCommitDelay, "longest a receipt waits for other calls in flight to share its disk sync (0: never)")
	faucetLimits := faucetFlags(fs)
	pprofAddr := fs.String("pprof", "", "loopback host:port to serve Go's profiler on (empty: none)")
	verbose := fs.BoolP("verbose", "v", false, "log every invocation")
	logFormat := fs.String("log-format", "text", "log format on stderr: text or json")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx, out := cmd.Context(), a.out
		floor, err := parsePrice(*minPrice)
		if err != nil {
			return usageErr("serve: --min-price: " + err.Error())
		}
		if *store != "" && !strings.HasPrefix(*store, "postgres://") && !strings.HasPrefix(*store, "postgresql://") {
			return usageErr(fmt.Sprintf("serve: --store %q: want a postgres:// URL, or nothing for Badger in --data", *store))
		}
		if *commitDelay <= 0 {
			*commitDelay = -1 // the flag's 0 is "never"; the ledger's is "the default"
		}
		level := slog.LevelWarn
		if *verbose {
			level = slog.LevelInfo
		}
		var handler slog.Handler
		switch *logFormat {
		case "text":
			handler = slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})
		case "json":
			handler = slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})
		default:
			return usageErr(fmt.Sprintf("serve: --log-format %q: want text or json", *logFormat))
		}
		logger := slog.New(handler)
		servers, err := parseModelServers(modelServers)
		if err != nil {
			return usageErr("serve: --model-server: " + err.Error())
		}
		cfg := nodeConfig{modelServers: servers, dataDir: *dataDir, store: *store, rpc: *rpc, logger: logger, guardian: *guardian, challengeDelay: *challenge, rotationDelay: *rotation,
			keyFile: *keyFile, passphraseFile: *passFile, fundWait: *fundWait, out: out, maxLogBlocks: *maxLogBlocks, maxRunning: *maxRunning, commitDelay: *commitDelay, minPrice: floor}
		if *rpc == "" {
			cfg.chainRPC = *chainRPC
		}
		if err := faucetLimits(&cfg); err != nil {
			return err
		}
		switch {
		case *confirmations >= 0:
			cfg.confirmations = uint64(*confirmations)
		default:
			cfg.confirmations = settle.AutoConfirmations // settle.DefaultConfirmations of the chain's id
		}
		n, err := openNode(ctx, cfg)
		if err != nil {
			return err
		}
		defer func() {
			n.close(context.Background())
			fmt.Fprintln(out, "tollgate: stopped")
		}()
		// Finish a root post a crash interrupted. If that fails (the chain is
		// unreachable, or disagrees with the ledger) the node still serves, and
		// every epoch close retries it first.
		if err := n.settle.ResumeSettlement(ctx); err != nil {
			logger.Error("resume settlement: epochs cannot be posted until this is fixed", "err", err)
			fmt.Fprintf(out, "tollgate: WARNING: resume settlement: %v\n", err)
		}

		dep := n.client.Deployment()
		fmt.Fprintf(out, "tollgate: data in %s, chain %d, settlement %s, token %s\n", *dataDir, dep.ChainID, dep.Settlement, dep.Token)
		fmt.Fprintf(out, "tollgate: operator %s\n", n.host.Operator())
		if seat := n.led.Seat(); seat >= 0 {
			role := "settles: it credits deposits, closes epochs, posts roots and relays claims for every host"
			if seat > 0 {
				role = "serves; the host in seat 0 settles (send epoch closes there)"
			}
			fmt.Fprintf(out, "tollgate: books shared in PostgreSQL: this host is in writer seat %d of %d and %s\n", seat, maxHosts, role)
		}
		if n.chain != nil && n.chain.RPC() != "" {
			fmt.Fprintf(out, "tollgate: embedded chain %d JSON-RPC on %s\n", dep.ChainID, n.chain.RPC())
		}
		if n.fresh {
			if err := firstStart(ctx, n, *addr, out); err != nil {
				return err
			}
		}

		ln, err := net.Listen("tcp", *addr)
		if err != nil {
			return err
		}
		if *pprofAddr != "" {
			if err := servePprof(ctx, *pprofAddr, out); err != nil {
				return err
			}
		}
		go syncDeposits(ctx, n, logger)
		// Before any model is built: the files of models no manifest
		// names any more are only disk.
		if removed, err := model.SweepFiles(ctx, n.reg); err != nil {
			logger.Warn("deleting unused model files", "err", err)
		} else if removed > 0 {
			logger.Info("deleted unused model files", "directories", removed)
		}
		go func() {
			// Index every datanet now rather than on its first query; records
			// keep arriving meanwhile, and a query waits only for its own.
			if err := n.reg.Warm(ctx); err != nil && ctx.Err() == nil {
				logger.Warn("indexing datanets", "err", err)
			}
			// Starting (compiling plugins, seeding, indexing) leaves
			// garbage the runtime would return to the OS only slowly: an
			// idle node's memory is what it holds, not what it started with.
			debug.FreeOSMemory()
		}()
		limits := api.DefaultLimits()
		limits.Rate, limits.Burst, limits.MaxInFlight, limits.MaxBodyBytes = *rateLimit, *burst, *inFlight, *maxBody
		if h, _, err := net.SplitHostPort(*addr); err == nil && h != "" {
			limits.Hosts = append(limits.Hosts, h)
		}
		bound := ln.Addr().String()
		signIn := &auth.SignIn{Domain: bound, URI: "http://" + bound, ChainID: dep.ChainID, Operator: n.host.Operator(), Tokens: n.tokens}
		apiHandler, err := n.handler(limits, signIn)
		if err != nil {
			return err
		}
		srv := api.NewServer(apiHandler, limits)
		fmt.Fprintf(out, "tollgate: sign in with any Ethereum key: tollgate key new; tollgate login --server http://%s --key KEYFILE", bound)
		if n.chain != nil {
			fmt.Fprintf(out, "; then: tollgate faucet")
		}
		fmt.Fprintln(out)
		fmt.Fprintf(out, "tollgate: publish an agent: tollgate plugin publish --server http://%s --key KEYFILE --name you/agent --version 1.0.0 --price 0.001 AGENT.wasm\n", bound)
		fmt.Fprintf(out, "tollgate: metrics for Prometheus on http://%s/metrics (with the operator's token as bearer token)\n", bound)
		fmt.Fprintf(out, "tollgate: serving the Connect API and web page on http://%s\n", bound)
		releaseEmbedded() // published and seeded by now
		err = api.Serve(ctx, srv, ln)
		// Serve returns once the requests in flight have their answers; the
		// deferred close then stops the plugins and closes the stores.
		fmt.Fprintln(out, "tollgate: stopped serving; closing the stores")
		return err
	}
	return cmd
}

// firstStart seeds a new node with the example datanet and agent and a
// funded caller, and prints the tokens and a curl line to try.
func firstStart(ctx context.Context, n *node, addr string, out io.Writer) error {
	opTok, err := n.tokens.Issue(auth.Principal{Account: n.host.Operator(), Operator: true})
	if err != nil {
		return err
	}
	ex, err := seedExample(ctx, n)
	if err != nil {
		return err
	}
	m, err := seedModel(ctx, n, ex)
	if err != nil {
		return err
	}
	caller := newParty("caller")
	if _, err := fund(ctx, n, caller, callerCredit); err != nil {
		return err
	}
	callTok, err := n.tokens.Issue(auth.Principal{Account: caller.addr()})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, `tollgate: first start: published %s reading datanet %s,
          and %s asking model %s (built from it),
          funded caller %s with %s.
          operator token (keep it): %s
          caller token:             %s
try:
  open http://%s/ in a browser (sign in with a wallet, or a development key on this chain), or
  curl -s http://%s/tollgate.v1.AgentService/Invoke \
    -H 'Content-Type: application/json' -H 'Authorization: Bearer %s' \
    -d '{"agent":"%s@latest","inputText":"Why is the sky blue?"}'
`, ex.agent.Manifest.Ref(), exampleDatanet, exampleRAG+"@"+exampleModelVer, m.Manifest.Ref(), caller.addr(), tgt(callerCredit), opTok, callTok, addr, addr, callTok, exampleAgent)
	return nil
}

// faucetFlags adds the embedded chain's faucet limits to fs; the function
// it returns puts the parsed values in a nodeConfig.
func faucetFlags(fs *pflag.FlagSet) func(*nodeConfig) error {
	budget := fs.Int("faucet-budget", settle.DefaultFaucetBudget, "drips the faucet gives across all accounts per --faucet-window, so fresh keys cannot drain it (0: no limit)")
	window := fs.Duration("faucet-window", settle.DefaultFaucetWindow, "the sliding window --faucet-budget counts drips in")
	every := fs.Duration("faucet-every", settle.DefaultFaucetEvery, "how often one account may use the faucet (0: no limit)")
	return func(cfg *nodeConfig) error {
		if *window <= 0 {
			return usageErr(fmt.Sprintf("serve: --faucet-window %s: want a positive duration", *window))
		}
		cfg.faucetBudget, cfg.faucetWindow, cfg.faucetEvery = *budget, *window, *every
		// The flags' 0 is "no limit"; settle.Faucet's is "the default".
		if *budget <= 0 {
			cfg.faucetBudget = -1
		}
		if *every <= 0 {
			cfg.faucetEvery = -1
		}
		return nil
	}
}

// syncDeposits credits on-chain deposits every few seconds.
func syncDeposits(ctx context.Context, n *node, logger *slog.Logger) {
	t := time.NewTicker(3 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if k, err := n.settle.SyncDeposits(ctx); err != nil {
				logger.Warn("sync deposits", "err", err)
			} else if k > 0 {
				logger.Info("credited deposits", "count", k)
			}
		}
	}
}

// servePprof serves net/http/pprof on a loopback address of its own, away
// from the API and its edge.
func servePprof(ctx context.Context, addr string, out io.Writer) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--pprof %s: the profiler is served on loopback only", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	go srv.Serve(ln)
	fmt.Fprintf(out, "tollgate: profiler on http://%s/debug/pprof/\n", ln.Addr())
	return nil
}

// parseModelServers checks each --model-server NAME=URL and reads its key
// from the environment.
func parseModelServers(flags map[string]string) (map[string]model.Server, error) {
	out := map[string]model.Server{}
	for name, raw := range flags {
		if err := registry.CheckServerName(name); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%s=%s: want an http(s) URL", name, raw)
		}
		out[name] = model.Server{URL: raw, APIKey: os.Getenv(modelServerKeyEnv(name))}
	}
	return out, nil
}

// modelServerKeyEnv is the environment variable a model server's key is
// read from: TOLLGATE_MODEL_SERVER_KEY_ and the name in upper case, with
// every other character than a letter or digit as _.
func modelServerKeyEnv(name string) string {
	b := []byte(strings.ToUpper(name))
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return "TOLLGATE_MODEL_SERVER_KEY_" + string(b)
}
