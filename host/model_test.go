package host_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"math/big"
	"os"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/host"
	"github.com/tollgate-dev/tollgate/internal/grant"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/registry"
)

// modelEnv is a node with a training datanet ("corpus", whose records each
// continue their text in one way only), a model built from it, and the rag
// example agent granted the facts datanet and the model.
type modelEnv struct {
	*env
	trainer     *ecdsa.PrivateKey // contributed every corpus record
	corpusOwner *ecdsa.PrivateKey
	modelKey    *ecdsa.PrivateKey // published the model
	model       *registry.Plugin
}

type grantModel = grant.Model

// setPolicy sets a policy on a datanet of e's, signed by its owner.
func (e *modelEnv) setPolicy(t *testing.T, name string, p registry.Policy) error {
	t.Helper()
	d, err := e.reg.Datanet(context.Background(), name)
	if err != nil {
		return err
	}
	return e.reg.SetPolicy(context.Background(), name, p, mustSign(t, e.corpusOwner, e.reg.Domain().PolicyDigest(name, d.PolicyNonce, p)))
}

var corpus = []string{
	"The sky is blue because air scatters blue sunlight more than red sunlight at noon.",
	"Water boils at 100 degrees Celsius at sea level and lower on mountains.",
	"Bees dance to tell the hive where flowers are and how far away they grow.",
}

func newModelEnv(t *testing.T, agentMaxTokens int) *modelEnv {
	return newModelEnvWith(t, agentMaxTokens, nil)
}

