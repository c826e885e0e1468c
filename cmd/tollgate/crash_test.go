package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/internal/pgtest"
	"github.com/tollgate-dev/tollgate/ledger/chain"
	"github.com/tollgate-dev/tollgate/registry"
)

// serveChildEnv makes the test binary run `tollgate serve` with the
// arguments in the variable (tab-separated), as the crash test's child.
const serveChildEnv = "TOLLGATE_SERVE_CHILD"

func TestMain(m *testing.M) {
	if args := os.Getenv(serveChildEnv); args != "" {
		// Signals stop the child as they stop the binary (main).
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := run(ctx, strings.Split(args, "\t"), os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "serve child:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// crashState is what the driver saw acknowledged across all rounds.
type crashState struct {
	mu       sync.Mutex
	receipts map[string]string // request id -> receipt id, for 200 responses
	deposits map[string]bool   // refs of deposits reported mined
	epochs   uint64            // highest epoch a CloseEpoch response acknowledged
	claimed  map[string]*big.Int
	earners  map[string]bool
}

// TestWholeNodeSurvivesSIGKILL runs a real `tollgate serve` with its
// embedded chain, drives it through the Connect API and the chain's
// JSON-RPC (invocations with request ids, on-chain deposits, epoch closes
// that post roots, claims), and kills it with SIGKILL at a random moment, 20
// times. After each kill the node is opened again from its data dir, as a
// restart would, and: no acknowledged receipt is lost and no request is
// charged twice; the deposits credited are exactly the deposits on-chain;
// the root on-chain is the ledger's last closed epoch's; what was claimed
// on-chain never exceeds what the ledger says was earned; ledger.Check
// holds.
func TestWholeNodeSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("whole-node crash test in -short mode")
	}
	dir := t.TempDir()
	st := &crashState{receipts: map[string]string{}, deposits: map[string]bool{}, claimed: map[string]*big.Int{}, earners: map[string]bool{}}
	rng := rand.New(rand.NewPCG(7, 11))
	funder, _ := crypto.GenerateKey()
	var opTok, callTok, caller string
	next := 0
	for round := range 20 {
		child, out := startServe(t, dir)
		info := readUntilServing(t, out)
		if round == 0 {
			opTok, callTok, caller = info["operator token"], info["caller token"], info["funded caller"]
			if opTok == "" || callTok == "" || caller == "" {
				t.Fatalf("first start printed no tokens: %v", info)
			}
		}
		api, rpc := info["api"], info["rpc"]
		ctx, stop := context.WithCancel(context.Background())
		c := attachRPC(t, ctx, dir, rpc)
		if round == 0 {
			fundFunder(t, ctx, c, dir, funder)
		}
		// The kill comes at a random moment after the node answered its
		// first invocation of the round: before that (compiling plugins on
		// a loaded machine) a kill would test nothing new.
		answered := make(chan struct{})
		var once sync.Once
		var wg sync.WaitGroup
		for _, work := range []func(){
			func() { invokes(ctx, st, api, callTok, &next, round, func() { once.Do(func() { close(answered) }) }) },
			func() { deposits(ctx, st, c, funder, caller) },
			func() { closesAndClaims(ctx, st, c, api, opTok, funder) },
		} {
			wg.Add(1)
			go func() { defer wg.Done(); work() }()
		}
		select {
		case <-answered:
		case <-time.After(2 * time.Minute):
			t.Fatalf("round %d: no invocation answered in 2 minutes", round)
		}
		time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond)
		child.Process.Signal(syscall.SIGKILL)
		child.Wait()
		stop()
		wg.Wait()
		checkWholeNode(t, dir, st)
	}
	if len(st.receipts) < 20 || len(st.deposits) < 5 || st.epochs < 2 {
		t.Fatalf("too little acknowledged to test anything: %d receipts, %d deposits, %d epochs", len(st.receipts), len(st.deposits), st.epochs)
	}
	t.Logf("acknowledged across 20 kills: %d receipts, %d deposits, %d epochs, claims by %d accounts", len(st.receipts), len(st.deposits), st.epochs, len(st.claimed))
}

func startServe(t *testing.T, dir string) (*exec.Cmd, io.Reader) {
	t.Helper()
	return startServeWith(t, "serve", "--data", dir, "--addr", "127.0.0.1:0", "--chain-rpc", "127.0.0.1:0")
}

