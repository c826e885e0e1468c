// Package corpus finds where a text repeats a corpus verbatim: suffix
// arrays over records of consecutive versions, and the maximal word-aligned
// spans of a text that occur in the records up to a version.
package corpus

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"index/suffixarray"
	"maps"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/tokenize"
)

// Segment is an immutable index over records of consecutive versions, in
// version order: record i was added by version first+i. The records are
// held as one corpus, each followed by a NUL byte; a corpus larger than
// smallCorpus is searched through its suffix array, a smaller one by
// scanning it, which finds the same occurrences in less time than
// building the array takes. A segment is built in memory (NewSegment) or
// mapped from a file (OpenSegment), where its corpus, array and record
// table stay in the page cache rather than the heap.
type Segment struct {
	text []byte
	// The corpus's suffix array, for a corpus larger than smallCorpus:
	// built in memory, or mapped from a file.
	idx    *suffixarray.Index
	sa     []int32
	starts []int // byte offset of each record in the corpus
	ids    idList
	first  uint64
	mapped []byte // the file mapping text, sa, starts and ids live in, if any
	fence  fence  // for a mapped array: where its searches start
	// suffixes is what a file's array was written to hold; wordStarts
	// says sa holds only the suffixes that start a word, and vocab the
	// distinct words (each after a NUL, a NUL at the end) with vocabSA its
	// suffix array (see WordStarts).
	suffixes   Suffixes
	wordStarts bool
	vocab      []byte
	vocabSA    []int32
	filter     startFilter // for a mapped word-start array
}

// idList is the segments' record ids: strings in memory, or offsets into
// a mapped file's id bytes.
type idList struct {
	strs []string
	offs []uint64 // len n+1 when mapped
	data []byte
}

func (l idList) len() int {
	if l.offs != nil {
		return len(l.offs) - 1
	}
	return len(l.strs)
}

func (l idList) at(i int) string {
	if l.offs != nil {
		return string(l.data[l.offs[i]:l.offs[i+1]])
	}
	return l.strs[i]
}

// MaxSegmentBytes bounds one segment's corpus: its suffix array holds
// 32-bit offsets, and building it takes about five bytes of memory per
// corpus byte, so a segment of this size builds in about 1.3 GB.
const MaxSegmentBytes = 256 << 20

// NewSegment indexes records given in version order, the first of them
// added by version first.
func NewSegment(first uint64, ids, contents []string) *Segment {
	seg := &Segment{ids: idList{strs: ids}, starts: make([]int, len(ids)), first: first}
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
	seg.index(corpus)
	return seg
}

// smallCorpus is the largest corpus a segment scans rather than indexes:
// the records an attribution plugin matches against are those one call
// read, a few kilobytes, and one call builds and drops their index.
const smallCorpus = 16 << 10

func (seg *Segment) index(corpus []byte) {
	seg.text = corpus
	if len(corpus) > smallCorpus {
		seg.idx = suffixarray.New(corpus)
	}
}

// saReader parses index/suffixarray's serialisation as it is written (the
// only way the package gives out its array): a 10-byte varint length, the
// text, then chunks, each a 10-byte varint of the chunk's size followed by
// uvarint suffix offsets, which it passes to put.
type saReader struct {
	state int // 0: length, 1: text, 2: chunks
	text  int // text bytes still to skip
	put   func(int32) error
	n     int
}

func (r *saReader) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		switch r.state {
		case 0:
			if len(p) < binary.MaxVarintLen64 {
				return 0, fmt.Errorf("short length")
			}
			v, _ := binary.Varint(p)
			r.text, r.state, p = int(v), 1, p[binary.MaxVarintLen64:]
		case 1:
			k := min(r.text, len(p))
			r.text -= k
			p = p[k:]
			if r.text == 0 {
				r.state = 2
			}
		case 2:
			if len(p) < binary.MaxVarintLen64 {
				return 0, fmt.Errorf("short chunk")
			}
			size, _ := binary.Varint(p)
			if int(size) != len(p) {
				return 0, fmt.Errorf("chunk of %d bytes written as %d", size, len(p))
			}
			for q := p[binary.MaxVarintLen64:]; len(q) > 0; {
				v, k := binary.Uvarint(q)
				if k <= 0 {
					return 0, fmt.Errorf("bad offset")
				}
				if err := r.put(int32(v)); err != nil {
					return 0, err
				}
				r.n++
				q = q[k:]
			}
			p = nil
		}
	}
	return n, nil
}

// Lookup returns the offsets of up to n occurrences of b in the segment's
// corpus (all if n < 0), in no particular order. In a segment mapped from
// a WordStarts file, only the occurrences that start a word.
func (seg *Segment) Lookup(b []byte, n int) []int { return seg.lookup(b, n) }

