package registry_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/attribution"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/runtime"
)

type memoryData struct {
	corpus  *registry.MemoryCorpus
	records map[string]abi.Record
}

func (d *memoryData) Search(context.Context, string, string, int) ([]abi.Record, error) {
	return nil, nil
}
func (d *memoryData) Get(_ context.Context, _, id string) (abi.Record, error) {
	if r, ok := d.records[id]; ok {
		return r, nil
	}
	return abi.Record{}, abi.Errorf(abi.CodeNotFound, "no %s", id)
}
func (d *memoryData) CorpusMatch(_ context.Context, _ string, text string, min int) ([]abi.Span, error) {
	return d.corpus.Match(text, min), nil
}

// BenchmarkNgramAttribution100MB: the ngram plugin attributing a 2 KB
// output that quotes 20 records the agent read, against a 100 MB datanet,
// through the runtime and the host's validation; p50 and p99 per call.
//
//	go test ./registry -run '^$' -bench NgramAttribution -benchtime 200x
func BenchmarkNgramAttribution100MB(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 9))
	vocab := make([]string, 5000)
	for i := range vocab {
		vocab[i] = fmt.Sprintf("w%x", rng.Uint32()%0xfffff)
	}
	sentence := func(n int) string {
		w := make([]string, n)
		for i := range w {
			w[i] = vocab[rng.IntN(len(vocab))]
		}
		return strings.Join(w, " ")
	}
	data := &memoryData{records: map[string]abi.Record{}}
	var ids, contents []string
	for size := 0; size < 100<<20; {
		c := sentence(70)
		id := fmt.Sprintf("%064x", len(ids))
		ids, contents = append(ids, id), append(contents, c)
		data.records[id] = abi.Record{Datanet: "big", ID: id, Contributor: fmt.Sprintf("0x%040x", len(ids)%5000), Content: c}
		size += len(c) + 1
	}
	data.corpus = registry.NewMemoryCorpus(ids, contents)
	var out strings.Builder
	var accesses []abi.Access
	for i := range 20 {
		r := data.records[ids[i*4999]]
		accesses = append(accesses, abi.Access{Datanet: "big", Record: r.ID, Contributor: r.Contributor, Bytes: len(r.Content), Content: r.Content})
		out.WriteString(strings.Join(strings.Fields(r.Content)[5:17], " "))
		out.WriteString(" " + sentence(3) + " ")
	}
	req := abi.AttributeRequest{Output: out.String()[:min(out.Len(), 2048)], Accesses: accesses, Datanets: []string{"big"}}
	// The default build (AssemblyScript, 1.1.0) and the Go one (1.0.0).
	for _, build := range []struct{ name, version, path string }{
		{"as", "1.1.0", "../plugins/ngram-as/ngram-as.wasm"}, {"go", "1.0.0", "../plugins/ngram/ngram.wasm"},
	} {
		b.Run(build.name, func(b *testing.B) {
			wasm, err := os.ReadFile(build.path)
			if err != nil {
				b.Fatal(err)
			}
			p := &registry.Plugin{Manifest: registry.Manifest{Name: "builtin/ngram", Version: build.version, Kind: abi.KindAttribution, WasmSHA256: "ngram-" + build.name}, Wasm: wasm}
			rt, _ := runtime.New(runtime.Config{})
			defer rt.Close(context.Background())
			r := attribution.NewRunner(rt)
			defer r.Close(context.Background())
			ctx := context.Background()
			if _, err := r.Run(ctx, p, req, data, []string{"big"}); err != nil { // warm
				b.Fatal(err)
			}
			b.ResetTimer()
			lat := make([]time.Duration, 0, b.N)
			var res *attribution.Result
			for range b.N {
				t := time.Now()
				res, err = r.Run(ctx, p, req, data, []string{"big"})
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(len(res.Weights)), "records-attributed")
		})
	}
}
