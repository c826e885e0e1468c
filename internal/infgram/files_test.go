package infgram

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	goruntime "runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/corpus"
)

// buildFiles builds a model of records as files in a new directory.
func buildFiles(t *testing.T, records []Record) (*Model, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "model")
	b, err := NewBuilder(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range records {
		if err := b.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	m, err := b.Model()
	if err != nil {
		t.Fatal(err)
	}
	return m, dir
}

// A model written to files and mapped back, cut into many segments,
// answers as one segment in memory does: the same distributions after
// every context, and the same generations, token shares included.
func TestFilesModelIsTheMemoryModel(t *testing.T) {
	recs := zipfCorpus(1)
	mem := model(t, recs)
	old := segmentBytes
	segmentBytes = 64 << 10
	files, dir := buildFiles(t, recs)
	segmentBytes = old
	if len(files.segs) < 8 || len(mem.segs) != 1 || !files.segs[0].Mapped() {
		t.Fatalf("%d segments in files, %d in memory", len(files.segs), len(mem.segs))
	}
	reopened, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if files.Records() != len(recs) || reopened.Records() != len(recs) {
		t.Fatalf("records %d, reopened %d, want %d", files.Records(), reopened.Records(), len(recs))
	}
	for i, ctx := range [][]string{nil, {"w1"}, {"w2", "w1"}, {"w3", "w1", "w2"}, {"nowhere"}, strings.Fields(recs[7].Content)[:5]} {
		want := mem.Next(ctx)
		for _, m := range []*Model{files, reopened} {
			if got := m.Next(ctx); !reflect.DeepEqual(got, want) {
				t.Fatalf("context %d %q: files %+v\nmemory %+v", i, ctx, got.Next[:min(3, len(got.Next))], want.Next[:min(3, len(want.Next))])
			}
		}
	}
	for seed := range uint64(5) {
		p := Params{MaxTokens: 64, Temperature: 1, Seed: seed}
		want := mem.Generate("w1 w2", p)
		if got := reopened.Generate("w1 w2", p); !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: files %q, memory %q", seed, got.Text, want.Text)
		}
	}
}

// Damaged files are refused with ErrBadFiles, never used: a flipped bit in
// the vocabulary or a segment, a missing or extra segment, a segment
// holding a token id past the vocabulary.
func TestDamagedModelFilesAreRefused(t *testing.T) {
	old := segmentBytes
	segmentBytes = 4 << 10
	defer func() { segmentBytes = old }()
	recs := zipfCorpus(1)[:200]
	_, dir := buildFiles(t, recs)
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	damage := map[string]func(d string){
		"a bit of the vocabulary": func(d string) { flip(t, filepath.Join(d, vocabFile), 60) },
		"a bit of a segment":      func(d string) { flip(t, filepath.Join(d, segmentName(1)), 200) },
		"a missing segment":       func(d string) { os.Remove(filepath.Join(d, segmentName(2))) },
		"an extra segment": func(d string) {
			n, _ := filepath.Glob(filepath.Join(d, "*.seg"))
			b, _ := os.ReadFile(filepath.Join(d, segmentName(0)))
			os.WriteFile(filepath.Join(d, segmentName(len(n))), b, 0o600)
		},
		"a token id past the vocabulary": func(d string) {
			os.Remove(filepath.Join(d, segmentName(0)))
			if err := corpus.WriteSegment(filepath.Join(d, segmentName(0)), corpus.AllSuffixes, 1, []string{"x"}, []string{"\xff\xff\xff\x00\x00"}); err != nil {
				t.Fatal(err)
			}
		},
		"no vocabulary": func(d string) { os.Remove(filepath.Join(d, vocabFile)) },
		"a segment indexed at word starts only": func(d string) {
			path := filepath.Join(d, segmentName(0))
			seg, err := corpus.OpenSegment(path)
			if err != nil {
				t.Fatal(err)
			}
			var ids, contents []string
			for i := range seg.Records() {
				id, c := seg.Record(i)
				ids, contents = append(ids, id), append(contents, c)
			}
			os.Remove(path)
			if err := corpus.WriteSegment(path, corpus.WordStarts, seg.First(), ids, contents); err != nil {
				t.Fatal(err)
			}
			if again, err := corpus.OpenSegment(path); err != nil || again.Suffixes() != corpus.WordStarts {
				t.Fatalf("rewritten as %v (%v)", again.Suffixes(), err)
			}
		},
	}
	for what, f := range damage {
		d := filepath.Join(t.TempDir(), "copy")
		copyDir(t, dir, d)
		f(d)
		_, err := Open(d)
		if err == nil || (!errors.Is(err, ErrBadFiles) && !errors.Is(err, os.ErrNotExist)) {
			t.Fatalf("%s: opened (%v)", what, err)
		}
	}
}

