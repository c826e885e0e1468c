package host_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/api"
	"github.com/tollgate-dev/tollgate/settle"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/api/auth"
	"github.com/tollgate-dev/tollgate/examples"
	"github.com/tollgate-dev/tollgate/host"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/ledger/chain"
	"github.com/tollgate-dev/tollgate/metrics"
	"github.com/tollgate-dev/tollgate/plugins"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/runtime"
	"github.com/tollgate-dev/tollgate/verify"
)

// env is a whole host on real components: Badger stores in a temp dir, the
// embedded chain with the real contracts, and a real HTTP server.
type env struct {
	h        *host.Host
	s        *settle.Settler
	metrics  *metrics.Metrics
	led      *ledger.Ledger
	chain    *chain.Client
	operator *ecdsa.PrivateKey
	tokens   *auth.Tokens
	url      string
	alice    *ecdsa.PrivateKey
	bob      *ecdsa.PrivateKey
	reg      *registry.Registry
	node     *chain.Node
	rt       *runtime.Runtime
	owner    *ecdsa.PrivateKey // owns the facts datanet
}

// verifyEpoch re-runs epoch n from the node's stores and chain.
func (e *env) verifyEpoch(ctx context.Context, n uint64) (*verify.Verification, error) {
	v, err := e.verifier()
	if err != nil {
		return nil, err
	}
	defer v.Close(ctx)
	return v.VerifyEpoch(ctx, n)
}

// verifyReceipts checks epoch against receipts with the node's stores and
// chain.
func (e *env) verifyReceipts(ctx context.Context, epoch *ledger.Epoch, rs []*ledger.Receipt) (*verify.Verification, error) {
	v, err := e.verifier()
	if err != nil {
		return nil, err
	}
	defer v.Close(ctx)
	return v.Verify(ctx, epoch, rs)
}

func (e *env) verifier() (*verify.Verifier, error) {
	return verify.New(verify.Config{Data: verify.StoreData(e.led, e.reg), Runtime: e.rt, Chain: e.chain})
}

