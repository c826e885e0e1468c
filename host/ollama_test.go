package host_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/api"
	"github.com/tollgate-dev/tollgate/host"
	"github.com/tollgate-dev/tollgate/internal/ollamatest"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/model"
	"github.com/tollgate-dev/tollgate/registry"
)

// ollamaReply is what the test's Ollama model answers: seven of its eight words
// are in corpus[0], verbatim.
const ollamaReply = "air scatters blue sunlight more than red light"

// ollamaEnv is a modelEnv whose host calls a real Ollama server ("local")
// serving a model that answers ollamaReply, published as acme/llama over the
// corpus, and an agent (acme/rag-llama) granted it.
type ollamaEnv struct {
	*modelEnv
	ollama *ollamatest.Server
}

func newOllamaEnv(t *testing.T) *ollamaEnv {
	t.Helper()
	s := ollamatest.Start(t)
	s.Create(t, "tiny", ollamaReply)
	ctx := context.Background()
	e := &ollamaEnv{ollama: s, modelEnv: newModelEnvWith(t, 16, func(c *host.Config) {
		c.ModelServers = map[string]model.Server{"local": {URL: s.URL}}
	})}
	d, err := e.reg.Datanet(ctx, "corpus")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.h.Publish(ctx, e.operator, registry.Manifest{Name: "acme/llama", Version: "1.0.0", Kind: abi.KindModel,
		Model: &registry.ModelSpec{Backend: registry.BackendOpenAI, Server: "local", Remote: "tiny", Tokenizer: registry.TokenizerServer,
			PriceIn: "1000", PriceOut: "20000", Training: []registry.TrainingData{{Datanet: "corpus", Version: d.Version, Root: d.Root}}}}, nil); err != nil {
		t.Fatal(err)
	}
	wasm, err := os.ReadFile("../examples/agents/rag/rag.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.h.Publish(ctx, key(t), registry.Manifest{Name: "acme/rag-llama", Version: "1.0.0", Kind: abi.KindAgent, Price: "10000",
		Datanets: []string{"facts"}, Models: []grantModel{{Model: "acme/llama@1.0.0", MaxTokens: 16}}}, wasm); err != nil {
		t.Fatal(err)
	}
	return e
}

// A model on a real OpenAI-compatible server (Ollama): the receipt takes
// the server's token counts, pays the training record the answer
// reproduces for the tokens its words make up, and pays the model's
// publisher the rest; the worst case was held; and a verifier, which
// cannot re-run the server, re-runs the attribution and says what it
// could not re-run.
func TestOllamaModelPaysWhatItReproduces(t *testing.T) {
	e := newOllamaEnv(t)
	ctx := context.Background()
	caller, token := e.fund(t, 10_000_000)
	res, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: "acme/rag-llama@1.0.0", Input: []byte("Why is the sky blue?")})
	if err != nil {
		t.Fatalf("%v\n%s", err, e.ollama.Logs())
	}
	g := res.Receipt.Generations[0]
	if g.Text != ollamaReply || g.Backend != registry.BackendOpenAI || g.TokensOut != 9 || g.TokensIn == 0 || !strings.Contains(string(res.Output), ollamaReply) {
		t.Fatalf("generation %+v, output %q", g, res.Output)
	}
	// "air scatters blue sunlight more than red" is corpus[0]'s: 7 of
	// the 8 words, so 7/8 of the 9 tokens.
	if len(g.Shares) != 1 || g.Shares[0].Record != registry.RecordID(corpus[0]) || g.Shares[0].Tokens.Cmp(big.NewRat(63, 8)) != 0 {
		t.Fatalf("shares %+v", g.Shares)
	}
	cost := big.NewInt(int64(g.TokensIn)*1000 + 9*20000)
	cost.Add(cost, big.NewInt(999)).Quo(cost, big.NewInt(1000))
	pool := new(big.Int).Quo(new(big.Int).Mul(cost, big.NewInt(3000)), big.NewInt(10000))
	want := new(big.Int).Quo(new(big.Int).Mul(pool, big.NewInt(7)), big.NewInt(8))
	by := postingsByKind(res.Receipt)
	if g.Cost.Cmp(cost) != 0 || by[ledger.KindTraining+":"+registry.Address(e.trainer)].Cmp(want) != 0 {
		t.Fatalf("cost %s (want %s), training %v (want %s)", g.Cost, cost, by[ledger.KindTraining+":"+registry.Address(e.trainer)], want)
	}
	// Called directly through the OpenAI endpoint, the same.
	status, _, body := e.chat(t, token, `{"model":"acme/llama@1.0.0","messages":[{"role":"user","content":"Say something?"}],"max_tokens":16,"temperature":0}`)
	var c chatCompletion
	json.Unmarshal(body, &c)
	if status != 200 || c.Choices[0].Message.Content != ollamaReply || c.Usage.Completion != 9 {
		t.Fatalf("direct: %d %s", status, body)
	}
	ep, err := e.s.Settle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.verifyEpoch(ctx, ep.N)
	if err != nil || !v.OK() || v.Receipts != 2 || len(v.NotRerun) != 2 {
		t.Fatalf("verify: %+v, %v", v, err)
	}
	if err := e.led.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// A server that is down fails the model call with model_failed and
