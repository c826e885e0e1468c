package corpus

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"unicode/utf8"

	"github.com/tollgate-dev/tollgate/internal/fsutil"
	"github.com/tollgate-dev/tollgate/internal/tokenize"
)

// MaxMergedBytes bounds the corpus of a segment merged from two WordStarts
// files: its array holds 32-bit offsets. Such a merge reads its inputs'
// arrays in order and writes the merged one as it goes, so its memory does
// not grow with the segments, unlike a build (MaxSegmentBytes).
const MaxMergedBytes = math.MaxInt32

// mergeCompares bounds the bytes a merge reads comparing suffixes, per
// corpus byte (a variable for tests). Suffixes of distinct text differ
// within a few words; records that repeat long runs (templates) make each
// comparison long, and such a merge is refused rather than left to run
// quadratically: SA-IS, which a build uses, is linear.
var mergeCompares = 256

// maxMovedBytes bounds the tail of a merge's older segment whose suffixes
// are sorted again (see mergeArrays): records are distinct, so it is
// normally a few words; a longer one is refused rather than sorted.
const maxMovedBytes = 1 << 20

// MaxMerged is the largest corpus WriteMerged writes from segs as which:
// MaxMergedBytes where it merges their arrays, MaxSegmentBytes where it
// builds one.
func MaxMerged(which Suffixes, segs ...*Segment) int {
	if mergesArrays(which, segs) {
		return MaxMergedBytes
	}
	return MaxSegmentBytes
}

// mergesArrays says WriteMerged merges segs' arrays rather than build one:
// two segments mapped from WordStarts files, written as WordStarts.
func mergesArrays(which Suffixes, segs []*Segment) bool {
	return which == WordStarts && len(segs) == 2 && segs[0].wordStarts && segs[1].wordStarts
}

// joined reads two texts as one, a's then b's.
type joined struct {
	a, b     []byte
	compared int // bytes read by cmp
	budget   int // past which cmp gives up, answering 0
}

func (t *joined) from(i int) []byte {
	if i < len(t.a) {
		return t.a[i:]
	}
	return t.b[i-len(t.a):]
}

// cmp compares the joined text's suffixes at i and j, which differ,
// adding to compared about how many bytes it read: it compares in
// growing steps. Past the budget it answers 0, and the caller gives up.
func (t *joined) cmp(i, j int) int {
	end := len(t.a) + len(t.b)
	for step := 32; ; step = min(2*step, 1<<20) {
		if t.compared > t.budget {
			return 0
		}
		x, y := t.from(i), t.from(j)
		n := min(len(x), len(y), step)
		t.compared += n
		if c := bytes.Compare(x[:n], y[:n]); c != 0 {
			return c
		}
		// One of them reached the end of its text: the whole text's end
		// (a prefix of the other, so less), or a's, where it goes on in b.
		i, j = i+n, j+n
		switch {
		case i == end:
			return -1
		case j == end:
			return 1
		}
	}
}

// mergeWordStarts writes the segment file of a's records then b's, both
// mapped from WordStarts files, from their arrays rather than by building
// one: see mergeArrays.
func mergeWordStarts(path string, a, b *Segment) error {
	n := len(a.text) + len(b.text)
	if n > MaxMergedBytes {
		return fmt.Errorf("corpus: a segment of %d bytes is larger than 32-bit offsets reach", n)
	}
	defer runtime.KeepAlive(a) // their mappings, until written
	defer runtime.KeepAlive(b)
	moved, err := a.repeatedTail()
	if err != nil {
		return err
	}
	vocab := unionVocab(a.vocab, b.vocab)
	l := layout{which: WordStarts, first: a.first, records: uint64(len(a.starts) + len(b.starts)),
		text: uint64(n), entries: uint64(len(a.sa) + len(b.sa)),
		idBytes: a.ids.offs[len(a.ids.offs)-1] + b.ids.offs[len(b.ids.offs)-1],
		vocab:   uint64(len(vocab)), vocabEntries: uint64(len(vocab))}
	for _, seg := range []*Segment{a, b} {
		// Read in order: read ahead meanwhile, then drop it.
		fsutil.ForScans(seg.mapped)
		defer fsutil.ForLookups(seg.mapped)
	}
	return fsutil.WriteHashed(path, headerBytes, func(w *bufio.Writer) error {
		w.Write(a.text)
		w.Write(b.text)
		writeZeros(w, pad8(l.text)-l.text)
		var v [8]byte
		for k, seg := range []*Segment{a, b} {
			for _, s := range seg.starts {
				binary.LittleEndian.PutUint64(v[:], uint64(k*len(a.text)+s))
				w.Write(v[:])
			}
		}
		w.Write(make([]byte, 8)) // the first id starts at 0
		base := uint64(0)
		for _, seg := range []*Segment{a, b} {
			for _, off := range seg.ids.offs[1:] {
				binary.LittleEndian.PutUint64(v[:], base+off)
				w.Write(v[:])
			}
			base += seg.ids.offs[len(seg.ids.offs)-1]
		}
		if err := mergeArrays(w, &joined{a: a.text, b: b.text}, a.sa, b.sa, moved); err != nil {
			return err
		}
		writeZeros(w, pad8(4*l.entries)-4*l.entries)
		w.Write(vocab)
		writeZeros(w, pad8(l.vocab)-l.vocab)
		if err := writeArray(w, vocab, l.vocabEntries, func(int32) bool { return true }); err != nil {
			return err
		}
		writeStartFilter(w, l.entries, a.text, b.text)
		for _, seg := range []*Segment{a, b} {
			w.Write(seg.ids.data[:seg.ids.offs[len(seg.ids.offs)-1]])
		}
		return nil
	}, func(sum uint64) []byte { return header(l, sum) })
}