// newModelEnvWith is newModelEnv on a host whose config mod changes.
func newModelEnvWith(t testing.TB, agentMaxTokens int, mod func(*host.Config)) *modelEnv {
	t.Helper()
	ctx := context.Background()
	e := &modelEnv{env: newEnvWith(t, mod), trainer: key(t), modelKey: key(t), corpusOwner: key(t)}
	owner := e.corpusOwner
	if _, err := newDatanet(t, e.reg, owner, registry.Datanet{Name: "corpus", PricePerRead: "5",
		Policy: registry.Policy{Access: registry.AccessOpen, Write: registry.WriteOpen, Models: []string{"acme/tiny", "acme/llama"}}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range corpus {
		if _, _, err := e.reg.AddRecord(ctx, "corpus", registry.Address(e.trainer), c, mustSign(t, e.trainer, registry.Domain{}.RecordDigest("corpus", c))); err != nil {
			t.Fatal(err)
		}
	}
	d, err := e.reg.Datanet(ctx, "corpus")
	if err != nil {
		t.Fatal(err)
	}
	e.model, err = e.h.Publish(ctx, e.modelKey, registry.Manifest{Name: "acme/tiny", Version: "1.0.0", Kind: abi.KindModel,
		Model: &registry.ModelSpec{Backend: registry.BackendInfgram, Tokenizer: registry.TokenizerInfgram, PriceIn: "1000", PriceOut: "20000",
			Training: []registry.TrainingData{{Datanet: "corpus", Version: d.Version, Root: d.Root}}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wasm, err := os.ReadFile("../examples/agents/rag/rag.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.h.Publish(ctx, key(t), registry.Manifest{Name: "acme/rag", Version: "1.0.0", Kind: abi.KindAgent, Price: "10000",
		Datanets: []string{"facts"}, Models: []grantModel{{Model: "acme/tiny@1.0.0", MaxTokens: agentMaxTokens}}}, wasm); err != nil {
		t.Fatal(err)
	}
	return e
}

// postingsByKind sums a receipt's postings by kind and account.
func postingsByKind(rc *ledger.Receipt) map[string]*big.Int {
	out := map[string]*big.Int{}
	for _, p := range rc.Postings {
		k := p.Kind + ":" + p.Account
		if out[k] == nil {
			out[k] = new(big.Int)
		}
		out[k].Add(out[k], p.Amount)
	}
	return out
}

// An agent asks the embedded model; the receipt pays the records the agent
// read (access), the model's publisher, and the training record every
// generated token came from (training), the caller pays exactly the price,
// the reads and the tokens, the books hold, and a third party re-running
// the epoch regenerates the same text and the same shares.
func TestModelPaysItsTrainingData(t *testing.T) {
	e := newModelEnv(t, 16)
	ctx := context.Background()
	caller, _ := e.fund(t, 10_000_000)
	in := []byte(`{"question": "Why is the sky blue", "seed": 7}`)
	res, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: "acme/rag@1.0.0", Input: in})
	if err != nil {
		t.Fatal(err)
	}
	rc := res.Receipt
	if len(rc.Generations) != 1 {
		t.Fatalf("%d generations recorded", len(rc.Generations))
	}
	g := rc.Generations[0]
	// The corpus continues "sky is blue" one way only: the model copies it.
	if !strings.Contains(string(res.Output), "because air scatters blue sunlight") || !strings.Contains(g.Text, "because air scatters") {
		t.Fatalf("answer %q, generation %q", res.Output, g.Text)
	}
	if g.Model != "acme/tiny@1.0.0" || g.ModelHash != e.model.Manifest.Hash() || g.Backend != registry.BackendInfgram || g.Seed != 7 || g.MaxTokens != 16 {
		t.Fatalf("generation %+v", g)
	}
	if g.TokensOut == 0 || g.TokensIn == 0 {
		t.Fatalf("tokens %d in, %d out", g.TokensIn, g.TokensOut)
	}
	// Every token was the only continuation, in one record: that record
	// made all of them.
	if len(g.Shares) != 1 || g.Shares[0].Tokens.Cmp(big.NewRat(int64(g.TokensOut), 1)) != 0 || g.Shares[0].Contributor != registry.Address(e.trainer) ||
		g.Shares[0].Record != registry.RecordID(corpus[0]) {
		t.Fatalf("shares %+v of %d tokens", g.Shares, g.TokensOut)
	}
	cost := new(big.Int).Add(big.NewInt(int64(g.TokensIn)*1000), big.NewInt(int64(g.TokensOut)*20000))
	cost.Add(cost, big.NewInt(999)).Quo(cost, big.NewInt(1000))
	if g.Cost.Cmp(cost) != 0 {
		t.Fatalf("cost %s, want %s", g.Cost, cost)
	}
	reads := new(big.Int)
	for _, a := range rc.Accesses {
		reads.Add(reads, a.Fee)
	}
	if len(rc.Accesses) == 0 {
		t.Fatal("the agent read no records")
	}
	want := new(big.Int).Add(big.NewInt(10000), reads)
	want.Add(want, cost)
	if rc.Debit().Cmp(want) != 0 {
		t.Fatalf("charged %s, want price 10000 + reads %s + tokens %s", rc.Debit(), reads, cost)
	}
	by := postingsByKind(rc)
	pool := new(big.Int).Quo(new(big.Int).Mul(cost, big.NewInt(3000)), big.NewInt(10000))
	if got := by[ledger.KindTraining+":"+registry.Address(e.trainer)]; got == nil || got.Cmp(pool) != 0 {
		t.Fatalf("the training record's contributor got %v, want the whole pool %s: %v", got, pool, by)
	}
	protocol := new(big.Int).Quo(new(big.Int).Mul(cost, big.NewInt(500)), big.NewInt(10000))
	model := new(big.Int).Sub(cost, protocol)
	model.Sub(model, pool)
	if got := by[ledger.KindModel+":"+registry.Address(e.modelKey)]; got == nil || got.Cmp(model) != 0 {
		t.Fatalf("the model's publisher got %v, want %s", got, model)
	}
	if rc.AgentManifest == "" || rc.AttributionManifest == "" || rc.Schema != ledger.ReceiptSchema {
		t.Fatalf("receipt binds manifests %q %q, schema %d", rc.AgentManifest, rc.AttributionManifest, rc.Schema)
	}
	if err := rc.VerifySignedBy(registry.Address(e.operator)); err != nil {
		t.Fatal(err)
	}
	if err := e.led.Check(ctx); err != nil {
		t.Fatal(err)
	}
	// The same call again generates the same text and shares.
	again, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: "acme/rag@1.0.0", Input: in})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := again.Receipt.Generations[0], g; a.Text != b.Text || a.TokensOut != b.TokensOut || a.Shares[0].Tokens.Cmp(b.Shares[0].Tokens) != 0 {
		t.Fatalf("second run %+v, first %+v", a, b)
	}
	ep, err := e.s.Settle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.verifyEpoch(ctx, ep.N)
	if err != nil || !v.OK() || v.Receipts != 2 || len(v.NotRerun) != 0 {
		t.Fatalf("verify: %+v, %v", v, err)
	}
}

