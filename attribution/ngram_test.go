package attribution_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"reflect"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/attribution"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/runtime"
)

func id(content string) string {
	h := sha256.Sum256([]byte(content))
	return hex.EncodeToString(h[:])
}

// ngramMethods are the methods the ngram builds declare.
var ngramMethods = []string{"ngram/v1", "ngram/v1:access-bytes"}

// ngramBuilds are the two builds of the ngram rule the node ships.
var ngramBuilds = map[string]string{"go": "../plugins/ngram/ngram.wasm", "assemblyscript": "../plugins/ngram-as/ngram-as.wasm"}

// TestNgramTracesVerbatimSpans runs each shipped build of the ngram plugin
// against a real registry's corpus_match and checks its documented rule on
// a worked case.
func TestNgramTracesVerbatimSpans(t *testing.T) {
	for build, path := range ngramBuilds {
		t.Run(build, func(t *testing.T) { testNgramTracesVerbatimSpans(t, path) })
	}
}

func testNgramTracesVerbatimSpans(t *testing.T, path string) {
	ctx := context.Background()
	reg, err := registry.Open(t.TempDir(), registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	alice, _ := crypto.GenerateKey()
	newDatanet(t, reg, alice, registry.Datanet{Name: "facts", Owner: registry.Address(alice)})
	a := "the quick brown fox jumps over the lazy dog"
	b := "a lazy dog sleeps all day in the sun"
	c := "the quick brown fox"
	for _, content := range []string{a, b, c} {
		sig, _ := registry.Sign(alice, registry.Domain{}.RecordDigest("facts", content))
		if _, _, err := reg.AddRecord(ctx, "facts", registry.Address(alice), content, sig); err != nil {
			t.Fatal(err)
		}
	}

	wasm, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p := &registry.Plugin{Manifest: registry.Manifest{Name: "builtin/ngram", Version: "1.0.0", Kind: abi.KindAttribution, WasmSHA256: path, Methods: ngramMethods}, Wasm: wasm}
	rt, _ := runtime.New(runtime.Config{})
	defer rt.Close(context.Background())
	r := attribution.NewRunner(rt)
	defer r.Close(context.Background())
	access := func(content string) abi.Access {
		return abi.Access{Datanet: "facts", Record: id(content), Contributor: registry.Address(alice), Bytes: len(content), Content: content}
	}
	req := abi.AttributeRequest{
		Output:   "the quick brown fox jumps over the lazy dog sleeps all day",
		Accesses: []abi.Access{access(a), access(b), access(c)},
		Datanets: []string{"facts"},
	}
	weights := func(res *attribution.Result) map[string]float64 {
		got := map[string]float64{}
		for _, w := range res.Weights {
			got[w.Record] = w.Weight
		}
		return got
	}
	res, err := r.Run(ctx, p, req, reg, []string{"facts"})
	if err != nil {
		t.Fatal(err)
	}
	// a's 9-word span is found only in a (c holds only part of it); b's
	// span "lazy dog sleeps all day" owns the 3 words a's span left it:
	// 9:3 of 2^16.
	if want := map[string]float64{id(a): 49152, id(b): 16384}; res.Method != "ngram/v1" || !reflect.DeepEqual(weights(res), want) {
		t.Fatalf("method %s weights %v, want %v", res.Method, weights(res), want)
	}
	// corpus_match answers from the records the agent read only: having
	// read c alone, the output's spans are c's words, and a and b, which
	// the caller did not pay for, are neither credited nor disclosed.
	req.Accesses = []abi.Access{access(c)}
	if res, err = r.Run(ctx, p, req, reg, []string{"facts"}); err != nil {
		t.Fatal(err)
	}
	if want := map[string]float64{id(c): 65536}; res.Method != "ngram/v1" || !reflect.DeepEqual(weights(res), want) {
		t.Fatalf("having read c only: method %s weights %v, want %v", res.Method, weights(res), want)
	}
	again, err := r.Run(ctx, p, req, reg, []string{"facts"})
	if err != nil || !reflect.DeepEqual(res, again) {
		t.Fatalf("not deterministic: %+v vs %+v (%v)", res, again, err)
	}

	// An output repeating nothing falls back to the records read, by bytes.
	req.Output = "nothing here matches"
	res, err = r.Run(ctx, p, req, reg, []string{"facts"})
	if err != nil || res.Method != "ngram/v1:access-bytes" || len(res.Weights) != 1 || res.Weights[0].Record != id(c) {
		t.Fatalf("fallback: %+v, %v", res, err)
	}
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