// A builder writes beside the name and renames the whole directory, so a
// build that fails or is abandoned leaves nothing under the name, and one
// whose name is taken fails without touching it.
func TestModelFilesAppearWhole(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "model")
	b, err := NewBuilder(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range facts {
		b.Add(r)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the directory exists before the model is done: %v", err)
	}
	b.Abort()
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Fatalf("an abandoned build left %v", entries)
	}
	m, _ := buildFiles(t, facts)
	if m.Records() != len(facts) {
		t.Fatal(m.Records())
	}
	// A name already taken.
	os.MkdirAll(filepath.Join(dir, "x"), 0o700)
	b, _ = NewBuilder(dir)
	for _, r := range facts {
		b.Add(r)
	}
	if _, err := b.Model(); err == nil {
		t.Fatal("built over a directory already there")
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 1 {
		t.Fatalf("a failed build left %v", entries)
	}
}

func flip(t *testing.T, path string, at int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[at%len(b)] ^= 1
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(from)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkGenerate256Files is BenchmarkGenerate256 over the model's files,
// mapped, against the same model in memory in the same run: tokens per
// second of each, their ratio, and the heap each model holds.
//
//	INFGRAM_MB=100 go test ./internal/infgram -run '^$' -bench Generate256Files -benchtime 50x
func BenchmarkGenerate256Files(b *testing.B) {
	mb := 10
	if v, err := strconv.Atoi(os.Getenv("INFGRAM_MB")); err == nil && v > 0 {
		mb = v
	}
	recs := zipfCorpus(mb)
	heap := func() uint64 {
		var s goruntime.MemStats
		goruntime.GC()
		goruntime.ReadMemStats(&s)
		return s.HeapAlloc
	}
	h0 := heap()
	dir := filepath.Join(b.TempDir(), "model")
	start := time.Now()
	bld, err := NewBuilder(dir)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range recs {
		if err := bld.Add(r); err != nil {
			b.Fatal(err)
		}
	}
	files, err := bld.Model()
	if err != nil {
		b.Fatal(err)
	}
	built := time.Since(start)
	h1 := heap()
	mem := model(b, recs)
	h2 := heap()
	rate := func(m *Model, n int) float64 {
		tokens := 0
		t0 := time.Now()
		for i := range n {
			tokens += len(m.Generate("w1 w2 w3", Params{MaxTokens: 256, Temperature: 1, Seed: uint64(i)}).Steps)
		}
		return float64(tokens) / time.Since(t0).Seconds()
	}
	b.ResetTimer()
	var fr, mr float64
	for b.Loop() {
		fr, mr = rate(files, 20), rate(mem, 20)
	}
	b.ReportMetric(fr, "files-tokens/s")
	b.ReportMetric(mr, "memory-tokens/s")
	b.ReportMetric(fr/mr, "files/memory")
	b.ReportMetric(built.Seconds(), "files-build-s")
	b.ReportMetric(float64(h1-h0)/(1<<20), "files-model-heap-MB")
	b.ReportMetric(float64(h2-h1)/(1<<20), "memory-model-heap-MB")
	goruntime.KeepAlive(mem)
	goruntime.KeepAlive(files)
}
