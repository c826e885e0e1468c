package corpus

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkSegmentFiles builds a corpus of $TOLLGATE_CORPUS_MB megabytes
// (default 512) as segment files, as a registry does for a datanet that
// size: 500-byte records of words drawn from a 5,000-word vocabulary,
// written a segment at a time. It reports the build rate, the process's
// peak resident memory while building, and then, over the files mapped,
// corpus_match's p50 and p99 for a 2 KB output (half of them repeating a
// record): over the first 200 queries, which fault the mapping in, and
// over the next 200; and the resident memory while querying, in all and
// outside file mappings (anon). With $TOLLGATE_CORPUS_DIR the files are
// kept there, and a later run maps those it finds whole rather than
// building them again (it then reports no build figures).
//
//	TOLLGATE_CORPUS_MB=5120 go test ./internal/corpus -run '^$' -bench SegmentFiles -benchtime 1x -timeout 2h
func BenchmarkSegmentFiles(b *testing.B) {
	total := 512 << 20
	if s := os.Getenv("TOLLGATE_CORPUS_MB"); s != "" {
		mb, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		total = mb << 20
	}
	dir, reuse := b.TempDir(), false
	if d := os.Getenv("TOLLGATE_CORPUS_DIR"); d != "" {
		dir, reuse = d, true
	}
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
	for b.Loop() {
		var paths, samples []string
		built, version, reused := 0, uint64(1), 0
		start := time.Now()
		for built < total {
			bld := NewBuilder(version)
			var sample string
			for bld.Size() < min(MaxSegmentBytes, total-built) {
				rec := sentence(70)
				bld.Add(strconv.FormatUint(version+uint64(bld.Records()), 16), rec)
				if bld.Records() == 1000 {
					sample = rec
				}
			}
			samples = append(samples, sample)
			path := filepath.Join(dir, fmt.Sprintf("%020d.seg", version))
			if seg, err := OpenSegment(path); reuse && err == nil && seg.Records() == bld.Records() {
				reused++
			} else if err := bld.Write(path); err != nil {
				b.Fatal(err)
			}
			paths = append(paths, path)
			version += uint64(bld.Records())
			built += bld.Size()
			bld = nil
			runtime.GC()
			debug.FreeOSMemory()
		}
		buildSecs := time.Since(start).Seconds()
		buildPeak := statusKB(b, "VmHWM")

		segs := make([]*Segment, len(paths))
		for i, p := range paths {
			seg, err := OpenSegment(p)
			if err != nil {
				b.Fatal(err)
			}
			segs[i] = seg
		}
		// The first 200 queries fault the mapping's pages in; the next
		// 200 find them mapped, as a node that has served a while does.
		var cold, warm []time.Duration
		for q := range 400 {
			out := sentence(300)[:2000]
			if q%2 == 0 {
				s := samples[rng.IntN(len(samples))]
				out = out[:1000] + " " + s[:min(len(s), 999)]
			}
			t0 := time.Now()
			Match(segs, out, 4, math.MaxUint64)
			if q < 200 {
				cold = append(cold, time.Since(t0))
			} else {
				warm = append(warm, time.Since(t0))
			}
		}
		slices.Sort(cold)
		slices.Sort(warm)
		b.ReportMetric(float64(built>>20), "corpus-MB")
		b.ReportMetric(float64(len(segs)), "segments")
		if reused == 0 {
			b.ReportMetric(float64(built>>20)/buildSecs, "build-MB/s")
			b.ReportMetric(float64(buildPeak)/1024, "build-peak-RSS-MB")
		}
		b.ReportMetric(float64(cold[len(cold)*99/100].Microseconds())/1000, "first-match-p99-ms")
		b.ReportMetric(float64(warm[len(warm)/2].Microseconds())/1000, "match-p50-ms")
		b.ReportMetric(float64(warm[len(warm)*99/100].Microseconds())/1000, "match-p99-ms")
		b.ReportMetric(float64(statusKB(b, "VmRSS"))/1024, "query-RSS-MB")
		b.ReportMetric(float64(statusKB(b, "RssAnon"))/1024, "query-anon-RSS-MB")
		runtime.KeepAlive(segs)
	}
}

// statusKB reads a field of /proc/self/status, in kB.
func statusKB(b *testing.B, field string) int {
	s, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(s), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}
