package corpus

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tollgate-dev/tollgate/abi"
)

// With a bound no span can reach, MatchBounded is Match; with a small one,
// its spans tile every run Match finds, none longer than the bound.
func TestMatchBounded(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	vocab := []string{"a", "b", "c", "sky", "blue", "the"}
	text := func(n int) string {
		w := make([]string, n)
		for i := range w {
			w[i] = vocab[rng.IntN(len(vocab))]
		}
		return strings.Join(w, " ")
	}
	for trial := range 200 {
		ids, contents := []string{"r1", "r2", "r3"}, []string{text(40), text(40), text(40)}
		seg := NewSegment(0, ids, contents)
		out := text(30)
		if trial%3 == 0 {
			out = contents[0] // one long verbatim run
		}
		whole := Match([]*Segment{seg}, out, 2, math.MaxUint64)
		same, partial := MatchBounded([]*Segment{seg}, out, 2, 1000, 1<<20, math.MaxUint64)
		if partial {
			t.Fatal("partial with bounds nothing reaches")
		}
		if len(whole) != len(same) {
			t.Fatalf("unbounded: %d spans, Match %d", len(same), len(whole))
		}
		for i := range whole {
			if whole[i].Start != same[i].Start || whole[i].End != same[i].End || strings.Join(whole[i].Records, ",") != strings.Join(same[i].Records, ",") {
				t.Fatalf("span %d: %+v, Match %+v", i, same[i], whole[i])
			}
		}
		bounded, _ := MatchBounded([]*Segment{seg}, out, 2, 5, 1<<20, math.MaxUint64)
		for _, s := range bounded {
			if s.Tokens > 5 {
				t.Fatalf("a %d-word span past the bound of 5", s.Tokens)
			}
			covered := false
			for _, w := range whole {
				covered = covered || (w.Start <= s.Start && s.End <= w.End)
			}
			if !covered {
				t.Fatalf("bounded span %q is in no span Match found", out[s.Start:s.End])
			}
		}
	}
}

// The worst case a trace can be asked for: an output and a corpus of one
// word repeated (every lookup matches as far as the bound allows), at the
// trace's bounds (64 KiB of output, 8 MiB of records, 64-word spans, 4,096
// occurrences read per span).
func BenchmarkMatchBoundedWorstCase(b *testing.B) {
	out := strings.Repeat("a ", 32<<10)
	var ids, contents []string
	for i := range 128 {
		ids, contents = append(ids, strconv.Itoa(i)), append(contents, strings.Repeat("a ", 32<<10))
	}
	seg := NewSegment(0, ids, contents)
	b.ResetTimer()
	for b.Loop() {
		MatchBounded([]*Segment{seg}, out, 2, 64, 64*64, math.MaxUint64)
	}
}

// Reading few occurrences says so, and names only records that hold the span.
func TestMatchBoundedOccurrences(t *testing.T) {
	var ids, contents []string
	for i := range 50 {
		ids, contents = append(ids, strconv.Itoa(i)), append(contents, "the sky is blue today")
	}
	seg := NewSegment(0, ids, contents)
	spans, partial := MatchBounded([]*Segment{seg}, "so the sky is blue today", 2, 64, 8, math.MaxUint64)
	if !partial || len(spans) != 1 || len(spans[0].Records) == 0 || len(spans[0].Records) > 8 {
		t.Fatalf("partial %v, spans %+v", partial, spans)
	}
	if _, partial := MatchBounded([]*Segment{seg}, "so the sky is blue today", 2, 64, 64, math.MaxUint64); partial {
		t.Fatal("partial although every occurrence was read")
	}
}

// countdown is a context whose Err turns to Canceled after n calls, from
// any goroutines.
type countdown struct {
	context.Context
	n atomic.Int64
}

func newCountdown(ctx context.Context, n int) *countdown {
	c := &countdown{Context: ctx}
	c.n.Store(int64(n))
	return c
}

func (c *countdown) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// MatchContext answers as Match, but names one record more than
// maxSpanRecords for a span held by more, and refuses once its spans would
// name more than maxRecords records, counted once per span; it gives up on
// its context between words and while reading a span's many occurrences.
func TestMatchContextIsBounded(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	ids, contents := randomRecords(rng, 60, true)
	file := writeOpen(t, filepath.Join(t.TempDir(), "a.seg"), WordStarts, 1, ids[:40], contents[:40])
	segs := []*Segment{file, NewSegment(41, ids[40:], contents[40:])}
	// Four spans in most records, and one a record's own.
	text := "a nowhere1 sky nowhere2 cat nowhere3 é nowhere4 " + strings.Join(strings.Fields(contents[17])[10:16], " ")
	want := Match(segs, text, 1, math.MaxUint64)
	named := 0
	for _, s := range want {
		named += len(s.Records)
	}
	if len(want) != 5 || named < 100 {
		t.Fatalf("%d spans name %d records", len(want), named)
	}
	ctx := context.Background()
	most := 0
	for _, s := range want {
		most = max(most, len(s.Records))
	}
	if got, err := MatchContext(ctx, segs, text, 1, math.MaxUint64, most, named); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("at the bounds: %v", err)
	}
	if _, err := MatchContext(ctx, segs, text, 1, math.MaxUint64, most, named-1); !errors.Is(err, ErrTooManyRecords) {
		t.Fatalf("past the bound: %v", err)
	}
	got, err := MatchContext(ctx, segs, text, 1, math.MaxUint64, 5, math.MaxInt)
	if err != nil || len(got) != len(want) {
		t.Fatalf("%d spans (%v)", len(got), err)
	}
	common := 0
	for i, s := range got {
		w := want[i]
		if s.Start != w.Start || s.End != w.End {
			t.Fatalf("span %d: %+v, want %+v", i, s, w)
		}
		if len(w.Records) > 5 {
			common++
			if len(s.Records) != 0 {
				t.Fatalf("span %d of %d records names %d past the bound of 5", i, len(w.Records), len(s.Records))
			}
		} else if !slices.Equal(s.Records, w.Records) {
			t.Fatalf("span %d names %v, want %v", i, s.Records, w.Records)
		}
	}
	if common == 0 || common == len(want) {
		t.Fatalf("%d of %d spans past the bound", common, len(want))
	}
	// "a" occurs thousands of times: the second look at the context is
	// while reading them.
	for n := range 2 {
		if _, err := MatchContext(newCountdown(ctx, n), segs, "a", 1, math.MaxUint64, math.MaxInt, math.MaxInt); !errors.Is(err, context.Canceled) {
			t.Fatalf("canceled after %d looks: %v", n, err)
		}
	}
}