// Text is the segment's corpus: each record followed by a NUL. A mapped
// segment's text is valid while the segment is reachable.
func (seg *Segment) Text() []byte { return seg.text }

// RecordOf returns the id of the record holding the corpus's byte off.
func (seg *Segment) RecordOf(off int) string {
	id := seg.ids.at(sort.SearchInts(seg.starts, off+1) - 1)
	runtime.KeepAlive(seg)
	return id
}

// lookup returns the offsets of up to n occurrences of b in the corpus
// (all if n < 0), in no particular order, as suffixarray's Lookup.
func (seg *Segment) lookup(b []byte, n int) []int {
	if len(b) == 0 || n == 0 {
		return nil
	}
	if seg.idx != nil {
		return seg.idx.Lookup(b, n)
	}
	if seg.sa != nil {
		lo, hi := seg.occurrences(b)
		if n < 0 || hi-lo < n {
			n = hi - lo
		}
		if n == 0 {
			return nil
		}
		offs := make([]int, n)
		for i := range offs {
			offs[i] = int(seg.sa[lo+i])
		}
		runtime.KeepAlive(seg) // its mapping, until read
		return offs
	}
	var offs []int
	for off := 0; n < 0 || len(offs) < n; {
		i := bytes.Index(seg.text[off:], b)
		if i < 0 {
			break
		}
		offs = append(offs, off+i)
		off += i + 1
	}
	runtime.KeepAlive(seg)
	return offs
}

// occurrences is the range sa[lo:hi] of the suffixes b prefixes.
func (seg *Segment) occurrences(b []byte) (lo, hi int) { return seg.narrow(b, 0, len(seg.sa)) }

// narrow is the range sa[lo:hi] of the suffixes b prefixes, given that
// they all lie in sa[from:to]: a binary search for the first, then a
// gallop from it for the end, so a range that is empty or short (as most
// are) costs one probe past its first suffix rather than a second search
// over the rest of the array. A search over the whole array starts from
// the fence's bounds.
func (seg *Segment) narrow(b []byte, from, to int) (lo, hi int) {
	if from == 0 && to == len(seg.sa) {
		from, to = seg.fence.bounds(b, len(seg.sa))
	}
	return search(seg.text, seg.sa, b, from, to)
}

// search is the range sa[lo:hi] of the suffixes of text that b prefixes,
// given that they all lie in sa[from:to] (see narrow).
func search(text []byte, sa []int32, b []byte, from, to int) (lo, hi int) {
	lo, n := from, to-from
	for n > 0 { // the first suffix in sa[from:to] not less than b
		half := n / 2
		if bytes.Compare(text[sa[lo+half]:], b) < 0 {
			lo, n = lo+half+1, n-half-1
		} else {
			n = half
		}
	}
	in := func(i int) bool { return bytes.HasPrefix(text[sa[i]:], b) }
	if lo == to || !in(lo) {
		return lo, lo
	}
	step := 1
	for lo+step < to && in(lo+step) {
		step *= 2
	}
	// sa[lo+step/2] is in the range; the range ends at or before lo+step.
	base := lo + step/2
	end := min(lo+step, to)
	hi = base + sort.Search(end-base, func(i int) bool { return !in(base + i) })
	return lo, hi
}

// wordBefore reports whether a letter or digit ends just before byte p of
// text. Where p starts a rune, this is how a forward decoding (as
// tokenize.Spans decodes) reads the rune before it: a rune's lead byte is
// never a continuation byte.
func wordBefore(text []byte, p int) bool {
	if p == 0 {
		return false
	}
	r, _ := utf8.DecodeLastRune(text[max(0, p-utf8.UTFMax):p])
	return tokenize.IsWord(r)
}

// wordsEnding returns the words of a WordStarts segment's records that
// end with w, a word, and are longer.
func (seg *Segment) wordsEnding(w []byte) [][]byte {
	lo, hi := search(seg.vocab, seg.vocabSA, w, 0, len(seg.vocabSA))
	var words [][]byte
	// The suffixes w prefixes that go on with the NUL after a word come
	// first (NUL is the least byte); of those, only w itself, if it is a
	// word of the records, follows a NUL too.
	for _, v := range seg.vocabSA[lo:hi] {
		end := int(v) + len(w)
		if end >= len(seg.vocab) || seg.vocab[end] != 0 {
			break
		}
		if v > 0 && seg.vocab[v-1] != 0 {
			words = append(words, seg.vocab[bytes.LastIndexByte(seg.vocab[:v], 0)+1:end])
		}
	}
	return words
}