func key(t testing.TB) *ecdsa.PrivateKey {
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newEnv(t testing.TB) *env { return newEnvWith(t, nil) }

// newEnvWith is newEnv with the host's config changed by mod first.
func newEnvWith(t testing.TB, mod func(*host.Config)) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	e := &env{operator: key(t), alice: key(t), bob: key(t)}
	reg, err := registry.Open(dir+"/registry", registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	if e.led, err = ledger.Open(dir+"/ledger", ledger.Options{Signer: e.operator}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.led.Close() })
	rt, err := runtime.New(runtime.Config{})
	if err != nil {
		t.Fatal(err)
	}
	node, err := chain.StartNode(dir+"/chain", crypto.PubkeyToAddress(e.operator.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	e.node, e.rt = node, rt
	// A chain that stops sealing fails the test here, not the package at
	// its timeout.
	deployCtx, cancelDeploy := context.WithTimeout(ctx, 2*time.Minute)
	defer cancelDeploy()
	dep, err := chain.Deploy(deployCtx, node.Client(), e.operator)
	if err != nil {
		t.Fatal(err)
	}
	if e.chain, err = chain.Attach(deployCtx, node.Client(), dep); err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	e.metrics = m
	hc := host.Config{Registry: reg, Ledger: e.led, Runtime: rt, Domain: settle.Domain(e.chain), Operator: e.operator, Metrics: m}
	if mod != nil {
		mod(&hc)
	}
	if e.h, err = host.New(hc); err != nil {
		t.Fatal(err)
	}
	if e.s, err = settle.New(settle.Config{Ledger: e.led, Chain: e.chain, Operator: e.operator, Metrics: m}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.h.Close(ctx) })
	if err := e.h.PublishBuiltins(ctx); err != nil {
		t.Fatal(err)
	}
	e.reg = reg
	owner := key(t)
	e.owner = owner
	if _, err := newDatanet(t, reg, owner, registry.Datanet{Name: "facts", Owner: registry.Address(owner), PricePerRead: "7"}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		k       *ecdsa.PrivateKey
		content string
	}{
		{e.alice, "The sky is blue because air scatters blue sunlight more than red sunlight."},
		{e.bob, "Water boils at 100 degrees Celsius at sea level."},
		{e.bob, "Bees dance to tell the hive where flowers are."},
	} {
		sig, _ := registry.Sign(r.k, registry.Domain{}.RecordDigest("facts", r.content))
		if _, _, err := reg.AddRecord(ctx, "facts", registry.Address(r.k), r.content, sig); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.h.Publish(ctx, key(t), registry.Manifest{Name: "acme/qa", Version: "1.0.0", Kind: abi.KindAgent, Price: "1000",
		Datanets: []string{"facts"}, Limits: &registry.Limits{MaxRecords: 16}}, examples.QA); err != nil {
		t.Fatal(err)
	}
	if e.tokens, err = auth.OpenTokens(dir + "/tokens.json"); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srvCtx, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	go api.Serve(srvCtx, api.NewServer(e.handler(t, api.Config{Limits: api.DefaultLimits()}), api.DefaultLimits()), ln)
	e.url = "http://" + ln.Addr().String()
	return e
}

// handler serves the API of e's node: cfg's Host, Settler, Registry,
// Ledger, Auth and Metrics default to e's; its Limits are as given.
func (e *env) handler(t testing.TB, cfg api.Config) http.Handler {
	t.Helper()
	if cfg.Host == nil {
		cfg.Host = e.h
	}
	if cfg.Settler == nil {
		cfg.Settler = e.s
	}
	if cfg.Registry == nil {
		cfg.Registry = e.reg
	}
	if cfg.Ledger == nil {
		cfg.Ledger = e.led
	}
	if cfg.Auth == nil {
		cfg.Auth = e.tokens
	}
	if cfg.Metrics == nil {
		cfg.Metrics = e.metrics
	}
	h, err := api.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// fund deposits amount on-chain for a new caller and returns its address
// and API token.
func (e *env) fund(t testing.TB, amount int64) (string, string) {
	t.Helper()
	ctx := context.Background()
	caller := key(t)
	addr := registry.Address(caller)
	if amount > 0 {
		if _, err := e.chain.SendETH(ctx, e.operator, addr, big.NewInt(1e17)); err != nil {
			t.Fatal(err)
		}
		if _, err := e.chain.Mint(ctx, e.operator, addr, big.NewInt(amount)); err != nil {
			t.Fatal(err)
		}
		if _, err := e.chain.Deposit(ctx, caller, addr, big.NewInt(amount)); err != nil {
			t.Fatal(err)
		}
		if n, err := e.s.SyncDeposits(ctx); err != nil || n != 1 {
			t.Fatalf("sync deposits: %d, %v", n, err)
		}
	}
	tok, err := e.tokens.Issue(auth.Principal{Account: addr})
	if err != nil {
		t.Fatal(err)
	}
	return addr, tok
}

// post sends a Connect JSON request the way curl would.
func (e *env) post(t *testing.T, method, token string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	status, hdr, out, err := e.postErr(method, token, body)
	if err != nil {
		t.Fatal(err)
	}
	return status, hdr, out
}

// postErr is post for goroutines, which must not call t.Fatal.
func (e *env) postErr(method, token string, body any) (int, http.Header, map[string]any, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequest("POST", e.url+"/tollgate.v1."+method, bytes.NewReader(b))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return 0, nil, nil, fmt.Errorf("%s: decode response: %w", method, err)
	}
	return res.StatusCode, res.Header, out, nil
}

func TestInvokeWithJSONOverHTTP(t *testing.T) {
	e := newEnv(t)
	caller, tok := e.fund(t, 10_000)
	status, _, out := e.post(t, "AgentService/Invoke", tok, map[string]any{"agent": "acme/qa@latest", "inputText": "Why is the sky blue?", "requestId": "req-1"})
	if status != 200 {
		t.Fatalf("status %d: %v", status, out)
	}
	if !strings.Contains(out["outputText"].(string), "air scatters blue sunlight") {
		t.Fatalf("output %q", out["outputText"])
	}
	rc, err := e.led.Receipt(context.Background(), out["receipt"].(map[string]any)["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	// The agent read every record through the host functions; each was
	// metered once and charged the datanet's price.
	if len(rc.Accesses) == 0 {
		t.Fatal("no accesses metered")
	}
	sum := new(big.Int)
	for _, p := range rc.Postings {
		sum.Add(sum, p.Amount)
	}
	if sum.Sign() != 0 {
		t.Fatalf("postings sum to %s", sum)
	}
	want := int64(1000 + 7*len(rc.Accesses))
	if rc.Debit().Int64() != want || out["receipt"].(map[string]any)["charged"] != big.NewInt(want).String() {
		t.Fatalf("charged %s, want %d", rc.Debit(), want)
	}
	if bal, _ := e.led.Balance(context.Background(), caller); bal.Int64() != 10_000-want {
		t.Fatalf("caller balance %s", bal)
	}
	// The receipt is signed by the operator (EIP-712); any change breaks it.
	if err := rc.VerifySignature(); err != nil || rc.Signer != registry.Address(e.operator) {
		t.Fatalf("signature: %v (signer %s)", err, rc.Signer)
	}
	rc.Postings[1].Amount = new(big.Int).Add(rc.Postings[1].Amount, big.NewInt(1))
	if err := rc.VerifySignature(); abi.CodeOf(err) != abi.CodeBadSignature {
		t.Fatalf("a tampered receipt verified: %v", err)
	}
	if err := e.led.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestRefusedCallsChargeNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	poor, poorTok := e.fund(t, 0)
	_, tok := e.fund(t, 5_000)
	cases := []struct {
		name   string
		token  string
		body   map[string]any
		status int
		code   abi.Code
	}{
		{"no credit", poorTok, map[string]any{"agent": "acme/qa@1.0.0", "inputText": "sky"}, 400, abi.CodeInsufficientCredit},
		{"no token", "", map[string]any{"agent": "acme/qa@1.0.0", "inputText": "sky"}, 401, abi.CodeBadSignature},
		{"forged token", "tg_forged", map[string]any{"agent": "acme/qa@1.0.0", "inputText": "sky"}, 401, abi.CodeBadSignature},
		{"unknown agent", tok, map[string]any{"agent": "acme/nope@1.0.0", "inputText": "sky"}, 404, abi.CodeNotFound},
		{"malformed agent ref", tok, map[string]any{"agent": "no version", "inputText": "sky"}, 400, abi.CodeBadRequest},
		{"plugin error", tok, map[string]any{"agent": "acme/qa@1.0.0", "inputText": ""}, 409, abi.CodePluginError},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, hdr, out := e.post(t, "AgentService/Invoke", c.token, c.body)
			if status != c.status || hdr.Get(api.CodeHeader) != string(c.code) {
				t.Fatalf("status %d code %q (%v), want %d %q", status, hdr.Get(api.CodeHeader), out, c.status, c.code)
			}
		})
	}
	if n, _ := e.led.OpenEpoch(ctx); n != 1 {
		t.Fatal("epoch moved")
	}
	if status, hdr, _ := e.post(t, "LedgerService/GetBalance", poorTok, map[string]any{"account": "not-an-address"}); status != 400 || hdr.Get(api.CodeHeader) != string(abi.CodeBadRequest) {
		t.Fatalf("balance of a malformed account: %d %s", status, hdr.Get(api.CodeHeader))
	}
	// A lowercase address finds the same account as its checksummed form.
	if _, _, out := e.post(t, "LedgerService/GetBalance", poorTok, map[string]any{"account": strings.ToLower(poor)}); out["account"] != poor {
		t.Fatalf("lowercase address: %v", out)
	}
	if bal, _ := e.led.Balance(ctx, poor); bal.Sign() != 0 {
		t.Fatalf("poor caller balance %s", bal)
	}
	for _, who := range []*ecdsa.PrivateKey{e.alice, e.bob} {
		if earned, _ := e.led.Earned(ctx, registry.Address(who)); earned.Sign() != 0 {
			t.Fatalf("a refused call paid %s", earned)
		}
	}
	if err := e.led.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestSettleThroughTheAPIAndClaim(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, tok := e.fund(t, 100_000)
	for _, q := range []string{"Why is the sky blue?", "When does water boil?", "What do bees do?"} {
		if status, _, out := e.post(t, "AgentService/Invoke", tok, map[string]any{"agent": "acme/qa@1.0.0", "inputText": q}); status != 200 {
			t.Fatalf("invoke: %d %v", status, out)
		}
	}
	if status, hdr, _ := e.post(t, "LedgerService/CloseEpoch", tok, map[string]any{}); status != 403 || hdr.Get(api.CodeHeader) != string(abi.CodeGrantDenied) {
		t.Fatalf("a caller closed an epoch: %d", status)
	}
	opTok, _ := e.tokens.Issue(auth.Principal{Account: registry.Address(e.operator), Operator: true})
	status, _, closed := e.post(t, "LedgerService/CloseEpoch", opTok, map[string]any{})
	if status != 200 || closed["postTx"] == "" {
		t.Fatalf("close epoch: %d %v", status, closed)
	}
	bob := registry.Address(e.bob)
	status, _, proof := e.post(t, "LedgerService/GetProof", "", map[string]any{"account": bob})
	if status != 200 {
		t.Fatalf("proof: %d %v", status, proof)
	}
	cum, _ := new(big.Int).SetString(proof["cumulative"].(string), 10)
	var hashes []string
	for _, h := range proof["proof"].([]any) {
		hashes = append(hashes, h.(string))
	}
	earned, _ := e.led.Earned(ctx, bob)
	if cum.Cmp(earned) != 0 {
		t.Fatalf("proof for %s, ledger says %s", cum, earned)
	}
	if _, err := e.chain.Claim(ctx, e.operator, bob, cum, hashes); err != nil {
		t.Fatalf("the contract refused the ledger's proof: %v", err)
	}
	if got, _ := e.chain.TokenBalance(ctx, bob); got.Cmp(earned) != 0 {
		t.Fatalf("bob holds %s on-chain, earned %s", got, earned)
	}
	if _, err := e.chain.Claim(ctx, e.operator, bob, cum, hashes); err == nil {
		t.Fatal("claimed twice")
	}
	if err := e.led.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestRetriedRequestIsChargedOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	caller, tok := e.fund(t, 100_000)
	body := map[string]any{"agent": "acme/qa@1.0.0", "inputText": "Why is the sky blue?", "requestId": "retry-me"}
	// Concurrent duplicates and a later retry all get the same receipt.
	type result struct {
		status int
		out    map[string]any
		err    error
	}
	results := make(chan result, 4)
	for range 4 {
		go func() {
			status, _, out, err := e.postErr("AgentService/Invoke", tok, body)
			results <- result{status, out, err}
		}()
	}
	var id string
	for range 4 {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.status != 200 {
			t.Fatalf("status %d: %v", r.status, r.out)
		}
		got := r.out["receipt"].(map[string]any)["id"].(string)
		if id != "" && got != id {
			t.Fatalf("receipt %s and %s for one request id", id, got)
		}
		id = got
	}
	status, _, again := e.post(t, "AgentService/Invoke", tok, body)
	if status != 200 || again["receipt"].(map[string]any)["id"] != id || again["outputText"] == "" {
		t.Fatalf("retry: %d %v", status, again)
	}
	rc, _ := e.led.Receipt(ctx, id)
	if bal, _ := e.led.Balance(ctx, caller); bal.Cmp(new(big.Int).Sub(big.NewInt(100_000), rc.Debit())) != 0 {
		t.Fatalf("balance %s after 5 tries of one request costing %s", bal, rc.Debit())
	}
	// Another caller with the same request id gets its own invocation.
	_, tok2 := e.fund(t, 100_000)
	_, _, other := e.post(t, "AgentService/Invoke", tok2, body)
	if other["receipt"].(map[string]any)["id"] == id {
		t.Fatal("two callers share a receipt")
	}
	if err := e.led.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

func bigInt(v int64) *big.Int { return big.NewInt(v) }

func TestVerifyRerunsAnEpochAndCatchesTampering(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, tok := e.fund(t, 100_000)
	for _, q := range []string{"Why is the sky blue?", "When does water boil?", "What do bees do?"} {
		if status, _, out := e.post(t, "AgentService/Invoke", tok, map[string]any{"agent": "acme/qa@1.0.0", "inputText": q}); status != 200 {
			t.Fatalf("invoke: %d %v", status, out)
		}
	}
	epoch, err := e.s.Settle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The datanet grows after the epoch: records quoting each answer whole,
	// which attribution would credit if it read the datanet as it is now.
	carol := key(t)
	rs, _ := e.led.Receipts(ctx, epoch.N)
	for _, rc := range rs {
		out, err := e.led.Output(ctx, rc.ID)
		if err != nil {
			t.Fatal(err)
		}
		quote := "As the assistant put it: " + string(out)
		sig, _ := registry.Sign(carol, registry.Domain{}.RecordDigest("facts", quote))
		if _, _, err := e.reg.AddRecord(ctx, "facts", registry.Address(carol), quote, sig); err != nil {
			t.Fatal(err)
		}
	}
	v, err := e.verifyEpoch(ctx, epoch.N)
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK() || v.Receipts != 3 || v.OnChain != epoch.Root {
		t.Fatalf("honest epoch did not verify after the datanet grew: %+v", v)
	}

	// Move one unit from the developer to the protocol: still balanced, but
	// not what the receipt's inputs give.
	tampered := rs[1]
	for i := range tampered.Postings {
		switch tampered.Postings[i].Kind {
		case ledger.KindDeveloper:
			tampered.Postings[i].Amount = new(big.Int).Sub(tampered.Postings[i].Amount, big.NewInt(1))
		case ledger.KindProtocol:
			tampered.Postings[i].Amount = new(big.Int).Add(tampered.Postings[i].Amount, big.NewInt(1))
		}
	}
	v, err = e.verifyReceipts(ctx, epoch, rs)
	if err != nil {
		t.Fatal(err)
	}
	if v.OK() || len(v.Problems) != 2 {
		t.Fatalf("tampering not caught by both the signature and the re-run: %+v", v)
	}
	for _, p := range v.Problems {
		if !strings.Contains(p, tampered.ID) {
			t.Fatalf("an untouched receipt was flagged: %s", p)
		}
	}

	// Receipts from a third party may be malformed in any way: a missing
	// amount, a withdrawal paying someone else. Each is a problem named
	// for its receipt, never a crash.
	for name, mangle := range map[string]func(r *ledger.Receipt){
		"null amount": func(r *ledger.Receipt) { r.Postings[0].Amount = nil },
		"withdrawal to another": func(r *ledger.Receipt) {
			r.Method, r.Agent, r.Accesses, r.Scores, r.Datanets, r.InputHash, r.OutputHash, r.Attribution = ledger.MethodWithdraw, "", nil, nil, nil, "", "", ""
			r.Postings = []ledger.Posting{{Account: r.Caller, Kind: ledger.KindWithdrawal, Amount: big.NewInt(-5)}, {Account: registry.Address(e.bob), Kind: ledger.KindRefund, Amount: big.NewInt(5)}}
		},
		"no postings": func(r *ledger.Receipt) { r.Postings = nil },
	} {
		fresh, _ := e.led.Receipts(ctx, epoch.N)
		mangle(fresh[0])
		v, err := e.verifyReceipts(ctx, epoch, fresh)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if v.OK() || !strings.Contains(strings.Join(v.Problems, "\n"), fresh[0].ID) {
			t.Fatalf("%s: not reported: %+v", name, v.Problems)
		}
	}
}

// TestFailingAttributionFallsBackToBytesRead: an agent whose attribution
// plugin cannot run still pays its contributors, by bytes read, once.
func TestFailingAttributionFallsBackToBytesRead(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	dev := key(t)
	// A module without an `attribute` export, published as an attribution plugin.
	if _, err := e.h.Publish(ctx, dev, registry.Manifest{Name: "acme/broken", Version: "1.0.0", Kind: abi.KindAttribution}, examples.QA); err != nil {
		t.Fatal(err)
	}
	e.allowAttribution(t, "facts", e.owner, "acme/broken")
	if _, err := e.h.Publish(ctx, dev, registry.Manifest{Name: "acme/qa2", Version: "1.0.0", Kind: abi.KindAgent, Price: "1000",
		Datanets: []string{"facts"}, Attribution: "acme/broken@1.0.0", Limits: &registry.Limits{MaxRecords: 16}}, examples.QA); err != nil {
		t.Fatal(err)
	}
	_, tok := e.fund(t, 100_000)
	status, _, out := e.post(t, "AgentService/Invoke", tok, map[string]any{"agent": "acme/qa2@1.0.0", "inputText": "Why is the sky blue?"})
	if status != 200 {
		t.Fatalf("invoke: %d %v", status, out)
	}
	rc, _ := e.led.Receipt(ctx, out["receipt"].(map[string]any)["id"].(string))
	if !strings.HasPrefix(rc.Method, "fallback:access-bytes/v1") || !strings.Contains(rc.Method, string(abi.CodeInvalidPlugin)) {
		t.Fatalf("method %q", rc.Method)
	}
	attributed := new(big.Int)
	for _, p := range rc.Postings {
		if p.Kind == ledger.KindAttribution {
			attributed.Add(attributed, p.Amount)
		}
	}
	if attributed.Int64() != 300 { // the contributors' 30% of 1000, paid once
		t.Fatalf("contributors got %s of the price, want 300", attributed)
	}
	if err := e.led.Check(ctx); err != nil {
		t.Fatal(err)
	}

	// Once the attribution plugin is yanked, the agent takes no new calls
	// and nothing is charged; the receipt made before still verifies.
	before, _ := e.led.Balance(ctx, rc.Caller)
	if err := e.reg.Yank(ctx, "acme/broken@1.0.0", mustSign(t, dev, registry.Domain{}.YankDigest("acme/broken", "1.0.0"))); err != nil {
		t.Fatal(err)
	}
	_, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: rc.Caller, Agent: "acme/qa2@1.0.0", Input: []byte("Why is the sky blue?")})
	if abi.CodeOf(err) != abi.CodeNotFound || !strings.Contains(err.Error(), "yanked") {
		t.Fatalf("invoking an agent whose attribution plugin was yanked: %v", err)
	}
	if after, _ := e.led.Balance(ctx, rc.Caller); after.Cmp(before) != 0 {
		t.Fatalf("a refused call was charged: %s -> %s", before, after)
	}
	ep, err := e.s.Settle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := e.verifyEpoch(ctx, ep.N); err != nil || !v.OK() {
		t.Fatalf("verify after the yank: %+v %v", v, err)
	}
}

func mustSign(t testing.TB, k *ecdsa.PrivateKey, b []byte) []byte {
	t.Helper()
	sig, err := registry.Sign(k, b)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// newDatanet creates d, owned and signed by k. A test that sets no write
// rule is about something else: its datanet takes anyone's records.
func newDatanet(t testing.TB, r *registry.Registry, k *ecdsa.PrivateKey, d registry.Datanet) (*registry.Datanet, error) {
	t.Helper()
	d.Owner = registry.Address(k)
	if d.Policy.Write == "" {
		d.Policy.Write = registry.WriteOpen
	}
	sig, err := registry.Sign(k, r.Domain().DatanetDigest(d))
	if err != nil {
		t.Fatal(err)
	}
	return r.CreateDatanet(context.Background(), d, sig)
}

// A receipt's input hash is salted with a secret the caller alone is
// given: a receipt made public with its epoch confirms no guessed input
// (short answers such as "yes" are easily guessed), while the caller can
// show which input it answered, and a retry still replays.
func TestInputHashesAreSalted(t *testing.T) {
	e := newEnv(t)
	_, tok := e.fund(t, 10_000)
	body := map[string]any{"agent": "acme/qa@1.0.0", "inputText": "yes", "requestId": "salted"}
	status, _, out := e.post(t, "AgentService/Invoke", tok, body)
	if status != 200 {
		t.Fatalf("status %d: %v", status, out)
	}
	rc, err := e.led.Receipt(context.Background(), out["receipt"].(map[string]any)["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	bare := sha256.Sum256([]byte("yes"))
	if rc.InputHash == hex.EncodeToString(bare[:]) {
		t.Fatal("the receipt holds the bare sha256 of its input")
	}
	salt, err := hex.DecodeString(strings.TrimPrefix(out["inputSalt"].(string), "0x"))
	if err != nil || len(salt) != 32 {
		t.Fatalf("input salt %v: %v", out["inputSalt"], err)
	}
	salted := sha256.Sum256(append(salt, "yes"...))
	if rc.InputHash != hex.EncodeToString(salted[:]) {
		t.Fatalf("input hash %s is not sha256(salt || input)", rc.InputHash)
	}
	// Another receipt of the same input has another salt.
	status, _, other := e.post(t, "AgentService/Invoke", tok, map[string]any{"agent": "acme/qa@1.0.0", "inputText": "yes", "requestId": "salted-2"})
	if status != 200 || other["inputSalt"] == out["inputSalt"] {
		t.Fatalf("a second receipt's salt: %d %v", status, other["inputSalt"])
	}
	// A retry replays with the same salt; another input under the same id
	// is a conflict.
	status, _, again := e.post(t, "AgentService/Invoke", tok, body)
	if status != 200 || again["replayed"] != true || again["inputSalt"] != out["inputSalt"] {
		t.Fatalf("retry: %d %v", status, again)
	}
	body["inputText"] = "no"
	if status, _, conflict := e.post(t, "AgentService/Invoke", tok, body); status == 200 || conflict["code"] == nil {
		t.Fatalf("another input under the same id: %d %v", status, conflict)
	}
}

// An agent may name its attribution plugin name@latest; its receipts name
// the version that ran, so they still verify after a new version moves
// latest.
func TestReceiptsNameTheAttributionVersionThatRan(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	caller, _ := e.fund(t, 10_000)
	dev := key(t)
	access := plugins.Access()
	attr := registry.Manifest{Name: "acme/attr", Version: "1.0.0", Kind: abi.KindAttribution, Methods: access.Methods}
	if _, err := e.h.Publish(ctx, dev, attr, access.Wasm); err != nil {
		t.Fatal(err)
	}
	e.allowAttribution(t, "facts", e.owner, "builtin/ngram", "builtin/access", "acme/attr")
	if _, err := e.h.Publish(ctx, dev, registry.Manifest{Name: "acme/qa-latest", Version: "1.0.0", Kind: abi.KindAgent, Price: "1000",
		Datanets: []string{"facts"}, Attribution: "acme/attr@latest"}, examples.QA); err != nil {
		t.Fatal(err)
	}
	res, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: "acme/qa-latest@1.0.0", Input: []byte("Why is the sky blue?")})
	if err != nil {
		t.Fatal(err)
	}
	if res.Receipt.Attribution != "acme/attr@1.0.0" {
		t.Fatalf("receipt names attribution %q, want acme/attr@1.0.0", res.Receipt.Attribution)
	}
	// A new version, other bytes, moves latest.
	attr.Version = "2.0.0"
	other := append(append([]byte{}, access.Wasm...), 0, 4, 3, 'x', 'y', 'z') // a custom section more
	if _, err := e.h.Publish(ctx, dev, attr, other); err != nil {
		t.Fatal(err)
	}
	ep, err := e.s.Settle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := e.verifyEpoch(ctx, ep.N); err != nil || !v.OK() {
		t.Fatalf("verify after latest moved: %+v %v", v, err)
	}
}