// A span held by more records than the bound names none of them, whatever
// files and segments the records are in: which records a cut-short scan
// met first depends on the layout, and an attribution re-run after files
// merged must give the same answer.
func TestCommonSpansNameNoRecordWhateverTheLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	ids, contents := randomRecords(rng, 90, true)
	dir := t.TempDir()
	file := func(name string, which Suffixes, from, to int) *Segment {
		return writeOpen(t, filepath.Join(dir, name), which, uint64(from+1), ids[from:to], contents[from:to])
	}
	layouts := map[string][]*Segment{
		"one file":              {file("all.seg", WordStarts, 0, 90)},
		"three files":           {file("a.seg", WordStarts, 0, 20), file("b.seg", AllSuffixes, 20, 70), file("c.seg", WordStarts, 70, 90)},
		"a file and memory":     {file("d.seg", WordStarts, 0, 45), NewSegment(46, ids[45:], contents[45:])},
		"in memory, two pieces": {NewSegment(1, ids[:80], contents[:80]), NewSegment(81, ids[80:], contents[80:])},
	}
	text := "a nowhere1 sky nowhere2 cat nowhere3 é blue nowhere4 " + strings.Join(strings.Fields(contents[57])[10:16], " ")
	var want []abi.Span
	for name, segs := range layouts {
		got, err := MatchContext(context.Background(), segs, text, 1, math.MaxUint64, 7, math.MaxInt)
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = got
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: %+v\nwant %+v", name, got, want)
		}
	}
	common := 0
	for _, s := range want {
		if len(s.Records) == 0 {
			common++
		}
	}
	if common == 0 || common == len(want) {
		t.Fatalf("%d of %d spans are common", common, len(want))
	}
}

// A run whose first word ends longer words is looked up from each of them,
// or, where they are many, by reading the occurrences of the rest of the
// run, thousands of them where it is common: the match looks at its
// context while it does either.
func TestMatchContextStopsInsideWords(t *testing.T) {
	for _, many := range []bool{false, true} {
		var ids, contents []string
		for i := range 400 {
			scat := "scat"
			if many { // 400 words end with "cat": the rest's 4,400 occurrences are read
				scat = fmt.Sprintf("s%dcat", i)
			}
			ids = append(ids, strconv.Itoa(i))
			contents = append(contents, scat+" is here and "+strings.Repeat("the sky ", 11)+strings.Repeat("blue sky ", 10))
		}
		path := filepath.Join(t.TempDir(), "a.seg")
		if err := WriteSegment(path, WordStarts, 1, ids, contents); err != nil {
			t.Fatal(err)
		}
		seg, err := OpenSegment(path)
		if err != nil || !seg.wordStarts {
			t.Fatal(err)
		}
		segs := []*Segment{seg}
		if spans, err := MatchContext(context.Background(), segs, "cat the", 2, math.MaxUint64, math.MaxInt, math.MaxInt); err != nil || len(spans) != 0 {
			t.Fatalf("%+v %v", spans, err)
		}
		if spans, err := MatchContext(context.Background(), segs, "cat is", 2, math.MaxUint64, math.MaxInt, math.MaxInt); err != nil || len(spans) != 1 || len(spans[0].Records) != 400 {
			t.Fatalf("%+v %v", spans, err)
		}
		if _, err := MatchContext(newCountdown(context.Background(), 1), segs, "cat the", 2, math.MaxUint64, math.MaxInt, math.MaxInt); !errors.Is(err, context.Canceled) {
			t.Fatalf("many %v: canceled: %v", many, err)
		}
	}
}

// A NUL in the text ends a run: records are kept joined by NULs, and a run
// across one would match the end of one record and the start of the next
// only where both lie in one segment, and past a version cut.
func TestARunStopsAtANul(t *testing.T) {
	ids, contents := []string{"r1", "r2"}, []string{"alpha beta", "gamma delta"}
	file := writeOpen(t, filepath.Join(t.TempDir(), "a.seg"), WordStarts, 1, ids, contents)
	layouts := map[string][]*Segment{
		"one segment":  {NewSegment(1, ids, contents)},
		"two segments": {NewSegment(1, ids[:1], contents[:1]), NewSegment(2, ids[1:], contents[1:])},
		"one file":     {file},
	}
	text := "alpha beta\x00gamma delta"
	for name, segs := range layouts {
		for upTo, want := range map[uint64][]abi.Span{
			1: {{Start: 0, End: 10, Tokens: 2, Records: []string{"r1"}}},
			2: {{Start: 0, End: 10, Tokens: 2, Records: []string{"r1"}}, {Start: 11, End: 22, Tokens: 2, Records: []string{"r2"}}},
		} {
			got, err := MatchContext(context.Background(), segs, text, 1, upTo, 256, math.MaxInt)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("%s, up to version %d: %+v (%v), want %+v", name, upTo, got, err, want)
			}
		}
	}
}
