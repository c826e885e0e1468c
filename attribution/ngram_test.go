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
	bob, _ := crypto.GenerateKey()
	newDatanet(t, reg, alice, registry.Datanet{Name: "facts", Owner: registry.Address(alice)})
	a := "the quick brown fox jumps over the lazy dog"
	b := "a lazy dog sleeps all day in the sun"
	c := "the quick brown fox"
	add := func(content string, who string, sign func([]byte) []byte) {
		if _, _, err := reg.AddRecord(ctx, "facts", who, content, sign(registry.Domain{}.RecordDigest("facts", content))); err != nil {
			t.Fatal(err)
		}
	}
	signA := func(b []byte) []byte { s, _ := registry.Sign(alice, b); return s }
	signB := func(b []byte) []byte { s, _ := registry.Sign(bob, b); return s }
	add(a, registry.Address(alice), signA)
	add(b, registry.Address(bob), signB)
	add(c, registry.Address(bob), signB)

	wasm, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p := &registry.Plugin{Manifest: registry.Manifest{Name: "builtin/ngram", Version: "1.0.0", Kind: abi.KindAttribution, WasmSHA256: path}, Wasm: wasm}
	rt, _ := runtime.New(runtime.Config{})
	defer rt.Close(context.Background())
	r := attribution.NewRunner(rt)
	defer r.Close(context.Background())
	req := abi.AttributeRequest{
		Output:   "the quick brown fox jumps over the lazy dog sleeps all day",
		Accesses: []abi.Access{{Datanet: "facts", Record: id(c), Contributor: registry.Address(bob), Bytes: len(c)}},
		Datanets: []string{"facts"},
	}
	res, err := r.Run(ctx, p, req, reg, []string{"facts"})
	if err != nil {
		t.Fatal(err)
	}
	// a's 9-word span is found only in a (c holds only part of it); b's
	// span "lazy dog sleeps all day" owns the 3 words a's span left it.
	want := map[string]float64{id(a): 9, id(b): 3}
	got := map[string]float64{}
	for _, w := range res.Weights {
		got[w.Record] = w.Weight
	}
	if res.Method != "ngram/v1" || !reflect.DeepEqual(got, want) {
		t.Fatalf("method %s weights %v, want %v", res.Method, got, want)
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

// newDatanet creates d, owned and signed by k.
func newDatanet(t testing.TB, r *registry.Registry, k *ecdsa.PrivateKey, d registry.Datanet) (*registry.Datanet, error) {
	t.Helper()
	d.Owner = registry.Address(k)
	sig, err := registry.Sign(k, r.Domain().DatanetDigest(d))
	if err != nil {
		t.Fatal(err)
	}
	return r.CreateDatanet(context.Background(), d, sig)
}
