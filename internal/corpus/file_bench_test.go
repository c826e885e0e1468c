package corpus

import (
	"bytes"
	"encoding/json"
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
// written a segment (at most MaxSegmentBytes) at a time, and files merged
// while the newer is at least half the older and the merged one fits
// MaxMerged, in the background as the next segment builds. It reports the
// build rate (merges included), the process's peak resident memory while
// building, in all (VmHWM, which counts the pages of files a merge reads
// through their mappings) and outside file mappings (sampled), and then,
// over the files mapped,
// corpus_match's p50 and p99 for a 2 KB output (half of them repeating a
// record): over the first 200 queries, which fault the mapping in, and
// over the next 200 ($TOLLGATE_CORPUS_QUERIES sets the 400), with the
// pages each of those read from the disk (major faults); and the
// resident memory while querying, in all and
// outside file mappings (anon). With $TOLLGATE_CORPUS_DIR the files are
// kept there with a manifest, and a later run of the same size maps them
// rather than building them again (it then reports no build figures). The
// files index word starts (WordStarts), as a registry's do; with
// $TOLLGATE_CORPUS_ALL set, every suffix. $TOLLGATE_CORPUS_FENCE_SHIFT
// samples the fence every 1<<n suffixes (default 8 for
// word starts, 10 for every suffix); with $TOLLGATE_CORPUS_NO_FILTER set,
// matches do not ask the files' filters; $TOLLGATE_CORPUS_LOOKAHEAD sets
// how many goroutines a match looks its first runs up with (default 8, 1
// for none: see lookAhead).
//
//	TOLLGATE_CORPUS_MB=5120 go test ./internal/corpus -run '^$' -bench SegmentFiles -benchtime 1x -timeout 2h
func BenchmarkSegmentFiles(b *testing.B) {
	total := envInt(b, "TOLLGATE_CORPUS_MB", 512, 1) << 20
	which := WordStarts
	if os.Getenv("TOLLGATE_CORPUS_ALL") != "" {
		which = AllSuffixes // every suffix, as the ∞-gram model's files hold
	}
	shape := &wordStartFence
	if which == AllSuffixes {
		shape = &allSuffixFence
	}
	defer func(was fenceShape) { *shape = was }(*shape)
	shape.shift = envInt(b, "TOLLGATE_CORPUS_FENCE_SHIFT", shape.shift, 0)
	queries := envInt(b, "TOLLGATE_CORPUS_QUERIES", 400, 2)
	defer func(was bool) { useFilters = was }(useFilters)
	useFilters = os.Getenv("TOLLGATE_CORPUS_NO_FILTER") == ""
	defer func(was int) { lookAheadWorkers = was }(lookAheadWorkers)
	lookAheadWorkers = envInt(b, "TOLLGATE_CORPUS_LOOKAHEAD", lookAheadWorkers, 1)
	dir, reuse := b.TempDir(), false
	if d := os.Getenv("TOLLGATE_CORPUS_DIR"); d != "" {
		dir, reuse = d, true
	}
	rng := rand.New(rand.NewPCG(7, 7))
	vocab := make([]string, 5000)
	for i := range vocab {
		vocab[i] = fmt.Sprintf("w%x", rng.Uint32()%0xfffff)
	}
	sentence := func(rng *rand.Rand, n int) string {
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
		type manifest struct {
			Bytes    int
			Suffixes Suffixes
			Files    []string
			Samples  []string
		}
		manifestPath := filepath.Join(dir, "manifest.json")
		var m manifest
		built := false
		var buildSecs, mergeSecs float64
		peakAnon := 0
		if data, err := os.ReadFile(manifestPath); !reuse || err != nil || json.Unmarshal(data, &m) != nil || m.Bytes != total || m.Suffixes != which {
			m = manifest{Bytes: total, Suffixes: which}
			built = true
			// Files merge in the background while the next segment builds,
			// as a registry's merge job runs beside its writer.
			files := make(chan *Segment, 64)
			merged := make(chan []*Segment)
			go func() {
				var segs []*Segment
				for seg := range files {
					segs = append(segs, seg)
					t0 := time.Now()
					for n := len(segs); n >= 2 && 2*segs[n-1].Size() >= segs[n-2].Size() &&
						segs[n-2].Size()+segs[n-1].Size() <= MaxMerged(which, segs[n-2:]...); n = len(segs) {
						path := filepath.Join(dir, fmt.Sprintf("%020d-%020d.seg", segs[n-2].First(), segs[n-1].Last()))
						if err := WriteMerged(path, which, segs[n-2:]...); err != nil {
							panic(err)
						}
						m, err := OpenSegment(path)
						if err != nil {
							panic(err)
						}
						for _, old := range segs[n-2:] {
							os.Remove(filepath.Join(dir, fmt.Sprintf("%020d-%020d.seg", old.First(), old.Last())))
						}
						segs = append(segs[:n-2], m)
					}
					mergeSecs += time.Since(t0).Seconds()
				}
				merged <- segs
			}()
			// The peak of memory outside file mappings, sampled: VmHWM
			// counts the pages of the files a merge maps as well.
			sampled, stop := make(chan struct{}), make(chan struct{})
			go func() {
				defer close(sampled)
				for {
					peakAnon = max(peakAnon, statusKB(b, "RssAnon"))
					select {
					case <-stop:
						return
					case <-time.After(50 * time.Millisecond):
					}
				}
			}()
			version, done := uint64(1), 0
			next := ""
			start := time.Now()
			for done < total {
				bld := NewBuilder(version)
				limit := min(MaxSegmentBytes, total-done)
				for {
					if next == "" {
						next = sentence(rng, 70)
					}
					if bld.Records() > 0 && bld.Size()+len(next)+1 > limit {
						break
					}
					bld.Add(strconv.FormatUint(version+uint64(bld.Records()), 16), next)
					if bld.Records() == 1000 {
						m.Samples = append(m.Samples, next)
					}
					next = ""
				}
				path := filepath.Join(dir, fmt.Sprintf("%020d-%020d.seg", version, version+uint64(bld.Records())-1))
				if err := bld.Write(path, which); err != nil {
					b.Fatal(err)
				}
				version += uint64(bld.Records())
				done += bld.Size()
				bld = nil
				runtime.GC()
				debug.FreeOSMemory()
				seg, err := OpenSegment(path)
				if err != nil {
					b.Fatal(err)
				}
				files <- seg
			}
			close(files)
			segs := <-merged
			close(stop)
			<-sampled
			buildSecs = time.Since(start).Seconds()
			for _, seg := range segs {
				m.Files = append(m.Files, fmt.Sprintf("%020d-%020d.seg", seg.First(), seg.Last()))
			}
			data, _ := json.Marshal(m)
			if err := os.WriteFile(manifestPath, data, 0o600); err != nil {
				b.Fatal(err)
			}
		}
		buildPeak := statusKB(b, "VmHWM")

		samples := m.Samples
		paths := make([]string, len(m.Files))
		segs := make([]*Segment, len(m.Files))
		for i, name := range m.Files {
			paths[i] = filepath.Join(dir, name)
			seg, err := OpenSegment(paths[i])
			if err != nil {
				b.Fatal(err)
			}
			segs[i] = seg
		}
		// The queries draw from a source of their own: the same in a run
		// that builds the files and in one that maps them, and none of
		// their text repeats the records', which a build draws from rng.
		queryRNG := rand.New(rand.NewPCG(11, 11))
		// The first half of the queries fault the mapping's pages in; the
		// second half find them mapped, as a node that has served a while
		// does (where the files fit in memory).
		var cold, warm []time.Duration
		var warmFaults []int64
		for q := range queries {
			out := sentence(queryRNG, 300)[:2000]
			if q%2 == 0 {
				s := samples[queryRNG.IntN(len(samples))]
				out = out[:1000] + " " + s[:min(len(s), 999)]
			}
			faults := majorFaults(b)
			t0 := time.Now()
			Match(segs, out, 4, math.MaxUint64)
			if q < queries/2 {
				cold = append(cold, time.Since(t0))
			} else {
				warm = append(warm, time.Since(t0))
				warmFaults = append(warmFaults, majorFaults(b)-faults)
			}
		}
		slices.Sort(cold)
		slices.Sort(warm)
		slices.Sort(warmFaults)
		b.ReportMetric(float64(total>>20), "corpus-MB")
		b.ReportMetric(float64(len(segs)), "segments")
		fileBytes := int64(0)
		for _, p := range paths {
			if fi, err := os.Stat(p); err == nil {
				fileBytes += fi.Size()
			}
		}
		b.ReportMetric(float64(fileBytes)/float64(total), "file-bytes/corpus-byte")
		if built {
			b.ReportMetric(float64(total>>20)/buildSecs, "build-MB/s")
			b.ReportMetric(mergeSecs, "merge-s")
			b.ReportMetric(float64(buildPeak)/1024, "build-peak-RSS-MB")
			b.ReportMetric(float64(peakAnon)/1024, "build-peak-anon-MB")
		}
		b.ReportMetric(float64(cold[len(cold)*99/100].Microseconds())/1000, "first-match-p99-ms")
		b.ReportMetric(float64(warm[len(warm)/2].Microseconds())/1000, "match-p50-ms")
		b.ReportMetric(float64(warm[len(warm)*99/100].Microseconds())/1000, "match-p99-ms")
		b.ReportMetric(float64(warmFaults[len(warmFaults)/2]), "match-p50-disk-reads")
		b.ReportMetric(float64(warmFaults[len(warmFaults)*99/100]), "match-p99-disk-reads")
		b.ReportMetric(float64(statusKB(b, "VmRSS"))/1024, "query-RSS-MB")
		b.ReportMetric(float64(statusKB(b, "RssAnon"))/1024, "query-anon-RSS-MB")
		runtime.KeepAlive(segs)
	}
}

// envInt is the integer in the environment variable name, at least least,
// or def if it is unset.
func envInt(b *testing.B, name string, def, least int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < least {
		b.Fatalf("%s=%q: want an integer of at least %d", name, s, least)
	}
	return n
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

// majorFaults is the process's major page faults so far: pages it touched
// that had to be read from the disk.
func majorFaults(b *testing.B) int64 {
	s, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		b.Skip("no /proc/self/stat")
	}
	// The fields after the command's closing parenthesis: state is the
	// first, majflt the tenth.
	f := strings.Fields(string(s[bytes.LastIndexByte(s, ')')+1:]))
	n, err := strconv.ParseInt(f[9], 10, 64)
	if err != nil {
		b.Fatalf("/proc/self/stat: %v", err)
	}
	return n
}
