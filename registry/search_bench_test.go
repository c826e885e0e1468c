package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
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
// used 1,000,000 and 10,000,000) of ~80 words drawn from a Zipf
// distribution over 50,000 words; p50 and p99 per query, and the index
// build time.
//
//	TOLLGATE_SEARCH_N=1000000 go test ./registry -run '^$' -bench Search -benchtime 2000x -timeout 1h
//
// With TOLLGATE_SEARCH_DIR the registry is kept there, its search index
// in files: they are deleted when the process starts, so every run builds
// them once (unless TOLLGATE_SEARCH_KEEP=1, which times queries over the
// files a run left), and the records are imported only if the datanet
// does not hold them yet. A second run then times the build and queries alone, and
// its peak-rss-mb is theirs. (Run it in a memory cgroup to see the node
// keep within a bound: the page cache of the files is charged to it.)
func BenchmarkSearch(b *testing.B) {
	n := 200_000
	if v, err := strconv.Atoi(os.Getenv("TOLLGATE_SEARCH_N")); err == nil {
		n = v
	}
	rng := rand.New(rand.NewPCG(3, 4))
	zipf := rand.NewZipf(rand.New(rand.NewPCG(5, 6)), 1.1, 2, 49_999)
	word := func() string { return "w" + strconv.FormatUint(zipf.Uint64(), 36) }
	ctx := context.Background()
	var r *registry.Registry
	if dir := os.Getenv("TOLLGATE_SEARCH_DIR"); dir != "" {
		if !searchBench.removed && os.Getenv("TOLLGATE_SEARCH_KEEP") != "1" {
			if err := os.RemoveAll(filepath.Join(dir, "search")); err != nil {
				b.Fatal(err)
			}
			searchBench.removed = true
		}
		r = openDir(b, dir)
		b.Cleanup(func() { r.Close() })
	} else {
		r = open(b)
	}
	if d, err := r.Datanet(ctx, "big"); err != nil || d.Version < uint64(n) {
		importZipf(b, r, n, word)
	}
	peaks := samplePeaks(b)
	start := time.Now()
	if _, err := r.Search(ctx, "big", "warmup", 10); err != nil {
		b.Fatal(err)
	}
	build := time.Since(start)
	registry.WaitSearchJobs(r, "big") // files merged: queries alone from here
	if searchBench.build == 0 {
		searchBench.build = build // the later runs of the benchmark map its files
	}
	build = searchBench.build
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
	blocks := 0
	for _, q := range queries {
		t := time.Now()
		_, scored := registry.RankOnly(r, "big", q, 10)
		rank = append(rank, time.Since(t))
		blocks += scored
	}
	b.ReportMetric(float64(blocks)/float64(len(queries)), "blocks-scored/query")
	sort.Slice(rank, func(i, j int) bool { return rank[i] < rank[j] })
	b.ReportMetric(float64(rank[len(rank)/2].Microseconds())/1000, "rank-p50-ms")
	b.ReportMetric(float64(rank[len(rank)*99/100].Microseconds())/1000, "rank-p99-ms")
	// A query of 1,000 words, as a plugin may send: what one host call
	// can cost.
	long := make([]string, 1000)
	for i := range long {
		long[i] = "w" + strconv.FormatInt(int64(rng.IntN(50_000)), 36)
	}
	t := time.Now()
	registry.RankOnly(r, "big", strings.Join(long, " "), 10)
	b.ReportMetric(float64(time.Since(t).Microseconds())/1000, "rank-1000-words-ms")
	b.ReportMetric(float64(n), "records")
	b.ReportMetric(build.Seconds(), "index-build-s")
	memory, files := registry.SearchIndexBytes(r, "big")
	b.ReportMetric(float64(memory)/float64(n), "heap-index-bytes/record")
	b.ReportMetric(float64(files)/float64(n), "file-index-bytes/record")
	anon, file := peaks()
	searchBench.peakAnon = max(searchBench.peakAnon, anon)
	searchBench.peakFile = max(searchBench.peakFile, file)
	anon, file = searchBench.peakAnon, searchBench.peakFile
	b.ReportMetric(anon, "peak-anon-rss-mb")
	b.ReportMetric(file, "peak-file-rss-mb")
	b.ReportMetric(statusMB(b, "VmHWM"), "peak-rss-mb")
	b.ReportMetric(statusMB(b, "VmRSS"), "rss-mb")
	b.ReportMetric(statusMB(b, "RssAnon"), "anon-rss-mb")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// searchBench carries what the first run of BenchmarkSearch in a process
// measured to the later ones, which reuse its files.
var searchBench struct {
	removed            bool
	build              time.Duration
	peakAnon, peakFile float64
}

// importZipf imports n records of 80 Zipf words into a new datanet "big".
func importZipf(b testing.TB, r *registry.Registry, n int, word func() string) {
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
	own := key(b)
	newDatanet(b, r, own, registry.Datanet{Name: "big", Owner: registry.Address(own)})
	if _, err := r.Import(context.Background(), pr, registry.ImportOptions{Datanet: "big", Key: own}); err != nil {
		b.Fatal(err)
	}
}

// statusMB reads a field of /proc/self/status in MB (VmHWM: the peak
// resident memory; VmRSS: resident now; RssAnon: of that, not file pages).
func statusMB(b *testing.B, field string) float64 {
	s, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(s), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return float64(kb) / 1024
		}
	}
	return 0
}

// samplePeaks samples the resident memory, anonymous and of files, every
// 20 ms until the returned function gives the peaks seen.
func samplePeaks(b *testing.B) func() (anon, file float64) {
	stop := make(chan struct{})
	done := make(chan struct{})
	var peakAnon, peakFile float64
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			peakAnon = max(peakAnon, statusMB(b, "RssAnon"))
			peakFile = max(peakFile, statusMB(b, "RssFile"))
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() (float64, float64) {
		close(stop)
		<-done
		return peakAnon, peakFile
	}
}