// eachWordHolding calls fn with each word of a WordStarts segment's
// records that holds w other than at its start, and the offset in it of w's
// first such occurrence, until fn returns false.
func (seg *Segment) eachWordHolding(w []byte, fn func(word []byte, at int) bool) {
	lo, hi := search(seg.vocab, seg.vocabSA, w, 0, len(seg.vocabSA))
	seen := map[int]int{} // word start: the offset given
	for _, v := range seg.vocabSA[lo:hi] {
		if v == 0 || seg.vocab[v-1] == 0 {
			continue
		}
		s := bytes.LastIndexByte(seg.vocab[:v], 0) + 1
		if at, ok := seen[s]; ok && at <= int(v)-s {
			continue
		}
		seen[s] = int(v) - s
	}
	starts := slices.Sorted(maps.Keys(seen))
	for _, s := range starts {
		e := s + max(0, bytes.IndexByte(seg.vocab[s:], 0))
		if !fn(seg.vocab[s:e], seen[s]) {
			return
		}
	}
}

// A fence is the first bytes of every few suffixes of a mapped array, in
// the heap, as big-endian integers: a search compares keys there before it
// reads the mapping, and so starts within a few hundred suffixes of its
// answer rather than probing the whole array, the first probes of which
// fault in a page each on a corpus larger than the page cache. Its shape
// depends on the array:
//   - a word-start array's suffixes share their first 8 bytes (about one
//     word) with tens of thousands of others in a 2 GB file, so its keys
//     are 16 bytes, every 256th suffix: 16 bytes of heap per 256 word
//     starts, 45 MB for a 5 GB corpus;
//   - an array of every suffix (the ∞-gram model's, of 3-byte token ids)
//     keeps 8-byte keys, every 1,024th: 16-byte keys made its lookups
//     slower for twice the heap.
type fence struct {
	keys  []uint64 // words per key
	words int      // 1 or 2: keys of 8 or 16 bytes
	shift int      // a key every 1<<shift suffixes
}

// A fenceShape is a fence's key size in words and sampling.
type fenceShape struct{ words, shift int }

// The fences of word-start arrays and of every-suffix arrays (variables
// for tests and benchmarks).
var (
	wordStartFence = fenceShape{words: 2, shift: 8}
	allSuffixFence = fenceShape{words: 1, shift: 10}
)

func newFence(text []byte, sa []int32, shape fenceShape) fence {
	n := (len(sa) + 1<<shape.shift - 1) >> shape.shift
	f := fence{keys: make([]uint64, 0, n*shape.words), words: shape.words, shift: shape.shift}
	for t := range n {
		k := keyOf(text[sa[t<<shape.shift]:], 0)
		f.keys = append(f.keys, k[:shape.words]...)
	}
	return f
}

// keyOf is b's first 16 bytes as two big-endian integers, pad past its end.
func keyOf(b []byte, pad byte) [2]uint64 {
	var k [16]byte
	n := copy(k[:], b)
	for i := n; i < len(k); i++ {
		k[i] = pad
	}
	return [2]uint64{binary.BigEndian.Uint64(k[:8]), binary.BigEndian.Uint64(k[8:])}
}

// compare compares the fence's key t with k's first f.words words.
func (f fence) compare(t int, k [2]uint64) int {
	key := f.keys[t*f.words : (t+1)*f.words]
	if c := cmp.Compare(key[0], k[0]); c != 0 || f.words == 1 {
		return c
	}
	return cmp.Compare(key[1], k[1])
}

// bounds is the part sa[from:to] of an n-entry array that holds the first
// suffix not less than b and every suffix b prefixes. A suffix's key (its
// bytes padded with zeros) below b's padded with zeros is a suffix less
// than b: their first differing byte, or the suffix ending, says so. One
// above b's padded with 0xff bytes is a suffix greater than b that b does
// not prefix: b's bytes differ from it before b ends.
func (f fence) bounds(b []byte, n int) (from, to int) {
	keys := len(f.keys) / max(1, f.words)
	if keys == 0 {
		return 0, n
	}
	low, high := keyOf(b, 0), keyOf(b, 0xff)
	below := sort.Search(keys, func(t int) bool { return f.compare(t, low) >= 0 })                     // keys[:below] < b
	above := below + sort.Search(keys-below, func(t int) bool { return f.compare(below+t, high) > 0 }) // keys[above:] > b, unprefixed
	if below > 0 {
		from = (below-1)<<f.shift + 1 // the sampled suffix is less than b
	}
	to = n
	if above < keys {
		to = above<<f.shift + 1 // the suffix at the fence itself may be the first not less than b
	}
	return from, to
}

// Merge returns one segment over the records of a and b, in memory.
func (a *Segment) Merge(b *Segment) *Segment {
	corpus := slices.Concat(a.text, b.text)
	n := a.ids.len() + b.ids.len()
	strs := make([]string, 0, n)
	for _, l := range []idList{a.ids, b.ids} {
		for i := range l.len() {
			strs = append(strs, l.at(i))
		}
	}
	seg := &Segment{ids: idList{strs: strs}, starts: slices.Clone(a.starts), first: a.first}
	off := len(a.text)
	for _, s := range b.starts {
		seg.starts = append(seg.starts, off+s)
	}
	runtime.KeepAlive(a) // their mappings, until read
	runtime.KeepAlive(b)
	seg.index(corpus)
	return seg
}

