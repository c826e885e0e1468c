package attribution_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/attribution"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/runtime"
)

// The AssemblyScript build of the ngram rule gives the Go build's result,
// method and every weight bit for bit, on random corpora, outputs (quoted,
// escaped, non-ASCII, overlapping spans), reads and parameters, including
// its errors: a datanet corpus_match refuses fails both alike.
func TestNgramBuildsAgree(t *testing.T) {
	ctx := context.Background()
	reg, err := registry.Open(t.TempDir(), registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	rng := rand.New(rand.NewPCG(7, 11))
	words := strings.Fields(`the quick brown fox jumps over lazy dog "quoted" back\slash tab	é naïve 日本 語 emoji🙂 river stone light wind`)
	owner, _ := crypto.GenerateKey()
	var all []string
	for _, dn := range []string{"alpha", "beta"} {
		newDatanet(t, reg, owner, registry.Datanet{Name: dn, Owner: registry.Address(owner)})
		for i := range 60 {
			var b strings.Builder
			for range 5 + rng.IntN(25) {
				b.WriteString(words[rng.IntN(len(words))] + " ")
			}
			content := fmt.Sprintf("%s%d", b.String(), i%7)
			sig, _ := registry.Sign(owner, registry.Domain{}.RecordDigest(dn, content))
			rec, _, err := reg.AddRecord(ctx, dn, registry.Address(owner), content, sig)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, rec.ID+"\x00"+dn+"\x00"+content)
		}
	}
	rt, _ := runtime.New(runtime.Config{})
	defer rt.Close(ctx)
	r := attribution.NewRunner(rt)
	defer r.Close(ctx)
	plugins := map[string]*registry.Plugin{}
	for build, path := range ngramBuilds {
		wasm, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		plugins[build] = &registry.Plugin{Manifest: registry.Manifest{Name: "builtin/ngram", Version: "1.0.0", Kind: abi.KindAttribution, WasmSHA256: build, Methods: ngramMethods}, Wasm: wasm}
	}
	stats := map[string]int{} // error?, spans found?
	for n := range 150 {
		// An output stitched from record fragments and noise.
		var out strings.Builder
		var accesses []abi.Access
		for range 1 + rng.IntN(6) {
			f := strings.SplitN(all[rng.IntN(len(all))], "\x00", 3)
			ws := strings.Fields(f[2])
			i := rng.IntN(len(ws))
			j := min(len(ws), i+1+rng.IntN(12))
			out.WriteString(strings.Join(ws[i:j], " ") + []string{" ", "\n", ". ", " \u0001 ", " — "}[rng.IntN(5)])
			if rng.IntN(2) == 0 {
				accesses = append(accesses, abi.Access{Datanet: f[1], Record: f[0], Bytes: len(f[2]), Content: f[2]})
			}
		}
		req := abi.AttributeRequest{Invocation: fmt.Sprint("inv", n), Output: out.String(), Accesses: accesses, Datanets: []string{"beta", "alpha", "beta"}[:1+rng.IntN(3)]}
		grants := []string{"alpha", "beta"}
		switch n % 5 {
		case 1:
			req.Params = json.RawMessage(fmt.Sprintf(`{"min_tokens": %d}`, 1+rng.IntN(6)))
		case 2:
			req.Datanets = append(req.Datanets, "gamma") // not granted: corpus_match refuses
		}
		res := map[string]*attribution.Result{}
		errs := map[string]string{}
		for build, p := range plugins {
			got, err := r.Run(ctx, p, req, reg, grants)
			res[build] = got
			if err != nil {
				errs[build] = err.Error()
			}
		}
		stats[fmt.Sprint(errs["go"] != "", res["go"] != nil && res["go"].Method == "ngram/v1")]++
		if errs["go"] != errs["assemblyscript"] || !reflect.DeepEqual(res["go"], res["assemblyscript"]) {
			t.Fatalf("case %d, output %q:\n go: %+v %q\n as: %+v %q", n, req.Output, res["go"], errs["go"], res["assemblyscript"], errs["assemblyscript"])
		}
	}
	// The cases cover spans, the fallback to bytes read, and errors.
	for _, k := range []string{"false true", "false false", "true false"} {
		if stats[k] < 10 {
			t.Fatalf("too few cases of kind %q: %v", k, stats)
		}
	}
}