// A generation the receipt misreports does not verify: the re-run
// regenerates the model's text and catches a changed prompt, token count,
// text or share even when the receipt is re-signed by the operator.
func TestVerifyRegeneratesTheModelsText(t *testing.T) {
	e := newModelEnv(t, 16)
	ctx := context.Background()
	caller, _ := e.fund(t, 10_000_000)
	res, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: "acme/rag@1.0.0", Input: []byte(`{"question": "Why do bees dance", "seed": 3}`)})
	if err != nil {
		t.Fatal(err)
	}
	ep, err := e.s.Settle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	epoch, err := e.led.Epoch(ctx, ep.N)
	if err != nil {
		t.Fatal(err)
	}
	for name, tamper := range map[string]func(*ledger.Generation){
		"text":   func(g *ledger.Generation) { g.Text += " and honey" },
		"tokens": func(g *ledger.Generation) { g.TokensOut-- },
		"shares": func(g *ledger.Generation) { g.Shares[0].Tokens = big.NewRat(1, 2) },
		"prompt": func(g *ledger.Generation) { g.Prompt = "Water boils" },
	} {
		rc := *res.Receipt
		b, _ := json.Marshal(rc)
		var cp ledger.Receipt
		json.Unmarshal(b, &cp)
		tamper(&cp.Generations[0])
		if err := cp.Sign(e.operator, *cp.Domain); err != nil {
			t.Fatal(err)
		}
		v, err := e.verifyReceipts(ctx, epoch, []*ledger.Receipt{&cp})
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Problems) == 0 {
			t.Fatalf("%s: a misreported generation verified", name)
		}
	}
}

// The worst case is held before the model runs: a caller who can pay the
// price and the reads but not max_tokens of the model is refused the
// model call (its reads are charged, the model nothing), and an agent
// asking more tokens than its grant is refused too. Neither leaves the
// caller below zero or the books unbalanced.
func TestModelCallsHoldTheirWorstCase(t *testing.T) {
	e := newModelEnv(t, 64)
	ctx := context.Background()
	// Price 10000 + three reads at 7; 64 tokens at 20000/1k = 1280 more.
	caller, _ := e.fund(t, 10_100)
	_, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: "acme/rag@1.0.0", Input: []byte("Why is the sky blue")})
	if err == nil || !strings.Contains(err.Error(), string(abi.CodeInsufficientCredit)) {
		t.Fatalf("a model call past the caller's credit: %v", err)
	}
	bal, err := e.led.Balance(ctx, caller)
	if err != nil {
		t.Fatal(err)
	}
	if bal.Sign() < 0 || bal.Cmp(big.NewInt(10_100)) >= 0 {
		t.Fatalf("balance %s after a refused model call: the reads should be charged, nothing more", bal)
	}
	rich, _ := e.fund(t, 10_000_000)
	_, err = e.h.Invoke(ctx, host.InvokeRequest{Caller: rich, Agent: "acme/rag@1.0.0", Input: []byte(`{"question":"Why is the sky blue","max_tokens":65}`)})
	if err == nil || !strings.Contains(err.Error(), "max_tokens 65") {
		t.Fatalf("max_tokens past the grant: %v", err)
	}
	if err := e.led.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// A datanet owner who stops admitting a model stops its calls: the next
// call is refused with grant_denied and pays the model nothing.
func TestTrainingDatanetPolicyStopsTheModel(t *testing.T) {
	e := newModelEnv(t, 16)
	ctx := context.Background()
	caller, _ := e.fund(t, 10_000_000)
	if err := e.setPolicy(t, "corpus", registry.Policy{Access: registry.AccessAllowList, Agents: []string{"someone/else"}, Write: registry.WriteOpen}); err != nil {
		t.Fatal(err)
	}
	_, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: "acme/rag@1.0.0", Input: []byte("Why is the sky blue")})
	if abi.CodeOf(err) != abi.CodePluginError && !strings.Contains(err.Error(), string(abi.CodeGrantDenied)) {
		t.Fatalf("a model its training datanet no longer admits: %v", err)
	}
	if err == nil || !strings.Contains(err.Error(), "corpus") {
		t.Fatalf("refusal does not name the datanet: %v", err)
	}
}

