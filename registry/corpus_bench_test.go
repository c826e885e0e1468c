package registry

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/corpus"
)

// BenchmarkCorpusMatch100MB: corpus_match of a 2 KB output against a
// 100 MB datanet (200,000 records of ~500 bytes drawn from a 5,000-word
// vocabulary), with the suffix array's build rate and size.
//
//	go test ./registry -run '^$' -bench CorpusMatch -benchtime 200x
func BenchmarkCorpusMatch100MB(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 7))
	vocab := make([]string, 5000)
	for i := range vocab {
		vocab[i] = fmt.Sprintf("w%x", rng.Uint32()%0xfffff)
	}
	sentence := func(n int) string {
		var sb strings.Builder
		for i := range n {
			if i > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(vocab[rng.IntN(len(vocab))])
		}
		return sb.String()
	}
	var ids, records []string
	size := 0
	for size < 100<<20 {
		rec := sentence(70)
		ids = append(ids, fmt.Sprint(len(records)))
		records = append(records, rec)
		size += len(rec) + 1
	}
	start := time.Now()
	seg := corpus.NewSegment(1, ids, records)
	build := time.Since(start)
	corpusBytes, indexBytes := seg.Size(), seg.IndexBytes()
	segs := []*corpus.Segment{seg}

	// A 2 KB output quoting 20 records in part, with new text between.
	var out strings.Builder
	for out.Len() < 2048 {
		r := records[rng.IntN(len(records))]
		w := strings.Fields(r)
		out.WriteString(strings.Join(w[10:25], " "))
		out.WriteString(" " + sentence(8) + " ")
	}
	text := out.String()
	records = nil
	runtime.GC() // measure matches, not the collection of the build's garbage
	b.ResetTimer()
	lat := make([]time.Duration, 0, b.N)
	spans := 0
	for range b.N {
		t := time.Now()
		spans = len(corpus.Match(segs, text, 4, allVersions))
		lat = append(lat, time.Since(t))
	}
	b.StopTimer()

	// A record appended after the index was built, then a match: the
	// append costs a segment of its own, not a rebuild of the datanet's.
	ix := &corpusIndex{segs: segs}
	ix.appended(Record{ID: "new", Content: sentence(70), Version: uint64(len(ids) + 1)})
	t := time.Now()
	corpus.Match(ix.catchUp(), text, 4, allVersions)
	b.ReportMetric(float64(time.Since(t).Microseconds())/1000, "append-then-match-ms")
	b.ReportMetric(build.Seconds()*1000, "full-build-ms")
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(corpusBytes)/1e6/build.Seconds(), "build-MB/s")
	b.ReportMetric(float64(indexBytes)/float64(corpusBytes), "index-bytes/corpus-byte")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(spans), "spans")
}
