package corpus

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"index/suffixarray"
	"maps"
	"math"
	"math/bits"
	"runtime"
	"runtime/debug"
	"slices"
	"unicode/utf8"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"github.com/tollgate-dev/tollgate/internal/fsutil"
	"github.com/tollgate-dev/tollgate/internal/tokenize"
	"golang.org/x/sys/unix"
)

// A segment file holds one segment, to be mapped rather than read:
//
//	header   80 bytes, little-endian:
//	         magic "TGCORPUS", format uint32, flags uint32 (Suffixes),
//	         first uint64, records uint64, text bytes uint64,
//	         suffix-array entries uint64, id bytes uint64,
//	         vocabulary bytes uint64, vocabulary-array entries uint64,
//	         checksum: xxhash64 of the header's first 72 bytes followed by
//	         the xxhash64 of everything after the header
//	text     the corpus: each record followed by a NUL byte, padded to 8
//	starts   records × uint64: each record's offset in the text
//	idOffs   (records+1) × uint64: record i's id is ids[idOffs[i]:idOffs[i+1]]
//	sa       entries × int32: the text's suffixes in order, padded to 8;
//	         with WordStarts, only those that start a word
//	vocab    with WordStarts, the text's distinct words in order, each
//	         after a NUL, and a NUL at the end, padded to 8
//	vocabSA  the vocabulary's suffixes in order, int32, padded to 8
//	filter   with WordStarts, filterWords(entries) × uint64: which runs
//	         of four words start a word of the text (see startFilter)
//	ids      id bytes
//
// A text too small for an array (smallCorpus) has no entries, no
// vocabulary and no filter. Every section starts on 8 bytes, so a mapping
// reads the tables in place. OpenSegment checks the magic, the format, that the
// sizes add up to the file's, and the checksum: a truncated, corrupt or
// newer file is refused (ErrBadSegment), never trusted; its owner deletes
// and rebuilds it.
const (
	fileMagic   = "TGCORPUS"
	FileFormat  = 4
	headerBytes = 80
	checksumAt  = 72
)

// Suffixes says which of a segment file's suffixes its array holds.
type Suffixes uint32

const (
	// AllSuffixes indexes every byte: any byte string is looked up. It
	// takes 4 bytes of file per corpus byte.
	AllSuffixes Suffixes = 0
	// WordStarts indexes only the suffixes that start a word (about one
	// byte in six of prose), with the text's vocabulary beside them, so a
	// file is about 1.7 bytes per corpus byte rather than 5.3. Match
	// finds the same spans and records in it: a run whose first word
	// starts a word of the record is looked up as it is; one whose first
	// word ends a longer word is found from its second word, and one word
	// inside a longer one through the vocabulary. Lookup finds only the
	// occurrences that start a word.
	WordStarts Suffixes = 1
)

// ErrBadSegment is returned for a segment file that cannot be used as it
// is: truncated, corrupt, of another format, or unreadable.
var ErrBadSegment = errors.New("corpus: bad segment file")

func pad8(n uint64) uint64 { return (n + 7) &^ 7 }

type layout struct {
	which                                  Suffixes
	first, records, text, entries, idBytes uint64
	vocab, vocabEntries                    uint64
}

func (l layout) startsOff() uint64  { return headerBytes + pad8(l.text) }
func (l layout) idOffsOff() uint64  { return l.startsOff() + 8*l.records }
func (l layout) saOff() uint64      { return l.idOffsOff() + 8*(l.records+1) }
func (l layout) vocabOff() uint64   { return l.saOff() + pad8(4*l.entries) }
func (l layout) vocabSAOff() uint64 { return l.vocabOff() + pad8(l.vocab) }
func (l layout) filterOff() uint64  { return l.vocabSAOff() + pad8(4*l.vocabEntries) }
func (l layout) idsOff() uint64     { return l.filterOff() + 8*l.filterWords() }
func (l layout) size() uint64       { return l.idsOff() + l.idBytes }

// filterWords is the size of the file's filter in words: a word-start
// array (which has a vocabulary) has one, an array of every suffix none.
func (l layout) filterWords() uint64 {
	if l.which != WordStarts || l.vocab == 0 {
		return 0
	}
	return filterWords(l.entries)
}