// startServeWith runs `tollgate` with args in a child process (this test
// binary, through TestMain) and returns it with its stdout.
func startServeWith(t *testing.T, args ...string) (*exec.Cmd, io.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serveChildEnv+"="+strings.Join(args, "\t"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, out
}

// readUntilServing reads serve's start-up lines into a map: "api", "rpc",
// and on the first start the tokens and the funded caller.
func readUntilServing(t *testing.T, out io.Reader) map[string]string {
	t.Helper()
	info := map[string]string{}
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		line := strings.TrimSpace(lines.Text())
		field := func(prefix string) string {
			f := strings.Fields(strings.TrimPrefix(line[strings.Index(line, prefix):], prefix))
			if len(f) == 0 {
				return ""
			}
			return f[0]
		}
		switch {
		case strings.Contains(line, "JSON-RPC on "):
			info["rpc"] = field("JSON-RPC on ")
		case strings.Contains(line, "writer seat "):
			info["seat"] = line
		case strings.Contains(line, "funded caller "):
			info["funded caller"] = field("funded caller ")
		case strings.HasPrefix(line, "operator token (keep it):"):
			info["operator token"] = field("operator token (keep it):")
		case strings.HasPrefix(line, "caller token:"):
			info["caller token"] = field("caller token:")
		case strings.Contains(line, "web page on "):
			info["api"] = field("web page on ")
			go io.Copy(io.Discard, out)
			return info
		}
	}
	t.Fatalf("serve ended before serving: %v", info)
	return nil
}

func attachRPC(t *testing.T, ctx context.Context, dir, rpc string) *chain.Client {
	t.Helper()
	var dep chain.Deployment
	b, err := os.ReadFile(filepath.Join(dir, "deployment.json"))
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(b, &dep)
	ec, err := chain.Dial(ctx, rpc)
	if err != nil {
		t.Fatal(err)
	}
	c, err := chain.Attach(ctx, ec, dep)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fundFunder gives the driver's own key gas and test tokens, from the
// operator key (the faucet and token minter), before the node has any
// reason to send transactions of its own.
func fundFunder(t *testing.T, ctx context.Context, c *chain.Client, dir string, funder *ecdsa.PrivateKey) {
	t.Helper()
	op, err := operatorKey(nodeConfig{dataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendETH(ctx, op, registry.Address(funder), oneToken); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Mint(ctx, op, registry.Address(funder), new(big.Int).Mul(oneToken, big.NewInt(1000))); err != nil {
		t.Fatal(err)
	}
}

func invokes(ctx context.Context, st *crashState, api, tok string, next *int, round int, answered func()) {
	for ctx.Err() == nil {
		// Every round first retries the last few requests of the one
		// before, which a kill may have cut short.
		i := *next
		if round > 0 && i >= 3 {
			i -= 3
		}
		for ; ctx.Err() == nil; i++ {
			req := fmt.Sprintf("req-%d", i)
			status, out := postJSON(ctx, api, "AgentService/Invoke", tok, map[string]any{"agent": exampleAgent + "@latest", "inputText": "Why is the sky blue?", "requestId": req})
			if status != 200 {
				continue
			}
			answered()
			rc, _ := out["receipt"].(map[string]any)
			st.mu.Lock()
			st.receipts[req] = rc["id"].(string)
			for _, p := range rc["postings"].([]any) {
				pm := p.(map[string]any)
				if !strings.HasPrefix(pm["amount"].(string), "-") {
					st.earners[pm["account"].(string)] = true
				}
			}
			st.mu.Unlock()
			if i+1 > *next {
				*next = i + 1
			}
		}
	}
}

func deposits(ctx context.Context, st *crashState, c *chain.Client, funder *ecdsa.PrivateKey, caller string) {
	for ctx.Err() == nil {
		d, err := c.Deposit(ctx, funder, caller, big.NewInt(1e15))
		if err != nil {
			continue
		}
		st.mu.Lock()
		st.deposits[d.Ref] = true
		st.mu.Unlock()
	}
}

func closesAndClaims(ctx context.Context, st *crashState, c *chain.Client, api, opTok string, funder *ecdsa.PrivateKey) {
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
			return
		case <-time.After(150 * time.Millisecond):
		}
		status, out := postJSON(ctx, api, "LedgerService/CloseEpoch", opTok, map[string]any{})
		if status == 200 {
			var n uint64
			fmt.Sscan(fmt.Sprint(out["epoch"]), &n)
			st.mu.Lock()
			st.epochs = max(st.epochs, n)
			st.mu.Unlock()
		}
		st.mu.Lock()
		var earners []string
		for a := range st.earners {
			earners = append(earners, a)
		}
		st.mu.Unlock()
		for _, acct := range earners {
			status, p := postJSON(ctx, api, "LedgerService/GetProof", "", map[string]any{"account": acct})
			if status != 200 || p["posted"] != true {
				continue
			}
			cum, _ := new(big.Int).SetString(p["cumulative"].(string), 10)
			var proof []string
			for _, h := range p["proof"].([]any) {
				proof = append(proof, h.(string))
			}
			if _, err := c.Claim(ctx, funder, acct, cum, proof); err == nil {
				st.mu.Lock()
				st.claimed[acct] = cum
				st.mu.Unlock()
			}
		}
	}
}

func postJSON(ctx context.Context, api, method, tok string, body any) (int, map[string]any) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, "POST", api+"/tollgate.v1."+method, bytes.NewReader(b))
	if err != nil {
		return 0, nil
	}
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		// A kill can cut an answer after its status line: a call whose
		// answer did not arrive whole was not acknowledged.
		return 0, nil
	}
	return resp.StatusCode, out
}

