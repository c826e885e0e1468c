package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/registry"
)

// BenchmarkSearch: BM25 search (limit 10, records read back from Badger)
// over a datanet of TOLLGATE_SEARCH_N records (default 200,000; the notes
// used 1,000,000) of ~80 words drawn from a Zipf distribution over 50,000
// words; p50 and p99 per query, and the index build time.
//
//	TOLLGATE_SEARCH_N=1000000 go test ./registry -run '^$' -bench Search -benchtime 2000x -timeout 1h
func BenchmarkSearch(b *testing.B) {
	n := 200_000
	if v, err := strconv.Atoi(os.Getenv("TOLLGATE_SEARCH_N")); err == nil {
		n = v
	}
	rng := rand.New(rand.NewPCG(3, 4))
	zipf := rand.NewZipf(rand.New(rand.NewPCG(5, 6)), 1.1, 2, 49_999)
	word := func() string { return "w" + strconv.FormatUint(zipf.Uint64(), 36) }
	pr, pw := io.Pipe()
	go func() {
		enc := json.NewEncoder(pw)
		for i := range n {
			var sb strings.Builder
			fmt.Fprintf(&sb, "r%d", i)
			for range 80 {
				sb.WriteString(" " + word())
			}
			enc.Encode(registry.ImportLine{Content: sb.String()})
		}
		pw.Close()
	}()
	r := open(b)
	own := key(b)
	ctx := context.Background()
	newDatanet(b, r, own, registry.Datanet{Name: "big", Owner: registry.Address(own)})
	if _, err := r.Import(ctx, pr, registry.ImportOptions{Datanet: "big", Key: own}); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if _, err := r.Search(ctx, "big", "warmup", 10); err != nil {
		b.Fatal(err)
	}
	build := time.Since(start)
	queries := make([]string, 1000)
	for i := range queries {
		q := make([]string, 2+rng.IntN(4))
		for j := range q {
			q[j] = word()
		}
		queries[i] = strings.Join(q, " ")
	}
	// Measure queries on a node at rest: the import's compactions done and
	// its garbage collected.
	if err := registry.Flatten(r); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	b.ResetTimer()
	lat := make([]time.Duration, 0, b.N)
	for i := range b.N {
		t := time.Now()
		res, err := r.Search(ctx, "big", queries[i%len(queries)], 10)
		lat = append(lat, time.Since(t))
		if err != nil || len(res) == 0 {
			b.Fatalf("query %q: %d results, %v", queries[i%len(queries)], len(res), err)
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	// The same queries ranked without reading the records back.
	rank := make([]time.Duration, 0, len(queries))
	for _, q := range queries {
		t := time.Now()
		registry.RankOnly(r, "big", q, 10)
		rank = append(rank, time.Since(t))
	}
	sort.Slice(rank, func(i, j int) bool { return rank[i] < rank[j] })
	b.ReportMetric(float64(rank[len(rank)/2].Microseconds())/1000, "rank-p50-ms")
	b.ReportMetric(float64(rank[len(rank)*99/100].Microseconds())/1000, "rank-p99-ms")
	b.ReportMetric(float64(n), "records")
	b.ReportMetric(build.Seconds(), "index-build-s")
	memory, files := registry.SearchIndexBytes(r, "big")
	b.ReportMetric(float64(memory)/float64(n), "heap-index-bytes/record")
	b.ReportMetric(float64(files)/float64(n), "file-index-bytes/record")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
