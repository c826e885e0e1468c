package corpus

import (
	"index/suffixarray"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// A corpus small enough to scan gives the same spans, counted up to the
// same versions, as the same corpus through a suffix array: scanning is
// only a faster way to find the same occurrences.
func TestScanMatchesSuffixArray(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	vocab := []string{"a", "b", "sky", "blue", "the", "Blau", "ß", "a\x00b", "é"}
	text := func(n int) string {
		w := make([]string, n)
		for i := range w {
			w[i] = vocab[rng.IntN(len(vocab))]
		}
		return strings.Join(w, []string{" ", " ", ", ", "\n"}[rng.IntN(4)])
	}
	for trial := range 500 {
		n := 1 + rng.IntN(6)
		ids, contents := make([]string, n), make([]string, n)
		for i := range n {
			ids[i], contents[i] = string(rune('a'+i)), text(rng.IntN(60))
		}
		scan := NewSegment(7, ids, contents)
		if scan.idx != nil {
			t.Fatalf("a %d-byte corpus is indexed, not scanned", scan.Size())
		}
		indexed := NewSegment(7, ids, contents)
		indexed.idx = suffixarray.New(indexed.text)
		out := text(1 + rng.IntN(40))
		if trial%4 == 0 {
			out = contents[rng.IntN(n)] + " " + text(5)
		}
		minTokens := 1 + rng.IntN(4)
		upTo := uint64(6 + rng.IntN(n+2))
		got := Match([]*Segment{scan}, out, minTokens, upTo)
		want := Match([]*Segment{indexed}, out, minTokens, upTo)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %d: scanned %+v\nindexed %+v", trial, got, want)
		}
		gotB, gotPartial := MatchBounded([]*Segment{scan}, out, minTokens, 3, -1, upTo)
		wantB, wantPartial := MatchBounded([]*Segment{indexed}, out, minTokens, 3, -1, upTo)
		if !reflect.DeepEqual(gotB, wantB) || gotPartial != wantPartial {
			t.Fatalf("trial %d bounded: scanned %+v\nindexed %+v", trial, gotB, wantB)
		}
	}
	big := NewSegment(0, []string{"x"}, []string{strings.Repeat("sky ", smallCorpus/4+1)})
	if big.idx == nil {
		t.Fatalf("a %d-byte corpus is scanned, not indexed", big.Size())
	}
}