// WriteSegment writes records given in version order, the first added by
// version first, as a segment file at path. Its memory is the corpus and
// the suffix array being built (about five bytes per corpus byte), never
// a second copy of the array: that streams to the file. The file appears
// at path whole or not at all (written beside it, synced, renamed, and the
// directory synced).
func WriteSegment(path string, which Suffixes, first uint64, ids, contents []string) error {
	if len(ids) != len(contents) || len(ids) == 0 {
		return fmt.Errorf("corpus: %d ids for %d records", len(ids), len(contents))
	}
	b := NewBuilder(first)
	for i := range ids {
		b.Add(ids[i], contents[i])
	}
	return b.Write(path, which)
}

// Builder gathers records in version order into one corpus, so a segment
// is built from them without a second copy of their contents.
type Builder struct {
	first  uint64
	text   []byte
	starts []int
	ids    []string
}

// NewBuilder starts a segment whose first record was added by version first.
func NewBuilder(first uint64) *Builder { return &Builder{first: first} }

// Add appends a record.
func (b *Builder) Add(id, content string) {
	b.starts = append(b.starts, len(b.text))
	b.ids = append(b.ids, id)
	b.text = append(append(b.text, content...), 0)
}

// AddBytes appends a record whose content is bytes.
func (b *Builder) AddBytes(id string, content []byte) {
	b.starts = append(b.starts, len(b.text))
	b.ids = append(b.ids, id)
	b.text = append(append(b.text, content...), 0)
}

// Size is the corpus's bytes so far (a separator each record).
func (b *Builder) Size() int { return len(b.text) }

// Records is how many records were added.
func (b *Builder) Records() int { return len(b.ids) }

// First is the version that added the first record.
func (b *Builder) First() uint64 { return b.first }

// Segment indexes the records in memory.
func (b *Builder) Segment() *Segment {
	seg := &Segment{ids: idList{strs: b.ids}, starts: b.starts, first: b.first}
	seg.index(b.text)
	return seg
}

// Write writes the records as a segment file at path (see WriteSegment).
func (b *Builder) Write(path string, which Suffixes) error {
	if len(b.ids) == 0 {
		return fmt.Errorf("corpus: a segment of no records")
	}
	if len(b.text) > math.MaxInt32 {
		return fmt.Errorf("corpus: a segment of %d bytes is larger than 32-bit offsets reach", len(b.text))
	}
	return writeText(path, which, b.first, b.ids, b.text, b.starts)
}

// WriteMerged writes one segment file at path over the records of segs,
// which must hold consecutive versions in order. Two segments mapped from
// WordStarts files, written as WordStarts, are merged from their arrays in
// little memory, up to MaxMergedBytes; others are built again from their
// records, in as much memory as a build (see MaxMerged).
func WriteMerged(path string, which Suffixes, segs ...*Segment) error {
	var ids []string
	var starts []int
	n := 0
	for i, seg := range segs {
		if i > 0 && seg.first != segs[i-1].Last()+1 {
			return fmt.Errorf("corpus: merging versions %d-%d after %d", seg.first, seg.Last(), segs[i-1].Last())
		}
		n += len(seg.text)
	}
	if mergesArrays(which, segs) {
		return mergeWordStarts(path, segs[0], segs[1])
	}
	if n > math.MaxInt32 {
		return fmt.Errorf("corpus: a segment of %d bytes is larger than 32-bit offsets reach", n)
	}
	text := make([]byte, 0, n)
	// The advice deferred below is on the segments' mappings: keep them
	// mapped until it is given.
	defer runtime.KeepAlive(segs)
	for _, seg := range segs {
		if seg.mapped != nil {
			// The text is read in order: read ahead meanwhile, then drop it.
			fsutil.ForScans(seg.text)
			defer fsutil.ForLookups(seg.text)
		}
		for j := range seg.ids.len() {
			ids = append(ids, seg.ids.at(j))
			starts = append(starts, len(text)+seg.starts[j])
		}
		text = append(text, seg.text...)
		runtime.KeepAlive(seg)
	}
	return writeText(path, which, segs[0].first, ids, text, starts)
}

