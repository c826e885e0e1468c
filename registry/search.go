package registry

import (
	"context"
	"index/suffixarray"
	"sort"
	"strings"
	"unicode"

	"github.com/tollgate-dev/tollgate/abi"
)

// Tokens splits text into lowercase words: runs of letters and digits.
func Tokens(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// BM25 parameters.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// corpusIndex is a suffix array over one datanet's records, concatenated
// with a NUL between them so no match crosses a record boundary.
type corpusIndex struct {
	sa     *suffixarray.Index
	starts []int // byte offset of each record in the corpus
	ids    []string
}

func (r *Registry) index(ctx context.Context, datanet string) (*corpusIndex, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ix := r.indexes[datanet]; ix != nil {
		return ix, nil
	}
	var corpus []byte
	ix := &corpusIndex{}
	err := r.Records(ctx, datanet, func(rec Record) error {
		ix.starts = append(ix.starts, len(corpus))
		ix.ids = append(ix.ids, rec.ID)
		corpus = append(corpus, rec.Content...)
		corpus = append(corpus, 0)
		return nil
	})
	if err != nil {
		return nil, err
	}
	ix.sa = suffixarray.New(corpus)
	r.indexes[datanet] = ix
	return ix, nil
}

// recordsAt returns the ids of the records holding the given corpus offsets.
func (ix *corpusIndex) recordsAt(offsets []int) []string {
	seen := map[string]bool{}
	var ids []string
	for _, off := range offsets {
		i := sort.SearchInts(ix.starts, off+1) - 1
		if i >= 0 && !seen[ix.ids[i]] {
			seen[ix.ids[i]] = true
			ids = append(ids, ix.ids[i])
		}
	}
	sort.Strings(ids)
	return ids
}

// CorpusMatch returns the maximal spans of text, at least minTokens words
// long and aligned to word boundaries, that occur verbatim in some record of
// datanet, with the records that contain each.
func (r *Registry) CorpusMatch(ctx context.Context, datanet, text string, minTokens int) ([]abi.Span, error) {
	if _, err := r.Datanet(ctx, datanet); err != nil {
		return nil, err
	}
	ix, err := r.index(ctx, datanet)
	if err != nil {
		return nil, err
	}
	return ix.match(text, minTokens), nil
}

// match finds the maximal spans of text in the index (see CorpusMatch).
func (ix *corpusIndex) match(text string, minTokens int) []abi.Span {
	if minTokens < 1 {
		minTokens = 1
	}
	words := wordSpans(text)
	var spans []abi.Span
	prevEnd := -1
	// words[i:j] is the longest run from word i that occurs in the corpus.
	// If words[i:j] occurs, so does words[i+1:j] (it is part of it), so j
	// never moves back: one lookup per word of text, not one per word of
	// every span.
	j := 0
	for i := range words {
		j = max(j, i)
		for j < len(words) && len(ix.sa.Lookup([]byte(text[words[i][0]:words[j][1]]), 1)) > 0 {
			j++
		}
		if j-i < minTokens || words[j-1][1] <= prevEnd {
			continue // too short, or inside the previous maximal span
		}
		start, end := words[i][0], words[j-1][1]
		spans = append(spans, abi.Span{
			Start: start, End: end, Tokens: j - i,
			Records: ix.recordsAt(ix.sa.Lookup([]byte(text[start:end]), -1)),
		})
		prevEnd = end
	}
	return spans
}

// wordSpans returns the [start, end) byte offsets of the words of text.
func wordSpans(text string) [][2]int {
	var out [][2]int
	start := -1
	for i, c := range text {
		word := unicode.IsLetter(c) || unicode.IsDigit(c)
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			out = append(out, [2]int{start, i})
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, [2]int{start, len(text)})
	}
	return out
}