// Size is the bytes of the records the segment holds (with a separator each).
func (seg *Segment) Size() int { return len(seg.text) }

// Suffixes says which suffixes a segment mapped from a file was written
// to index (AllSuffixes for one in memory).
func (seg *Segment) Suffixes() Suffixes { return seg.suffixes }

// Mapped reports whether the segment is read from a file's mapping.
func (seg *Segment) Mapped() bool { return seg.mapped != nil }

// Record returns the id and content of the segment's record i.
func (seg *Segment) Record(i int) (id, content string) {
	end := len(seg.text) - 1
	if i+1 < len(seg.starts) {
		end = seg.starts[i+1] - 1
	}
	content = string(seg.text[seg.starts[i]:end])
	id = seg.ids.at(i)
	runtime.KeepAlive(seg) // its mapping, until both are copied out
	return id, content
}

// Records is how many records the segment holds.
func (seg *Segment) Records() int { return len(seg.starts) }

// First is the version that added the segment's first record.
func (seg *Segment) First() uint64 { return seg.first }

// Last is the version that added the segment's last record.
func (seg *Segment) Last() uint64 { return seg.first + uint64(len(seg.starts)) - 1 }

// IndexBytes is the size of the segment's suffix array (0 for a corpus
// small enough to scan).
func (seg *Segment) IndexBytes() int {
	if seg.idx != nil {
		return 4 * len(seg.text)
	}
	return 4 * len(seg.sa)
}

// Cut returns how many bytes of the segment's corpus hold records of
// versions up to upTo.
func (seg *Segment) Cut(upTo uint64) int {
	switch {
	case upTo >= seg.first+uint64(len(seg.starts))-1:
		return len(seg.text)
	case upTo < seg.first:
		return 0
	}
	return seg.starts[upTo-seg.first+1]
}

// matcher looks a text's runs of words up in segments, counting only
// records up to a version.
type matcher struct {
	segs   []*Segment
	cuts   []int // per segment, see cut
	ranges []saRange
	text   []byte
	words  [][2]int // the text's words, as tokenize.Spans gives them
	// ctx ends the match (err is its error once seen); a span's scan
	// stops at spanRecords+1 records (and then names none), and
	// recordsLeft is how many more ids all spans' scans may meet.
	ctx                      context.Context
	err                      error
	spanRecords, recordsLeft int
	longer                   map[[2]int][][]byte // see wordsEnding
	// ahead[k][i-aheadFrom] is where in segment k's mapped array the
	// first minTokens words from word i lie, if looked up ahead (see
	// lookAhead); startsSpan[i-aheadFrom] says word i can start a span.
	ahead      [][]aheadRange
	aheadFrom  int
	startsSpan []bool
	aheadFound []atomic.Bool // a segment holds the run in a counted record
	minTokens  int
	cold       bool // a lookup read the disk: look ahead
}

// An aheadRange is a range of a suffix array looked up ahead; known says
// it was.
type aheadRange struct {
	lo, hi int32
	known  bool
}

// saRange is where in a segment's suffix array the suffixes that the text
// from byte start to end prefixes lie: a longer run from the same start
// lies inside it. absent says the run occurs nowhere in the segment, so
// no longer one does either.
type saRange struct {
	start, end, lo, hi int
	known, absent      bool
}

func newMatcher(segs []*Segment, upTo uint64, text []byte, words [][2]int) *matcher {
	m := &matcher{text: text, words: words}
	for _, seg := range segs {
		if c := seg.Cut(upTo); c > 0 {
			m.segs, m.cuts = append(m.segs, seg), append(m.cuts, c)
		}
	}
	m.ranges = make([]saRange, len(m.segs))
	return m
}

// run is the text of words i to j.
func (m *matcher) run(i, j int) []byte { return m.text[m.words[i][0]:m.words[j][1]] }

