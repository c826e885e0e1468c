// Package corpus finds where a text repeats a corpus verbatim: suffix
// arrays over records of consecutive versions, and the maximal word-aligned
// spans of a text that occur in the records up to a version.
package corpus

import (
	"index/suffixarray"
	"math"
	"slices"
	"sort"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/tokenize"
)

// Segment is an immutable suffix array over records of consecutive
// versions, in version order: record i was added by version first+i.
type Segment struct {
	sa     *suffixarray.Index
	starts []int // byte offset of each record in the corpus
	ids    []string
	first  uint64
}

// NewSegment indexes records given in version order, the first of them
// added by version first.
func NewSegment(first uint64, ids, contents []string) *Segment {
	seg := &Segment{ids: ids, starts: make([]int, len(ids)), first: first}
	n := 0
	for _, c := range contents {
		n += len(c) + 1
	}
	corpus := make([]byte, 0, n)
	for i, c := range contents {
		seg.starts[i] = len(corpus)
		corpus = append(corpus, c...)
		corpus = append(corpus, 0)
	}
	seg.sa = suffixarray.New(corpus)
	return seg
}

// Merge returns one segment over the records of a and b.
func (a *Segment) Merge(b *Segment) *Segment {
	corpus := slices.Concat(a.sa.Bytes(), b.sa.Bytes())
	seg := &Segment{ids: slices.Concat(a.ids, b.ids), starts: slices.Clone(a.starts), first: a.first}
	off := len(a.sa.Bytes())
	for _, s := range b.starts {
		seg.starts = append(seg.starts, off+s)
	}
	seg.sa = suffixarray.New(corpus)
	return seg
}

// Size is the bytes of the records the segment holds (with a separator each).
func (seg *Segment) Size() int { return len(seg.sa.Bytes()) }

// IndexBytes is the size of the segment's suffix array, serialised.
func (seg *Segment) IndexBytes() int {
	var n countWriter
	seg.sa.Write(&n)
	return int(n)
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

// Cut returns how many bytes of the segment's corpus hold records of
// versions up to upTo.
func (seg *Segment) Cut(upTo uint64) int {
	switch {
	case upTo >= seg.first+uint64(len(seg.ids))-1:
		return len(seg.sa.Bytes())
	case upTo < seg.first:
		return 0
	}
	return seg.starts[upTo-seg.first+1]
}

// matcher looks text up in segments, counting only records up to a version.
type matcher struct {
	segs []*Segment
	cuts []int // per segment, see cut
}

func newMatcher(segs []*Segment, upTo uint64) *matcher {
	m := &matcher{}
	for _, seg := range segs {
		if c := seg.Cut(upTo); c > 0 {
			m.segs, m.cuts = append(m.segs, seg), append(m.cuts, c)
		}
	}
	return m
}

// occurs reports whether b occurs in a record the matcher counts. Where a
// segment holds later records too, a few occurrences are checked first:
// a common string almost always has one among them in an earlier record.
func (m *matcher) occurs(b []byte) bool {
	for i, seg := range m.segs {
		if m.cuts[i] == len(seg.sa.Bytes()) {
			if len(seg.sa.Lookup(b, 1)) > 0 {
				return true
			}
			continue
		}
		some := seg.sa.Lookup(b, 64)
		if slices.ContainsFunc(some, func(off int) bool { return off < m.cuts[i] }) {
			return true
		}
		if len(some) == 64 && slices.ContainsFunc(seg.sa.Lookup(b, -1), func(off int) bool { return off < m.cuts[i] }) {
			return true
		}
	}
	return false
}

// Match finds the maximal spans of text, at least minTokens words long and
// aligned to word boundaries, in the segments' records of versions up to
// upTo, with the sorted ids of the records holding each.
func Match(segs []*Segment, text string, minTokens int, upTo uint64) []abi.Span {
	spans, _ := MatchBounded(segs, text, minTokens, math.MaxInt, -1, upTo)
	return spans
}

// MatchBounded is Match with its work bounded whatever the text and
// records: every span is at most maxTokens words (a longer verbatim run is
// cut into consecutive spans, so no lookup compares more than maxTokens
// words), and each span's records are read from at most maxOccurrences of
// its occurrences. partial says some span's records may be incomplete.
func MatchBounded(segs []*Segment, text string, minTokens, maxTokens, maxOccurrences int, upTo uint64) (spans []abi.Span, partial bool) {
	minTokens = max(minTokens, 1)
	maxTokens = max(maxTokens, minTokens)
	m := newMatcher(segs, upTo)
	words := tokenize.Spans(text)
	prevEnd := -1
	// words[i:j] is the longest run from word i that occurs in the corpus.
	// If words[i:j] occurs, so does words[i+1:j] (it is part of it), so j
	// never moves back: one lookup per word of text, not one per word of
	// every span.
	j := 0
	for i := 0; i < len(words); i++ {
		j = max(j, i)
		for j < len(words) && j-i < maxTokens && m.occurs([]byte(text[words[i][0]:words[j][1]])) {
			j++
		}
		if j-i < minTokens || words[j-1][1] <= prevEnd {
			continue
		}
		start, end := words[i][0], words[j-1][1]
		recs, cut := m.someRecords([]byte(text[start:end]), maxOccurrences)
		partial = partial || cut
		spans = append(spans, abi.Span{Start: start, End: end, Tokens: j - i, Records: recs})
		prevEnd = end
		if j-i == maxTokens {
			i = j - 1 // the run goes on: its next span starts after this one
		}
	}
	return spans, partial
}

// someRecords returns the sorted ids of the counted records holding b,
// read from at most n of its occurrences in each segment (all if n < 0);
// cut says there were more.
func (m *matcher) someRecords(b []byte, n int) (ids []string, cut bool) {
	seen := map[string]bool{}
	for i, seg := range m.segs {
		offs := seg.sa.Lookup(b, n)
		cut = cut || len(offs) == n
		for _, off := range offs {
			if off >= m.cuts[i] {
				continue
			}
			if r := sort.SearchInts(seg.starts, off+1) - 1; r >= 0 {
				seen[seg.ids[r]] = true
			}
		}
	}
	ids = make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, cut
}