// repeatedTail is the offsets of the suffixes in a WordStarts segment's
// array that are a proper prefix of another of its suffixes. Each runs to
// the text's end, so in a merged segment it goes on into the next
// segment's text and may sort elsewhere; every other pair of suffixes
// differs before either ends and keeps its order. If a suffix from a word
// start occurs twice, so does every later one: they are the suffixes from
// the word starts of the text's last bytes, found by a binary search over
// the word starts of its last maxMovedBytes.
func (seg *Segment) repeatedTail() ([]int32, error) {
	text := seg.text
	from := max(0, len(text)-maxMovedBytes)
	var starts []int32
	for p := from; p < len(text); p++ {
		if wordStart(text, p) {
			starts = append(starts, int32(p))
		}
	}
	repeated := func(k int) bool {
		lo, hi := seg.narrow(text[starts[k]:], 0, len(seg.sa))
		return hi-lo >= 2
	}
	k := sort.Search(len(starts), repeated)
	if k == 0 && from > 0 {
		// The repeated tail may go on before the window: it does if the
		// last word start before it repeats too.
		p := from - 1
		for p >= 0 && !wordStart(text, p) {
			p--
		}
		if lo, hi := seg.narrow(text[max(p, 0):], 0, len(seg.sa)); p >= 0 && hi-lo >= 2 {
			return nil, fmt.Errorf("corpus: more than the last %d bytes of a segment occur in it twice", len(text)-from)
		}
	}
	return starts[k:], nil
}

// wordStart reports whether a word starts at byte p of text.
func wordStart(text []byte, p int) bool {
	if c := text[p]; c >= 0x80 && c < 0xC0 {
		return false // inside a rune
	}
	r, _ := utf8.DecodeRune(text[p:])
	return tokenize.IsWord(r) && !wordBefore(text, p)
}

// mergeArrays writes the array of the joined text from a's array and b's:
// a's suffixes but those in moved (which may sort elsewhere once they go on
// into b's text), moved sorted again, and b's, merged in order.
func mergeArrays(w *bufio.Writer, t *joined, a, b []int32, moved []int32) error {
	t.budget = mergeCompares * (len(t.a) + len(t.b))
	budget := t.budget
	over := func() error {
		return fmt.Errorf("corpus: merging read more than %d bytes per corpus byte comparing suffixes (records repeat long runs of text); the files are kept as they are", mergeCompares)
	}
	first := int32(len(t.a))
	if len(moved) > 0 {
		first = slices.Min(moved)
	}
	// Past the budget cmp answers 0: the sort ends at once, and the merge.
	slices.SortFunc(moved, func(x, y int32) int { return t.cmp(int(x), int(y)) })
	if t.compared > budget {
		return over()
	}
	base := int32(len(t.a))
	next := func(s []int32, skip bool) []int32 {
		for skip && len(s) > 0 && s[0] >= first {
			s = s[1:]
		}
		return s
	}
	a = next(a, true)
	buf := make([]byte, 0, 64<<10)
	put := func(v int32) error {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(v))
		if len(buf) == cap(buf) {
			_, err := w.Write(buf)
			buf = buf[:0]
			return err
		}
		return nil
	}
	for len(a) > 0 || len(moved) > 0 || len(b) > 0 {
		// The least of the three lists' heads.
		v, from := int32(0), 0
		for k, s := range [][]int32{a, moved, b} {
			if len(s) == 0 {
				continue
			}
			x := s[0]
			if k == 2 {
				x += base
			}
			if from == 0 || t.cmp(int(x), int(v)) < 0 {
				v, from = x, k+1
			}
		}
		switch from {
		case 1:
			a = next(a[1:], true)
		case 2:
			moved = moved[1:]
		case 3:
			b = b[1:]
		}
		if err := put(v); err != nil {
			return err
		}
		if t.compared > budget {
			return over()
		}
	}
	_, err := w.Write(buf)
	return err
}

// unionVocab merges two vocabularies (each word after a NUL, a NUL at the
// end, in order) into one.
func unionVocab(a, b []byte) []byte {
	out := make([]byte, 1, len(a)+len(b))
	word := func(v []byte) ([]byte, []byte) {
		if len(v) <= 1 {
			return nil, nil
		}
		i := bytes.IndexByte(v[1:], 0) + 1
		return v[1:i], v[i:]
	}
	x, a := word(a)
	y, b := word(b)
	for x != nil || y != nil {
		var next []byte
		switch c := bytes.Compare(x, y); {
		case y == nil || x != nil && c < 0:
			next, x = x, nil
		case x == nil || c > 0:
			next, y = y, nil
		default:
			next, x, y = x, nil, nil
		}
		out = append(append(out, next...), 0)
		if x == nil {
			x, a = word(a)
		}
		if y == nil {
			y, b = word(b)
		}
	}
	return out
}