// occurs reports whether words i to j of the text occur in a record the
// matcher counts. In a mapped segment it starts from the range found for
// a shorter run from the same start, and skips the segment if that run
// was absent. Where a segment holds later records too, a few occurrences
// are checked first: a common string almost always has one among them in
// an earlier record.
func (m *matcher) occurs(i, j int) bool {
	start, end := m.words[i][0], m.words[j][1]
	b := m.text[start:end]
	for k, seg := range m.segs {
		if seg.sa == nil {
			if m.occursIn(k, b) {
				return true
			}
			continue
		}
		r := &m.ranges[k]
		lo, hi := 0, len(seg.sa)
		if r.known && r.start == start && r.end <= end {
			if r.absent {
				continue
			}
			lo, hi = r.lo, r.hi
		} else if !m.mayHold(k, i, j) {
			*r = saRange{start: start, end: end, known: true, absent: true}
			continue
		}
		if m.mayStart(k, i, j) {
			if a := m.aheadOf(k, i, j); a.known && lo == 0 && hi == len(seg.sa) {
				lo, hi = int(a.lo), int(a.hi)
			} else {
				lo, hi = m.narrow(k, b, lo, hi)
			}
		} else {
			lo, hi = 0, 0
		}
		whole := m.cuts[k] == len(seg.text)
		found := false
		if whole {
			found = lo < hi
		} else {
			for _, off := range seg.sa[lo:hi] {
				if int(off) < m.cuts[k] {
					found = true
					break
				}
			}
		}
		if !found && seg.wordStarts {
			found = m.inWord(k, i, j, whole)
		}
		runtime.KeepAlive(seg)
		*r = saRange{start: start, end: end, lo: lo, hi: hi, known: true,
			absent: lo == hi && (!seg.wordStarts || whole && !found)}
		if found {
			return true
		}
	}
	return false
}

// narrow is segment k's narrow. A lookup over a whole array that takes as
// long as a read of the disk turns the look-ahead on for the rest of the
// match: its segments' files are not all in memory.
func (m *matcher) narrow(k int, b []byte, from, to int) (lo, hi int) {
	seg := m.segs[k]
	if m.cold || lookAheadWorkers <= 1 || from != 0 || to != len(seg.sa) {
		return seg.narrow(b, from, to)
	}
	t0 := time.Now()
	lo, hi = seg.narrow(b, from, to)
	m.cold = time.Since(t0) >= coldLookup
	return lo, hi
}

// coldLookup is how long a lookup takes once it reads the disk: a read
// takes longer, and a lookup in memory far less (a variable for tests).
var coldLookup = 50 * time.Microsecond

// lookAheadWorkers is how many goroutines a match looks its first runs
// up with (a variable for benchmarks; 1 or less looks nothing up ahead).
var lookAheadWorkers = 8

// aheadWords is how many words of the text a match looks up ahead at a
// time, which bounds the memory a long text's look-ahead takes (a
// variable for tests).
var aheadWords = 256

// lookAhead looks up, in each segment with a mapped array, the first
// minTokens words from each of the aheadWords words from word from that
// can start a span, as the match will, before it does: several
// goroutines at once rather than one lookup after another. Where the
// files outgrow memory a lookup is a chain of reads of the disk, one per
// step of its binary search, and a match's lookups are independent of
// each other: the disk serves several chains at once in about the time of
// one. A match of text that occurs nowhere (most of a model's output) is
// nearly all such lookups. The match then reads their ranges rather than
// searching again. Runs a segment's filter refuses are not looked up, as
// the match does not look them up either. A match looks ahead only once
// one of its lookups has read the disk (see narrow): where the files are
// in memory it would only spend the processors on lookups the match
// skips. Its lookups go word by word, each through the segments in order,
// and a word's are left once a segment holds its run in a counted record,
// as the match stops there too.
func (m *matcher) lookAhead(from int) {
	n := min(aheadWords, len(m.words)-m.minTokens+1-from)
	if m.ahead == nil {
		m.ahead = make([][]aheadRange, len(m.segs))
		for k, seg := range m.segs {
			if seg.sa != nil {
				m.ahead[k] = make([]aheadRange, aheadWords)
			}
		}
		m.startsSpan = make([]bool, aheadWords)
		m.aheadFound = make([]atomic.Bool, aheadWords)
	}
	m.aheadFrom = from
	for k := range m.ahead {
		clear(m.ahead[k])
	}
	// Which words can start a span: those with minTokens words before the
	// end of their piece of the text. The pieces are read no further than
	// that tells.
	limit := min(len(m.words), from+n+m.minTokens-1)
	for i, end := from, 0; i < from+n; i++ {
		if i >= end {
			end = pieceEnd(m.text, m.words, i, limit)
		}
		m.startsSpan[i-from] = i+m.minTokens <= end
		m.aheadFound[i-from].Store(false)
	}
	segs := len(m.segs)
	tasks := int64(n * segs)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range lookAheadWorkers {
		wg.Go(func() {
			for t := next.Add(1) - 1; t < tasks && m.ctx.Err() == nil; t = next.Add(1) - 1 {
				i, k := from+int(t)/segs, int(t)%segs
				seg := m.segs[k]
				if seg.sa == nil || !m.startsSpan[i-from] || m.aheadFound[i-from].Load() {
					continue
				}
				j := i + m.minTokens - 1
				if !m.mayHold(k, i, j) || !m.filterMayStart(k, i, j) {
					continue // the match does not look it up either
				}
				lo, hi := seg.narrow(m.run(i, j), 0, len(seg.sa))
				m.ahead[k][i-from] = aheadRange{lo: int32(lo), hi: int32(hi), known: true}
				if lo < hi && m.cuts[k] == len(seg.text) {
					m.aheadFound[i-from].Store(true)
				}
			}
		})
	}
	wg.Wait()
	runtime.KeepAlive(m.segs)
}