// checkWholeNode opens the killed node's data dir as a restart would and
// checks that the ledger and the chain agree with each other and with
// everything acknowledged.
func checkWholeNode(t *testing.T, dir string, st *crashState) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, err := openNode(ctx, nodeConfig{dataDir: dir, logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("restart after SIGKILL: %v", err)
	}
	defer n.close(ctx)
	if err := n.settle.ResumeSettlement(ctx); err != nil {
		t.Fatalf("resume settlement: %v", err)
	}
	if _, err := n.settle.SyncDeposits(ctx); err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for req, id := range st.receipts {
		rc, err := n.led.Receipt(ctx, id)
		if err != nil || rc.RequestID != req {
			t.Fatalf("acknowledged %s (receipt %s) lost: %v", req, id, err)
		}
	}
	open, err := n.led.OpenEpoch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	charged := map[string]bool{}
	for e := uint64(1); e <= open; e++ {
		rs, err := n.led.Receipts(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		for _, rc := range rs {
			if rc.RequestID != "" && charged[rc.RequestID] {
				t.Fatalf("request %s charged twice", rc.RequestID)
			}
			charged[rc.RequestID] = true
		}
	}
	// Deposits: the ledger credits exactly what the chain holds.
	onChain, err := n.client.Deposits(ctx, n.client.Deployment().Block, 0)
	if err != nil {
		t.Fatal(err)
	}
	sum, refs := new(big.Int), map[string]bool{}
	for _, d := range onChain {
		sum.Add(sum, d.Amount)
		refs[d.Ref] = true
	}
	for ref := range st.deposits {
		if !refs[ref] {
			t.Fatalf("deposit %s was reported mined and is gone from the chain", ref)
		}
	}
	tot, err := n.led.Totals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tot.Deposited.Cmp(sum) != 0 {
		t.Fatalf("the ledger credits %s of deposits, the chain holds %s", tot.Deposited, sum)
	}
	// Roots: the chain holds the ledger's last closed epoch.
	if open > 1 {
		e, err := n.led.Epoch(ctx, open-1)
		if err != nil {
			t.Fatal(err)
		}
		cn, root, err := n.client.PostedEpoch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cn != e.N || !strings.EqualFold(root, e.Root) || e.PostTx == "" {
			t.Fatalf("chain holds epoch %d root %s; ledger's last closed is %d root %s (post tx %q)", cn, root, e.N, e.Root, e.PostTx)
		}
	}
	if st.epochs >= open {
		t.Fatalf("epoch %d was acknowledged closed, the ledger's open epoch is %d", st.epochs, open)
	}
	// Claims never exceed earnings.
	for acct, cum := range st.claimed {
		got, err := n.client.Claimed(ctx, acct)
		if err != nil {
			t.Fatal(err)
		}
		earned, _ := n.led.Earned(ctx, acct)
		if got.Cmp(cum) < 0 || got.Cmp(earned) > 0 {
			t.Fatalf("%s: claimed %s on-chain (acknowledged %s), earned %s", acct, got, cum, earned)
		}
	}
	if err := n.led.Check(ctx); err != nil {
		t.Fatal(err)
	}
}