// writeText writes a segment file of text, records starting at starts.
func writeText(path string, which Suffixes, first uint64, ids []string, text []byte, starts []int) error {
	if which != AllSuffixes && which != WordStarts {
		return fmt.Errorf("corpus: unknown suffixes %d", which)
	}
	idBytes := uint64(0)
	for _, id := range ids {
		idBytes += uint64(len(id))
	}
	l := layout{which: which, first: first, records: uint64(len(ids)), text: uint64(len(text)), idBytes: idBytes}
	var starting []uint64 // with WordStarts, a bit per text byte that starts a word
	var vocab []byte
	if len(text) > smallCorpus {
		l.entries = uint64(len(text))
		if which == WordStarts {
			starting, vocab = wordsOf(text)
		}
		if starting == nil {
			l.which = AllSuffixes // see maxVocab
		} else {
			l.entries = 0
			for _, w := range starting {
				l.entries += uint64(bits.OnesCount64(w))
			}
			l.vocab, l.vocabEntries = uint64(len(vocab)), uint64(len(vocab))
		}
	}

	return fsutil.WriteHashed(path, headerBytes, func(w *bufio.Writer) error {
		put64 := func(v uint64) error {
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], v)
			_, err := w.Write(b[:])
			return err
		}
		w.Write(text)
		writeZeros(w, pad8(l.text)-l.text)
		for _, s := range starts {
			put64(uint64(s))
		}
		off := uint64(0)
		put64(0)
		for _, id := range ids {
			off += uint64(len(id))
			put64(off)
		}
		if l.entries > 0 {
			if len(text) >= 16<<20 {
				// The array is four bytes per corpus byte: let it reuse what
				// gathering the records left behind rather than add to it.
				debug.FreeOSMemory()
			}
			keep := func(int32) bool { return true }
			if starting != nil {
				keep = func(v int32) bool { return starting[v>>6]&(1<<(v&63)) != 0 }
			}
			if err := writeArray(w, text, l.entries, keep); err != nil {
				return err
			}
		}
		if l.vocab > 0 {
			w.Write(vocab)
			writeZeros(w, pad8(l.vocab)-l.vocab)
			if err := writeArray(w, vocab, l.vocabEntries, func(int32) bool { return true }); err != nil {
				return err
			}
			writeStartFilter(w, l.entries, text)
		}
		for _, id := range ids {
			w.WriteString(id)
		}
		return nil
	}, func(sum uint64) []byte { return header(l, sum) })
}

// writeWords writes ws as little-endian uint64s.
func writeWords(w *bufio.Writer, ws []uint64) {
	var b [8]byte
	for _, v := range ws {
		binary.LittleEndian.PutUint64(b[:], v)
		w.Write(b[:])
	}
}

func writeZeros(w *bufio.Writer, n uint64) {
	var zeros [8]byte
	w.Write(zeros[:n])
}

// writeArray writes the suffix array of text, only the offsets keep
// keeps, which must be entries, as int32s padded to 8 bytes. The array
// streams to w rather than being copied: one goroutine reads it from
// index/suffixarray's serialisation in batches, another keeps and writes
// them (a keep that reads a table at each offset waits on memory; this way
// it does so on another core).
func writeArray(w *bufio.Writer, text []byte, entries uint64, keep func(int32) bool) error {
	idx := suffixarray.New(text)
	const batch = 1 << 16
	full, free := make(chan []int32, 2), make(chan []int32, 3)
	for range cap(free) {
		free <- make([]int32, 0, batch)
	}
	kept := uint64(0)
	written := make(chan error, 1)
	go func() {
		buf := make([]byte, 0, 4*batch)
		var err error
		for vs := range full {
			for _, v := range vs {
				if err == nil && keep(v) {
					kept++
					buf = binary.LittleEndian.AppendUint32(buf, uint32(v))
				}
			}
			if err == nil {
				_, err = w.Write(buf)
			}
			buf = buf[:0]
			free <- vs[:0]
		}
		written <- err
	}()
	cur := <-free
	r := &saReader{put: func(v int32) error {
		if cur = append(cur, v); len(cur) == batch {
			full <- cur
			cur = <-free
		}
		return nil
	}}
	err := idx.Write(r)
	full <- cur
	close(full)
	if werr := <-written; err == nil {
		err = werr
	}
	if err != nil {
		return fmt.Errorf("corpus: write suffix array: %w", err)
	}
	if r.n != len(text) || kept != entries {
		return fmt.Errorf("corpus: suffix array of %d entries (%d kept) for %d bytes (%d to keep)", r.n, kept, len(text), entries)
	}
	writeZeros(w, pad8(4*entries)-4*entries)
	return nil
}

// maxVocab bounds a WordStarts file's vocabulary, as a share of its text
// (a variable for tests). Text with few separators (Chinese or Japanese,
// identifiers, base64) has words nearly as long as its records, so a
// vocabulary nearly its size, and its suffix array five bytes per byte; such
// a segment is written with every suffix (AllSuffixes), and matches the
// same.
var maxVocab = 1.0 / 16