// aheadOf is the range of words i to j in segment k, looked up ahead
// (with the words after i) if they are the first minTokens words from
// word i: the match asks about words in order.
func (m *matcher) aheadOf(k, i, j int) aheadRange {
	if !m.cold || j != i+m.minTokens-1 || m.segs[k].sa == nil { // cold: lookAheadWorkers > 1
		return aheadRange{}
	}
	if m.ahead == nil || i < m.aheadFrom || i >= m.aheadFrom+aheadWords {
		m.lookAhead(i)
	}
	return m.ahead[k][i-m.aheadFrom]
}

// useFilters says whether matches ask segment files' filters (a variable
// for benchmarks).
var useFilters = true

// mayStart reports whether words i to j may start a word of segment k's
// records, as far as its filter knows. It asks the filter only about a run
// of four words or more, and not once a run from the same start holding
// those four has been looked up.
func (m *matcher) mayStart(k, i, j int) bool {
	f := m.segs[k].filter
	if f == nil || j < i+3 || !useFilters {
		return true
	}
	if r := m.ranges[k]; r.known && r.start == m.words[i][0] && r.end >= m.words[i+3][1] && !r.absent {
		return true // asked already
	}
	return m.filterMayStart(k, i, j)
}

// filterMayStart is mayStart asking the filter whatever was asked before
// (it reads nothing the match writes, so the look-ahead's goroutines ask
// it too).
func (m *matcher) filterMayStart(k, i, j int) bool {
	f := m.segs[k].filter
	if f == nil || j < i+3 || !useFilters {
		return true
	}
	return f.mayStart(m.text[m.words[i][0]:m.words[i+3][0]])
}

// mayHold reports whether words i to j may occur in segment k at all, from
// the start of a word or inside one, as far as its filter knows: wherever
// they occur, each of their words after the first starts a word of the
// segment's records, so the filter holds the four words from each. It
// asks about the last four (when they leave out word i): a run that a
// text repeats from a record and then leaves has been looked up to its
// longest, and the runs from its next words, each ending one word past
// it, are then mostly refused here instead of searched for from the
// array's start. A run from the same start already looked up is not
// asked about: its range holds the answer's.
func (m *matcher) mayHold(k, i, j int) bool {
	f := m.segs[k].filter
	if f == nil || j-3 <= i || !useFilters {
		return true
	}
	return f.mayStart(m.text[m.words[j-3][0]:m.words[j][0]])
}

// inWord reports whether words i to j occur in a counted record of a
// WordStarts segment other than from the start of one of its words; whole
// says the segment counts all its records.
func (m *matcher) inWord(k, i, j int, whole bool) bool {
	found := false
	if i == j && whole {
		m.segs[k].eachWordHolding(m.run(i, i), func([]byte, int) bool { found = true; return false })
		return found
	}
	m.eachInWord(k, i, j, func(int) bool { found = true; return false })
	return found
}

// eachInWord calls fn with the offset of each occurrence of words i to j
// in counted records of a WordStarts segment that does not start a word of
// the record, which its array does not hold, until fn returns false or the
// match's context ends. A run of several words then starts inside a word W
// and ends it: its first word ends W, and the rest of the run (from its
// second word) starts a word. Where the rest occurs less often than a few
// times the words W could be, its occurrences are read and the bytes
// before each checked; else each W followed by the rest is looked up, as
// it starts a word. A run of one word lies inside a longer one: the
// vocabulary gives those words, and the array their occurrences.
func (m *matcher) eachInWord(k, i, j int, fn func(off int) bool) {
	seg, cut := m.segs[k], m.cuts[k]
	defer runtime.KeepAlive(seg)
	if j > i {
		longer := m.wordsEnding(k, i)
		if len(longer) == 0 {
			return
		}
		pre := m.text[m.words[i][0]:m.words[i+1][0]]
		lo, hi := 0, 0
		if m.mayStart(k, i+1, j) {
			lo, hi = seg.narrow(m.run(i+1, j), 0, len(seg.sa))
		}
		if hi-lo <= 16*len(longer) {
			for n, q := range seg.sa[lo:hi] {
				if n%4096 == 4095 && m.stopped() {
					return
				}
				p := int(q) - len(pre)
				if p > 0 && p < cut && bytes.Equal(seg.text[p:q], pre) && wordBefore(seg.text, p) && !fn(p) {
					return
				}
			}
			return
		}
		var key []byte
		for _, word := range longer {
			if m.stopped() {
				return
			}
			key = append(append(append(key[:0], word...), pre[m.words[i][1]-m.words[i][0]:]...), m.run(i+1, j)...)
			klo, khi := seg.narrow(key, 0, len(seg.sa))
			for _, q := range seg.sa[klo:khi] {
				if p := int(q) + len(word) - (m.words[i][1] - m.words[i][0]); p < cut && !fn(p) {
					return
				}
			}
		}
		return
	}
	seg.eachWordHolding(m.run(i, i), func(word []byte, at int) bool {
		if m.stopped() {
			return false
		}
		lo, hi := seg.narrow(word, 0, len(seg.sa))
		for n, q := range seg.sa[lo:hi] {
			if n%4096 == 4095 && m.stopped() {
				return false
			}
			p := int(q) + at
			if p >= cut || int(q)+len(word) >= len(seg.text) {
				continue
			}
			// The array's suffixes from word begin with it or with a
			// longer word, which the vocabulary gives as well.
			if r, _ := utf8.DecodeRune(seg.text[int(q)+len(word):]); tokenize.IsWord(r) {
				continue
			}
			if !fn(p) {
				return false
			}
		}
		return true
	})
}

