package corpus

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
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
		same := MatchBounded([]*Segment{seg}, out, 2, 1000, math.MaxUint64)
		if len(whole) != len(same) {
			t.Fatalf("unbounded: %d spans, Match %d", len(same), len(whole))
		}
		for i := range whole {
			if whole[i].Start != same[i].Start || whole[i].End != same[i].End || strings.Join(whole[i].Records, ",") != strings.Join(same[i].Records, ",") {
				t.Fatalf("span %d: %+v, Match %+v", i, same[i], whole[i])
			}
		}
		for _, s := range MatchBounded([]*Segment{seg}, out, 2, 5, math.MaxUint64) {
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