// wordsOf marks the bytes of text that start a word and returns the
// text's distinct words in order, each after a NUL, with a NUL at the end;
// or nil if they would be more than maxVocab of the text.
func wordsOf(text []byte) (starting []uint64, vocab []byte) {
	starting = make([]uint64, (len(text)+63)/64)
	seen := map[string]struct{}{}
	size, most := 1, int(maxVocab*float64(len(text)))
	eachWord(text, func(start, end int) bool {
		starting[start>>6] |= 1 << (start & 63)
		if _, ok := seen[string(text[start:end])]; !ok {
			seen[string(text[start:end])] = struct{}{}
			size += end - start + 1
		}
		return size <= most
	})
	if size > most {
		return nil, nil
	}
	words := slices.Sorted(maps.Keys(seen))
	vocab = []byte{0}
	for _, w := range words {
		vocab = append(append(vocab, w...), 0)
	}
	return starting, vocab
}

// eachWord calls fn with where each word of text starts and ends, in
// order, until fn returns false. Words are tokenize's (runs of letters and
// digits), decoded as tokenize.Spans decodes them.
func eachWord(text []byte, fn func(start, end int) bool) {
	start := -1
	for i := 0; i < len(text); {
		r, n := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRune(text[i:])
		}
		switch word := tokenize.IsWord(r); {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			if !fn(start, i) {
				return
			}
			start = -1
		}
		i += n
	}
	if start >= 0 {
		fn(start, len(text))
	}
}

func header(l layout, sum uint64) []byte {
	h := make([]byte, headerBytes)
	copy(h, fileMagic)
	binary.LittleEndian.PutUint32(h[8:], FileFormat)
	binary.LittleEndian.PutUint32(h[12:], uint32(l.which))
	for i, v := range []uint64{l.first, l.records, l.text, l.entries, l.idBytes, l.vocab, l.vocabEntries} {
		binary.LittleEndian.PutUint64(h[16+8*i:], v)
	}
	binary.LittleEndian.PutUint64(h[checksumAt:], checksum(h, sum))
	return h
}

// checksum covers the header's fields and, through its hash, the body.
func checksum(header []byte, body uint64) uint64 {
	b := binary.LittleEndian.AppendUint64(append([]byte(nil), header[:checksumAt]...), body)
	return xxhash.Sum64(b)
}

// littleEndian is whether this machine reads the file's tables in place.
var littleEndian = func() bool { x := uint16(1); return *(*byte)(unsafe.Pointer(&x)) == 1 }()

// OpenSegment maps the segment file at path, checking it whole first (see
// the format above).
func OpenSegment(path string) (*Segment, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrBadSegment, path, fmt.Sprintf(format, a...))
	}
	if !littleEndian || unsafe.Sizeof(int(0)) != 8 {
		return nil, bad("this machine cannot map the format (it needs 64-bit little-endian)")
	}
	// An error opening or mapping the file (not found, out of file
	// descriptors or address space) says nothing of its contents: it is
	// returned as it is, not as ErrBadSegment, so that the file is kept.
	m, err := fsutil.MapReadOnly(path)
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	if len(m) < headerBytes {
		if m != nil {
			unix.Munmap(m)
		}
		return nil, bad("%d bytes, shorter than a header", len(m))
	}
	seg, err := segmentOf(m)
	if err != nil {
		unix.Munmap(m)
		return nil, bad("%v", err)
	}
	// The check read every page: unmap them from the process, leaving them
	// in the page cache, or the whole file would count as the process's
	// memory until the kernel needs it. A lookup maps again what it reads,
	// and a miss reads that page alone (a binary search of a suffix array
	// touches scattered pages).
	fsutil.ForLookups(m)
	// The mapping lives as long as the segment: a match holds the segment
	// while it reads, so one replaced by a merge is unmapped once the last
	// match over it is done, and its file may be deleted at once.
	runtime.AddCleanup(seg, func(m []byte) { unix.Munmap(m) }, m)
	return seg, nil
}

