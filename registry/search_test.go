package registry

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"

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
	ix := NewMemoryCorpus(ids, records).ix
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
		got := ix.match(text, min)
		want := scanMatch(ids, records, text, min)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("text %q, min %d:\n got %+v\nwant %+v", text, min, got, want)
		}
	}
}

// scanMatch is corpus_match by brute force: for each word, the longest run
// of words from it found in some record.
func scanMatch(ids, records []string, text string, min int) []abi.Span {
	words := wordSpans(text)
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