// Publishing a model checks what it pins: a root the datanet never had is
// refused, and so is a datanet whose owner does not admit the model.
func TestModelPublishChecksItsTrainingData(t *testing.T) {
	e := newModelEnv(t, 16)
	ctx := context.Background()
	d, err := e.reg.Datanet(ctx, "corpus")
	if err != nil {
		t.Fatal(err)
	}
	spec := func(root string, v uint64) *registry.ModelSpec {
		return &registry.ModelSpec{Backend: registry.BackendInfgram, Tokenizer: registry.TokenizerInfgram, PriceIn: "0", PriceOut: "1",
			Training: []registry.TrainingData{{Datanet: "corpus", Version: v, Root: root}}}
	}
	_, err = e.h.Publish(ctx, e.modelKey, registry.Manifest{Name: "acme/tiny", Version: "1.0.1", Kind: abi.KindModel,
		Model: spec(strings.Repeat("ab", 32), d.Version)}, nil)
	if abi.CodeOf(err) != abi.CodeHashMismatch {
		t.Fatalf("a model pinning a root the datanet never had: %v", err)
	}
	_, err = e.h.Publish(ctx, e.modelKey, registry.Manifest{Name: "acme/tiny", Version: "1.0.2", Kind: abi.KindModel,
		Model: spec(d.Root, d.Version+1)}, nil)
	if abi.CodeOf(err) != abi.CodeNotFound {
		t.Fatalf("a model pinning a version the datanet does not have: %v", err)
	}
	// A datanet open to every agent admits no model until its owner
	// names it.
	if err := e.setPolicy(t, "corpus", registry.Policy{Access: registry.AccessOpen, Write: registry.WriteOpen, Models: []string{"acme/other"}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.h.Publish(ctx, e.modelKey, registry.Manifest{Name: "acme/tiny", Version: "1.0.3", Kind: abi.KindModel, Model: spec(d.Root, d.Version)}, nil)
	if abi.CodeOf(err) != abi.CodeGrantDenied {
		t.Fatalf("a model over a datanet that does not admit it: %v", err)
	}
	// An agent may not grant itself a model at latest, or a plugin that is not a model.
	_, err = e.h.Publish(ctx, key(t), registry.Manifest{Name: "acme/rag2", Version: "1.0.0", Kind: abi.KindAgent,
		Models: []grantModel{{Model: "acme/tiny@latest", MaxTokens: 8}}}, []byte("\x00asm\x01\x00\x00\x00"))
	if abi.CodeOf(err) != abi.CodeBadRequest {
		t.Fatalf("a grant of model@latest: %v", err)
	}
	_, err = e.h.Publish(ctx, key(t), registry.Manifest{Name: "acme/rag3", Version: "1.0.0", Kind: abi.KindAgent,
		Models: []grantModel{{Model: "acme/qa@1.0.0", MaxTokens: 8}}}, []byte("\x00asm\x01\x00\x00\x00"))
	if abi.CodeOf(err) != abi.CodeBadRequest {
		t.Fatalf("a grant of an agent as a model: %v", err)
	}
}

// An agent can call only the models its manifest grants, at the version
// granted: asking another model, or the granted one at another version,
// is refused with grant_denied and charges nothing for a model.
func TestModelGrantsCannotBeCrossed(t *testing.T) {
	e := newModelEnv(t, 16)
	ctx := context.Background()
	d, err := e.reg.Datanet(ctx, "corpus")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.h.Publish(ctx, e.modelKey, registry.Manifest{Name: "acme/tiny", Version: "2.0.0", Kind: abi.KindModel,
		Model: &registry.ModelSpec{Backend: registry.BackendInfgram, Tokenizer: registry.TokenizerInfgram, PriceIn: "1", PriceOut: "1",
			Training: []registry.TrainingData{{Datanet: "corpus", Version: d.Version, Root: d.Root}}}}, nil); err != nil {
		t.Fatal(err)
	}
	caller, _ := e.fund(t, 10_000_000)
	for _, m := range []string{"acme/tiny@2.0.0", "acme/tiny@latest", "acme/qa@1.0.0"} {
		_, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: "acme/rag@1.0.0", Input: []byte(`{"question":"Why is the sky blue","model":"` + m + `"}`)})
		if err == nil || !strings.Contains(err.Error(), string(abi.CodeGrantDenied)) {
			t.Fatalf("the agent called %s, which it is not granted: %v", m, err)
		}
	}
	rs, err := e.led.Receipts(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, rc := range rs {
		if len(rc.Generations) != 0 {
			t.Fatalf("a refused model call was charged: %+v", rc.Generations)
		}
	}
}
