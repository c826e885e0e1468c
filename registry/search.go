package registry

import (
	"cmp"
	"context"
	"index/suffixarray"
	"slices"
	"sort"
	"strings"
	"sync"
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

// corpusIndex is a datanet's corpus_match index: suffix arrays over its
// records, each over records concatenated with a NUL between them so that
// no match crosses a record boundary.
//
// Records appended after the index was built wait in pending until the
// next match, which indexes them as one new segment; segments merge while
// the newest is at least half the size of the one before it, so sizes fall
// geometrically (a logarithmic number of segments) and each byte is
// re-indexed a logarithmic number of times. An append never rebuilds the
// whole datanet's array.
type corpusIndex struct {
	buildState            // of the first segment
	build      sync.Mutex // one catch-up at a time
	mu         sync.Mutex // guards segs, pending and through
	segs       []*corpusSegment
	pending    []Record
	through    uint64 // the last version the segments hold
}

// corpusSegment is an immutable suffix array over records of consecutive
// versions, in version order: record i was added by version first+i.
type corpusSegment struct {
	sa     *suffixarray.Index
	starts []int // byte offset of each record in the corpus
	ids    []string
	first  uint64
}

func newCorpusSegment(first uint64, ids, contents []string) *corpusSegment {
	seg := &corpusSegment{ids: ids, starts: make([]int, len(ids)), first: first}
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

// merge returns one segment over the records of a and b.
func (a *corpusSegment) merge(b *corpusSegment) *corpusSegment {
	corpus := slices.Concat(a.sa.Bytes(), b.sa.Bytes())
	seg := &corpusSegment{ids: slices.Concat(a.ids, b.ids), starts: slices.Clone(a.starts), first: a.first}
	off := len(a.sa.Bytes())
	for _, s := range b.starts {
		seg.starts = append(seg.starts, off+s)
	}
	seg.sa = suffixarray.New(corpus)
	return seg
}

func (seg *corpusSegment) size() int { return len(seg.sa.Bytes()) }

// corpusIndexFor returns the datanet's index, brought up to date. The first
// segment is built from a snapshot without holding r.mu, so appends go on
// meanwhile; other matches wait for it.
func (r *Registry) corpusIndexFor(ctx context.Context, datanet string) ([]*corpusSegment, error) {
	ix, err := lazyIndex(ctx, r, r.corpus, datanet, func() *corpusIndex { return &corpusIndex{} }, func(ctx context.Context, ix *corpusIndex) {
		r.fillCorpusIndex(ctx, datanet, ix)
	})
	if err != nil {
		return nil, err
	}
	return ix.catchUp(), nil
}

// fillCorpusIndex builds ix's first segment from a snapshot, its records in
// version order.
func (r *Registry) fillCorpusIndex(ctx context.Context, datanet string, ix *corpusIndex) {
	var version uint64
	var recs []Record
	err := r.snapshot(ctx, datanet, func(v uint64) { version = v }, func(rec Record) error {
		rec.Signature = nil
		recs = append(recs, rec)
		return nil
	})
	var seg *corpusSegment
	if err == nil {
		slices.SortFunc(recs, func(a, b Record) int { return cmp.Compare(a.Version, b.Version) })
		ids, contents := make([]string, len(recs)), make([]string, len(recs))
		if uint64(len(recs)) != version {
			err = abi.Errorf(abi.CodeInternal, "datanet %s at version %d holds %d records", datanet, version, len(recs))
		}
		for i, rec := range recs {
			if err != nil {
				break
			}
			if rec.Version != uint64(i+1) {
				err = abi.Errorf(abi.CodeInternal, "datanet %s: record %s has version %d, want %d", datanet, rec.ID, rec.Version, i+1)
			}
			ids[i], contents[i] = rec.ID, rec.Content
		}
		recs = nil
		if err == nil {
			seg = newCorpusSegment(1, ids, contents)
		}
	}
	if err != nil {
		r.mu.Lock()
		dropIndex(r.corpus, datanet, ix)
		r.mu.Unlock()
		ix.done(err)
		return
	}
	ix.mu.Lock()
	ix.segs, ix.through = []*corpusSegment{seg}, version
	ix.mu.Unlock()
	ix.done(nil)
}

// appended queues records just added to the datanet. The caller holds r.mu.
func (ix *corpusIndex) appended(recs ...Record) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.pending = append(ix.pending, recs...)
}

// catchUp indexes pending records and returns the segments to match.
func (ix *corpusIndex) catchUp() []*corpusSegment {
	ix.build.Lock()
	defer ix.build.Unlock()
	ix.mu.Lock()
	var pending []Record
	for _, rec := range ix.pending {
		if rec.Version > ix.through { // not already in the first segment
			pending = append(pending, rec)
		}
	}
	segs := slices.Clone(ix.segs)
	ix.pending = nil
	ix.mu.Unlock()
	if len(pending) == 0 {
		return segs
	}
	ids, contents := make([]string, len(pending)), make([]string, len(pending))
	for i, rec := range pending {
		ids[i], contents[i] = rec.ID, rec.Content
	}
	segs = append(segs, newCorpusSegment(pending[0].Version, ids, contents))
	for n := len(segs); n >= 2 && 2*segs[n-1].size() >= segs[n-2].size(); n = len(segs) {
		segs = append(segs[:n-2], segs[n-2].merge(segs[n-1]))
	}
	ix.mu.Lock()
	ix.segs, ix.through = segs, pending[len(pending)-1].Version
	ix.mu.Unlock()
	return segs
}

// cut returns how many bytes of the segment's corpus hold records of
// versions up to upTo.
func (seg *corpusSegment) cut(upTo uint64) int {
	switch {
	case upTo >= seg.first+uint64(len(seg.ids))-1:
		return len(seg.sa.Bytes())
	case upTo < seg.first:
		return 0
	}
	return seg.starts[upTo-seg.first+1]
}

// CorpusMatch returns the maximal spans of text, at least minTokens words
// long and aligned to word boundaries, that occur verbatim in some record of
// datanet, with the records that contain each.
func (r *Registry) CorpusMatch(ctx context.Context, datanet, text string, minTokens int) ([]abi.Span, error) {
	return r.corpusMatchAt(ctx, datanet, text, minTokens, allVersions)
}

// corpusMatchAt is CorpusMatch over the records of versions up to upTo.
func (r *Registry) corpusMatchAt(ctx context.Context, datanet, text string, minTokens int, upTo uint64) ([]abi.Span, error) {
	if _, err := r.Datanet(ctx, datanet); err != nil {
		return nil, err
	}
	segs, err := r.corpusIndexFor(ctx, datanet)
	if err != nil {
		return nil, err
	}
	return match(segs, text, minTokens, upTo), nil
}

// matcher looks text up in segments, counting only records up to a version.
type matcher struct {
	segs []*corpusSegment
	cuts []int // per segment, see cut
}

func newMatcher(segs []*corpusSegment, upTo uint64) *matcher {
	m := &matcher{}
	for _, seg := range segs {
		if c := seg.cut(upTo); c > 0 {
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

// records returns the sorted ids of the counted records holding b.
func (m *matcher) records(b []byte) []string {
	seen := map[string]bool{}
	for i, seg := range m.segs {
		for _, off := range seg.sa.Lookup(b, -1) {
			if off >= m.cuts[i] {
				continue
			}
			if r := sort.SearchInts(seg.starts, off+1) - 1; r >= 0 {
				seen[seg.ids[r]] = true
			}
		}
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// match finds the maximal spans of text in the segments' records of
// versions up to upTo (see CorpusMatch).
func match(segs []*corpusSegment, text string, minTokens int, upTo uint64) []abi.Span {
	if minTokens < 1 {
		minTokens = 1
	}
	m := newMatcher(segs, upTo)
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
		for j < len(words) && m.occurs([]byte(text[words[i][0]:words[j][1]])) {
			j++
		}
		if j-i < minTokens || words[j-1][1] <= prevEnd {
			continue // too short, or inside the previous maximal span
		}
		start, end := words[i][0], words[j-1][1]
		spans = append(spans, abi.Span{Start: start, End: end, Tokens: j - i, Records: m.records([]byte(text[start:end]))})
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