// wordsEnding is the words of segment k's records that word i of the
// text ends and that are longer, looked up once per segment and word.
func (m *matcher) wordsEnding(k, i int) [][]byte {
	key := [2]int{k, i}
	if w, ok := m.longer[key]; ok {
		return w
	}
	if m.longer == nil {
		m.longer = map[[2]int][][]byte{}
	}
	w := m.segs[k].wordsEnding(m.run(i, i))
	m.longer[key] = w
	return w
}

// stopped reports whether the match's context has ended, keeping its
// error for the match to return.
func (m *matcher) stopped() bool {
	if m.err == nil {
		m.err = m.ctx.Err()
	}
	return m.err != nil
}

// occursIn is occurs for a segment with no mapped array: one indexed in
// memory or scanned.
func (m *matcher) occursIn(i int, b []byte) bool {
	seg := m.segs[i]
	if m.cuts[i] == len(seg.text) {
		return len(seg.lookup(b, 1)) > 0
	}
	some := seg.lookup(b, 64)
	if slices.ContainsFunc(some, func(off int) bool { return off < m.cuts[i] }) {
		return true
	}
	return len(some) == 64 && slices.ContainsFunc(seg.lookup(b, -1), func(off int) bool { return off < m.cuts[i] })
}

// Match finds the maximal spans of text, at least minTokens words long and
// aligned to word boundaries, in the segments' records of versions up to
// upTo, with the sorted ids of the records holding each.
func Match(segs []*Segment, text string, minTokens int, upTo uint64) []abi.Span {
	spans, _ := MatchBounded(segs, text, minTokens, math.MaxInt, -1, upTo)
	return spans
}

// ErrTooManyRecords is MatchContext's error for a match whose spans name
// more records, counted once per span, than its bound.
var ErrTooManyRecords = errors.New("corpus: the match names too many records")

// MatchContext is Match with its answer and work bounded for datanets
// larger than memory, where a common word or phrase is in millions of
// records and naming them all would take the host's memory and time:
//   - a span held by more than maxSpanRecords records names none of them
//     (it is common to many, and no record's in particular): the first
//     maxSpanRecords+1 a scan meets depend on the segments' layout, which
//     merges change, and an answer must not;
//   - past maxRecords ids met by all spans' scans (up to
//     maxSpanRecords+1 a span) it gives up with ErrTooManyRecords;
//   - it gives up when ctx ends, with its error, looking between lookups and
//     every few thousand occurrences read.
func MatchContext(ctx context.Context, segs []*Segment, text string, minTokens int, upTo uint64, maxSpanRecords, maxRecords int) ([]abi.Span, error) {
	spans, _, err := match(ctx, segs, text, minTokens, math.MaxInt, -1, upTo, maxSpanRecords, maxRecords)
	return spans, err
}

// MatchBounded is Match with its work bounded whatever the text and
// records: every span is at most maxTokens words (a longer verbatim run is
// cut into consecutive spans, so no lookup compares more than maxTokens
// words), and each span's records are read from at most maxOccurrences of
// its occurrences. partial says some span's records may be incomplete.
func MatchBounded(segs []*Segment, text string, minTokens, maxTokens, maxOccurrences int, upTo uint64) (spans []abi.Span, partial bool) {
	spans, partial, _ = match(context.Background(), segs, text, minTokens, maxTokens, maxOccurrences, upTo, math.MaxInt, math.MaxInt)
	return spans, partial
}

