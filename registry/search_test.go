package registry

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/corpus"
	"github.com/tollgate-dev/tollgate/internal/tokenize"

	"github.com/tollgate-dev/tollgate/abi"
)

// TestMatchAgainstScan compares corpus_match with a scan of every record
// for every candidate span, on texts that quote records in part, mix in
// new words and repeat themselves.
func TestMatchAgainstScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	vocab := []string{"the", "sky", "is", "blue", "water", "boils", "at", "100", "degrees", "air", "scatters", "light"}
	sentence := func(n int) []string {
		w := make([]string, n)
		for i := range w {
			w[i] = vocab[rng.IntN(len(vocab))]
		}
		return w
	}
	var ids, records []string
	for i := range 60 {
		ids = append(ids, fmt.Sprintf("r%02d", i))
		records = append(records, strings.Join(sentence(5+rng.IntN(20)), " "))
	}
	segs := NewMemoryCorpus(ids, records).segs
	for q := range 400 {
		var words []string
		for len(words) < 40 {
			if rng.IntN(2) == 0 {
				r := strings.Fields(records[rng.IntN(len(records))])
				a := rng.IntN(len(r))
				words = append(words, r[a:a+rng.IntN(len(r)-a)+1]...)
			}
			words = append(words, sentence(rng.IntN(4))...)
			if rng.IntN(5) == 0 {
				words = append(words, "novel")
			}
		}
		text := strings.Join(words, ", ")
		if q%2 == 0 {
			text = strings.Join(words, " ")
		}
		min := 1 + q%4
		got := corpus.Match(segs, text, min, allVersions)
		want := scanMatch(ids, records, text, min)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("text %q, min %d:\n got %+v\nwant %+v", text, min, got, want)
		}
	}
}

// scanMatch is corpus_match by brute force: for each word, the longest run
// of words from it found in some record.
func scanMatch(ids, records []string, text string, min int) []abi.Span {
	words := tokenize.Spans(text)
	holding := func(s string) []string {
		var out []string
		for i, r := range records {
			if strings.Contains(r, s) {
				out = append(out, ids[i])
			}
		}
		sort.Strings(out)
		return out
	}
	var spans []abi.Span
	prevEnd := -1
	for i := range words {
		j := i
		for j < len(words) && len(holding(text[words[i][0]:words[j][1]])) > 0 {
			j++
		}
		if j-i < min || words[j-1][1] <= prevEnd {
			continue
		}
		start, end := words[i][0], words[j-1][1]
		spans = append(spans, abi.Span{Start: start, End: end, Tokens: j - i, Records: holding(text[start:end])})
		prevEnd = end
	}
	return spans
}

// TestAppendedSegmentsMatchLikeOneIndex grows a corpus index by appends
// of varied sizes and checks every match against a scan of all records,
// and that segments stay few.
func TestAppendedSegmentsMatchLikeOneIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	vocab := []string{"the", "sky", "is", "blue", "water", "boils", "at", "100", "degrees", "air"}
	sentence := func(n int) string {
		w := make([]string, n)
		for i := range w {
			w[i] = vocab[rng.IntN(len(vocab))]
		}
		return strings.Join(w, " ")
	}
	var ids, records []string
	for i := range 5 {
		ids, records = append(ids, fmt.Sprintf("a%03d", i)), append(records, sentence(10))
	}
	ix := &corpusIndex{segs: []*corpus.Segment{corpus.NewSegment(1, ids, records)}}
	maxSegs := 0
	for round := range 300 {
		for range rng.IntN(1 + round%40) {
			id, content := fmt.Sprintf("r%04d", len(ids)), sentence(3+rng.IntN(15))
			ids, records = append(ids, id), append(records, content)
			ix.appended(Record{ID: id, Content: content, Version: uint64(len(ids))})
		}
		segs := ix.catchUp()
		maxSegs = max(maxSegs, len(segs))
		text := sentence(30) + " " + records[rng.IntN(len(records))] + " " + sentence(5)
		if got, want := corpus.Match(segs, text, 3, allVersions), scanMatch(ids, records, text, 3); !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d, %d segments: got %+v\nwant %+v", round, len(segs), got, want)
		}
		// As of an earlier version: only the records it had count.
		upTo := 1 + rng.IntN(len(ids))
		if got, want := corpus.Match(segs, text, 3, uint64(upTo)), scanMatch(ids[:upTo], records[:upTo], text, 3); !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d, version %d of %d: got %+v\nwant %+v", round, upTo, len(ids), got, want)
		}
		total := 0
		for _, s := range segs {
			total += s.Size()
		}
		if bound := 2 + bits.Len(uint(total)); len(segs) > bound {
			t.Fatalf("%d segments over %d bytes", len(segs), total)
		}
	}
	t.Logf("%d records, at most %d segments", len(ids), maxSegs)
}