func segmentOf(m []byte) (*Segment, error) {
	if string(m[:8]) != fileMagic {
		return nil, errors.New("not a segment file")
	}
	if v := binary.LittleEndian.Uint32(m[8:]); v != FileFormat {
		return nil, fmt.Errorf("format %d, this build reads %d", v, FileFormat)
	}
	which := Suffixes(binary.LittleEndian.Uint32(m[12:]))
	if which != AllSuffixes && which != WordStarts {
		return nil, fmt.Errorf("unknown flags %#x", uint32(which))
	}
	u := func(i int) uint64 { return binary.LittleEndian.Uint64(m[16+8*i:]) }
	l := layout{which: which, first: u(0), records: u(1), text: u(2), entries: u(3), idBytes: u(4), vocab: u(5), vocabEntries: u(6)}
	const most = 1 << 40
	switch {
	case l.records == 0 || l.records > most || l.text > math.MaxInt32 || l.idBytes > most || l.vocab > math.MaxInt32:
		return nil, fmt.Errorf("sizes out of range (%d records, %d bytes)", l.records, l.text)
	case which == AllSuffixes && (l.entries != 0 && l.entries != l.text || l.entries == 0 && l.text > smallCorpus || l.vocab != 0 || l.vocabEntries != 0):
		return nil, fmt.Errorf("%d suffix-array entries for %d bytes, %d of vocabulary", l.entries, l.text, l.vocab)
	case which == WordStarts && l.text > smallCorpus && (l.entries > l.text || l.vocab < 1 || l.vocabEntries != l.vocab),
		which == WordStarts && l.text <= smallCorpus && (l.entries != 0 || l.vocab != 0 || l.vocabEntries != 0):
		return nil, fmt.Errorf("%d word starts in %d bytes, %d vocabulary entries for %d bytes", l.entries, l.text, l.vocabEntries, l.vocab)
	case l.size() != uint64(len(m)):
		return nil, fmt.Errorf("%d bytes, the header says %d", len(m), l.size())
	}
	if got := checksum(m, xxhash.Sum64(m[headerBytes:])); got != u(7) {
		return nil, fmt.Errorf("checksum %016x, the header says %016x", got, u(7))
	}
	seg := &Segment{first: l.first, mapped: m, text: m[headerBytes : headerBytes+l.text], suffixes: which}
	seg.starts = unsafe.Slice((*int)(unsafe.Pointer(&m[l.startsOff()])), l.records)
	offs := unsafe.Slice((*uint64)(unsafe.Pointer(&m[l.idOffsOff()])), l.records+1)
	seg.ids = idList{offs: offs, data: m[l.idsOff():]}
	// A text too small for an array is scanned, whatever the file's suffixes.
	seg.wordStarts = which == WordStarts && l.text > smallCorpus
	if l.entries > 0 || seg.wordStarts {
		seg.sa = unsafe.Slice((*int32)(unsafe.Pointer(&m[l.saOff()])), l.entries)
	}
	if seg.wordStarts {
		seg.vocab = m[l.vocabOff() : l.vocabOff()+l.vocab]
		seg.vocabSA = unsafe.Slice((*int32)(unsafe.Pointer(&m[l.vocabSAOff()])), l.vocabEntries)
		if seg.vocab[0] != 0 || seg.vocab[l.vocab-1] != 0 {
			return nil, errors.New("the vocabulary is not NUL-separated words")
		}
		for _, v := range seg.vocabSA {
			if v < 0 || uint64(v) >= l.vocab {
				return nil, fmt.Errorf("vocabulary offset %d outside it", v)
			}
		}
	}
	// The checksum says the bytes are those written; these say that what
	// was written is a segment, so no lookup can index out of the mapping.
	prev := -1
	for i, s := range seg.starts {
		if s <= prev || uint64(s) >= l.text || (s > 0 && seg.text[s-1] != 0) {
			return nil, fmt.Errorf("record %d starts at %d", i, s)
		}
		prev = s
	}
	if l.text == 0 || seg.text[l.text-1] != 0 || seg.starts[0] != 0 {
		return nil, errors.New("the text does not hold whole records")
	}
	if offs[0] != 0 || offs[l.records] != l.idBytes {
		return nil, errors.New("id table does not cover the ids")
	}
	for i := range l.records {
		if offs[i] > offs[i+1] {
			return nil, fmt.Errorf("id %d ends before it starts", i)
		}
	}
	for _, v := range seg.sa {
		if v < 0 || uint64(v) >= l.text {
			return nil, fmt.Errorf("suffix offset %d outside the text", v)
		}
	}
	shape := allSuffixFence
	if seg.wordStarts {
		shape = wordStartFence
	}
	seg.fence = newFence(seg.text, seg.sa, shape)
	if n := l.filterWords(); n > 0 {
		seg.filter = unsafe.Slice((*uint64)(unsafe.Pointer(&m[l.filterOff()])), n)
	}
	if seg.sa == nil {
		// A file's text too small to be worth an array on disk still
		// serves every match while the file is mapped: one scan of it a
		// lookup costs more than indexing it once.
		seg.idx = suffixarray.New(seg.text)
	}
	return seg, nil
}