// charges nothing for it (it reports no usage); the agent's reads are
// still charged, and the books hold. A caller who cannot pay the worst
// case (the prompt's bytes and max_tokens) is refused before the server
// is asked.
func TestOllamaFailuresChargeWhatWasUsed(t *testing.T) {
	e := newOllamaEnv(t)
	ctx := context.Background()
	// The worst case of 16 tokens out and a ~100-byte prompt (+64) is
	// about 0.5 TGT-units of 1000 and 20000 per 1k: 10000 + 21 of reads
	// covers the call but not the model.
	poor, _ := e.fund(t, 10_100)
	_, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: poor, Agent: "acme/rag-llama@1.0.0", Input: []byte("Why is the sky blue?")})
	if err == nil || !strings.Contains(err.Error(), string(abi.CodeInsufficientCredit)) {
		t.Fatalf("a call past the worst case: %v", err)
	}
	caller, _ := e.fund(t, 10_000_000)
	e.ollama.Kill()
	res, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: "acme/rag-llama@1.0.0", Input: []byte("Why is the sky blue?")})
	if err == nil || !strings.Contains(err.Error(), string(abi.CodeModelFailed)) {
		t.Fatalf("a call while the server is down: %+v, %v", res, err)
	}
	rs, err := e.led.Receipts(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, rc := range rs {
		if len(rc.Generations) != 0 {
			t.Fatalf("a failed model call was recorded: %+v", rc.Generations)
		}
		for _, p := range rc.Postings {
			if p.Kind == ledger.KindModel || p.Kind == ledger.KindTraining {
				t.Fatalf("a failed model call paid %s", p.Kind)
			}
		}
	}
	if err := e.led.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkOpenAIOverhead measures what the node adds to a model call: the
// same completion asked of Ollama directly and through the node's
// /v1/chat/completions (bearer auth, the edge, the worst case held, the
// signed receipt made durable), by 64 callers at once, in alternating
// rounds of the same run. It reports each one's time per call and their
// ratio.
func BenchmarkOpenAIOverhead(b *testing.B) {
	s := ollamatest.Start(b)
	s.Create(b, "tiny", ollamaReply)
	e := newModelEnvWith(b, 16, func(c *host.Config) {
		c.ModelServers = map[string]model.Server{"local": {URL: s.URL}}
	})
	ctx := context.Background()
	d, err := e.reg.Datanet(ctx, "corpus")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.h.Publish(ctx, e.operator, registry.Manifest{Name: "acme/llama", Version: "1.0.0", Kind: abi.KindModel,
		Model: &registry.ModelSpec{Backend: registry.BackendOpenAI, Server: "local", Remote: "tiny", Tokenizer: registry.TokenizerServer,
			PriceIn: "1", PriceOut: "1", Training: []registry.TrainingData{{Datanet: "corpus", Version: d.Version, Root: d.Root}}}}, nil); err != nil {
		b.Fatal(err)
	}
	_, token := e.fund(b, 1<<62)
	// The node as bench runs it: no per-account rate or in-flight limit.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srvCtx, stop := context.WithCancel(ctx)
	defer stop()
	go api.Serve(srvCtx, api.NewServer(e.handler(b, api.Config{Limits: api.Limits{}}), api.Limits{}), ln)
	nodeURL := "http://" + ln.Addr().String()
	const callers = 64
	const prompt = "Say something?"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: callers}}
	call := func(url, auth string) error {
		body := fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":%q}],"max_tokens":16,"temperature":0,"seed":1}`,
			map[bool]string{true: "acme/llama@1.0.0", false: "tiny"}[auth != ""], prompt)
		req, _ := http.NewRequest("POST", url+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(out), ollamaReply) {
			return fmt.Errorf("%d %s", resp.StatusCode, out)
		}
		return nil
	}
	run := func(url, auth string, n int) time.Duration {
		var wg sync.WaitGroup
		var next atomic.Int64
		var failed atomic.Value
		start := time.Now()
		for range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= int64(n) {
					if err := call(url, auth); err != nil {
						failed.Store(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if err, _ := failed.Load().(error); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	run(s.URL, "", callers) // warm both paths: the runner loaded, the connections open
	run(nodeURL, token, callers)
	b.ResetTimer()
	// Alternating rounds, so a drift in the server's speed falls on both.
	var direct, node time.Duration
	const rounds = 4
	for r := range rounds {
		n := b.N / rounds
		if r == 0 {
			n += b.N % rounds
		}
		direct += run(s.URL, "", n)
		node += run(nodeURL, token, n)
	}
	b.StopTimer()
	b.ReportMetric(float64(direct.Microseconds())/float64(b.N), "direct-µs/call")
	b.ReportMetric(float64(node.Microseconds())/float64(b.N), "node-µs/call")
	b.ReportMetric(float64(node)/float64(direct), "node/direct")
}