func match(ctx context.Context, segs []*Segment, text string, minTokens, maxTokens, maxOccurrences int, upTo uint64, maxSpanRecords, maxRecords int) (spans []abi.Span, partial bool, err error) {
	minTokens = max(minTokens, 1)
	maxTokens = max(maxTokens, minTokens)
	words := tokenize.Spans(text)
	// The text is converted once: a conversion per lookup would copy it each time.
	m := newMatcher(segs, upTo, []byte(text), words)
	m.ctx, m.spanRecords, m.recordsLeft, m.minTokens = ctx, maxSpanRecords, maxRecords, minTokens
	prevEnd := -1
	// words[i:j] is the longest run from word i that occurs in the corpus.
	// If words[i:j] occurs, so does words[i+1:j] (it is part of it), so j
	// never moves back: one lookup per word of text, not one per word of
	// every span.
	// A run shorter than minTokens is no span, so a start whose run is not
	// yet known to be that long asks first for minTokens words at once:
	// if they occur, so does every shorter run, and if not, the start has
	// no span and the shorter runs need not be asked about.
	// end is where the piece of the text holding word i ends (see pieceEnd).
	j, end := 0, 0
	for i := 0; i+minTokens <= len(words); i++ {
		if m.stopped() {
			return nil, false, m.err
		}
		if i >= end {
			end = pieceEnd(m.text, words, i, len(words))
		}
		j = max(j, i)
		if j-i < minTokens {
			if i+minTokens > end || !m.occurs(i, i+minTokens-1) {
				continue
			}
			j = i + minTokens
		}
		for j < end && j-i < maxTokens && m.occurs(i, j) {
			j++
		}
		if m.err != nil {
			return nil, false, m.err
		}
		if j-i < minTokens || words[j-1][1] <= prevEnd {
			continue
		}
		start, end := words[i][0], words[j-1][1]
		recs, cut, err := m.someRecords(i, j-1, maxOccurrences)
		if err != nil {
			return nil, false, err
		}
		partial = partial || cut
		spans = append(spans, abi.Span{Start: start, End: end, Tokens: j - i, Records: recs})
		prevEnd = end
		if j-i == maxTokens {
			i = j - 1 // the run goes on: its next span starts after this one
		}
	}
	if m.err != nil {
		return nil, false, m.err
	}
	return spans, partial, nil
}

// pieceEnd returns one past the last word of the piece of text holding
// word i: the words up to the next NUL, or up to word limit if that comes
// first. A run never holds a NUL: records are kept joined by NULs, so one
// would match across two records, and only where both lie in one segment,
// past a version cut or not.
func pieceEnd(text []byte, words [][2]int, i, limit int) int {
	end := i + 1
	for end < limit && bytes.IndexByte(text[words[end-1][1]:words[end][0]], 0) < 0 {
		end++
	}
	return end
}

// someRecords returns the sorted ids of the counted records holding
// words i to j, read from at most n of their occurrences in each segment
// (all if n < 0); cut says there were more. It stops at one more than the
// matcher's records a span and then returns none, counts the ids it meets
// against its records left, and gives up when its context ends.
func (m *matcher) someRecords(i, j, n int) (ids []string, cut bool, err error) {
	b := m.run(i, j)
	seen := map[string]bool{}
	read := 0
	add := func(k, off int) bool {
		if len(seen) > m.spanRecords {
			return false // common to many: its records are not all named
		}
		if read++; read%4096 == 0 && m.stopped() {
			return false
		}
		seg := m.segs[k]
		if off >= m.cuts[k] {
			return true
		}
		if r := sort.SearchInts(seg.starts, off+1) - 1; r >= 0 {
			id := seg.ids.at(r)
			if !seen[id] {
				if m.recordsLeft--; m.recordsLeft < 0 {
					err = ErrTooManyRecords
					return false
				}
				seen[id] = true
			}
		}
		return true
	}
	for k, seg := range m.segs {
		got := 0
		each := func(off int) bool {
			got++
			return add(k, off) && got != n
		}
		if seg.sa != nil && m.mayHold(k, i, j) {
			// Read in place: a common run occurs millions of times. The
			// filters say, as they do for the match's lookups, which
			// segments need no search: most hold none of a span.
			lo, hi := 0, 0
			if m.mayStart(k, i, j) {
				lo, hi = seg.occurrences(b)
			}
			for _, off := range seg.sa[lo:hi] {
				if !each(int(off)) {
					break
				}
			}
			if seg.wordStarts && err == nil && got != n && len(seen) <= m.spanRecords {
				m.eachInWord(k, i, j, each)
			}
		} else if seg.sa == nil {
			for _, off := range seg.lookup(b, n) {
				if !each(off) {
					break
				}
			}
		}
		runtime.KeepAlive(seg)
		if err == nil {
			err = m.err
		}
		if err != nil {
			return nil, false, err
		}
		cut = cut || got == n
		if len(seen) > m.spanRecords {
			// Common to many: which records a scan met first depends on
			// the layout of the files, so it names none of them.
			return nil, cut, nil
		}
	}
	ids = make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, cut, nil
}
