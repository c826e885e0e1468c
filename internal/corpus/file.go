package corpus

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"index/suffixarray"
	"math"
	"runtime"
	"runtime/debug"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"github.com/tollgate-dev/tollgate/internal/fsutil"
	"golang.org/x/sys/unix"
)

// A segment file holds one segment, to be mapped rather than read:
//
//	header   64 bytes, little-endian:
//	         magic "TGCORPUS", format uint32, flags uint32 (0),
//	         first uint64, records uint64, text bytes uint64,
//	         suffix-array entries uint64 (0 or text bytes), id bytes uint64,
//	         checksum: xxhash64 of the header's first 56 bytes followed by
//	         the xxhash64 of everything after the header
//	text     the corpus: each record followed by a NUL byte, padded to 8
//	starts   records × uint64: each record's offset in the text
//	idOffs   (records+1) × uint64: record i's id is ids[idOffs[i]:idOffs[i+1]]
//	sa       entries × int32: the text's suffixes in order, padded to 8
//	ids      id bytes
//
// Every section starts on 8 bytes, so a mapping reads the tables in place.
// OpenSegment checks the magic, the format, that the sizes add up to the
// file's, and the checksum: a truncated, corrupt or newer file is refused
// (ErrBadSegment), never trusted; its owner deletes and rebuilds it.
const (
	fileMagic   = "TGCORPUS"
	FileFormat  = 1
	headerBytes = 64
)

// ErrBadSegment is returned for a segment file that cannot be used as it
// is: truncated, corrupt, of another format, or unreadable.
var ErrBadSegment = errors.New("corpus: bad segment file")

func pad8(n uint64) uint64 { return (n + 7) &^ 7 }

type layout struct {
	first, records, text, entries, idBytes uint64
}

func (l layout) startsOff() uint64 { return headerBytes + pad8(l.text) }
func (l layout) idOffsOff() uint64 { return l.startsOff() + 8*l.records }
func (l layout) saOff() uint64     { return l.idOffsOff() + 8*(l.records+1) }
func (l layout) idsOff() uint64    { return l.saOff() + pad8(4*l.entries) }
func (l layout) size() uint64      { return l.idsOff() + l.idBytes }

// WriteSegment writes records given in version order, the first added by
// version first, as a segment file at path. Its memory is the corpus and
// the suffix array being built (about five bytes per corpus byte), never
// a second copy of the array: that streams to the file. The file appears
// at path whole or not at all (written beside it, synced, renamed, and the
// directory synced).
func WriteSegment(path string, first uint64, ids, contents []string) error {
	if len(ids) != len(contents) || len(ids) == 0 {
		return fmt.Errorf("corpus: %d ids for %d records", len(ids), len(contents))
	}
	b := NewBuilder(first)
	for i := range ids {
		b.Add(ids[i], contents[i])
	}
	return b.Write(path)
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
func (b *Builder) Write(path string) error {
	if len(b.ids) == 0 {
		return fmt.Errorf("corpus: a segment of no records")
	}
	if len(b.text) > math.MaxInt32 {
		return fmt.Errorf("corpus: a segment of %d bytes is larger than 32-bit offsets reach", len(b.text))
	}
	return writeText(path, b.first, b.ids, b.text, b.starts)
}

// WriteMerged writes one segment file at path over the records of segs,
// which must hold consecutive versions in order.
func WriteMerged(path string, segs ...*Segment) error {
	var ids []string
	var starts []int
	n := 0
	for i, seg := range segs {
		if i > 0 && seg.first != segs[i-1].Last()+1 {
			return fmt.Errorf("corpus: merging versions %d-%d after %d", seg.first, seg.Last(), segs[i-1].Last())
		}
		n += len(seg.text)
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
	return writeText(path, segs[0].first, ids, text, starts)
}

// writeText writes a segment file of text, records starting at starts.
func writeText(path string, first uint64, ids []string, text []byte, starts []int) error {
	idBytes := uint64(0)
	for _, id := range ids {
		idBytes += uint64(len(id))
	}
	l := layout{first: first, records: uint64(len(ids)), text: uint64(len(text)), idBytes: idBytes}
	if len(text) > smallCorpus {
		l.entries = uint64(len(text))
	}

	return fsutil.WriteHashed(path, headerBytes, func(w *bufio.Writer) error {
		put64 := func(v uint64) error {
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], v)
			_, err := w.Write(b[:])
			return err
		}
		zeros := make([]byte, 8)
		w.Write(text)
		w.Write(zeros[:pad8(l.text)-l.text])
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
			idx := suffixarray.New(text)
			buf := make([]byte, 0, 64<<10)
			r := &saReader{put: func(v int32) error {
				buf = binary.LittleEndian.AppendUint32(buf, uint32(v))
				if len(buf) == cap(buf) {
					_, err := w.Write(buf)
					buf = buf[:0]
					return err
				}
				return nil
			}}
			err := idx.Write(r)
			if err == nil {
				_, err = w.Write(buf)
			}
			if err != nil {
				return fmt.Errorf("corpus: write suffix array: %w", err)
			}
			if uint64(r.n) != l.entries {
				return fmt.Errorf("corpus: suffix array of %d entries for %d bytes", r.n, l.entries)
			}
			w.Write(zeros[:pad8(4*l.entries)-4*l.entries])
		}
		for _, id := range ids {
			w.WriteString(id)
		}
		return nil
	}, func(sum uint64) []byte { return header(l, sum) })
}

func header(l layout, sum uint64) []byte {
	h := make([]byte, headerBytes)
	copy(h, fileMagic)
	binary.LittleEndian.PutUint32(h[8:], FileFormat)
	for i, v := range []uint64{l.first, l.records, l.text, l.entries, l.idBytes} {
		binary.LittleEndian.PutUint64(h[16+8*i:], v)
	}
	binary.LittleEndian.PutUint64(h[56:], checksum(h, sum))
	return h
}

// checksum covers the header's fields and, through its hash, the body.
func checksum(header []byte, body uint64) uint64 {
	b := binary.LittleEndian.AppendUint64(append([]byte(nil), header[:56]...), body)
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
	if flags := binary.LittleEndian.Uint32(m[12:]); flags != 0 {
		return nil, fmt.Errorf("unknown flags %#x", flags)
	}
	u := func(i int) uint64 { return binary.LittleEndian.Uint64(m[16+8*i:]) }
	l := layout{first: u(0), records: u(1), text: u(2), entries: u(3), idBytes: u(4)}
	const most = 1 << 40
	switch {
	case l.records == 0 || l.records > most || l.text > math.MaxInt32 || l.idBytes > most:
		return nil, fmt.Errorf("sizes out of range (%d records, %d bytes)", l.records, l.text)
	case l.entries != 0 && l.entries != l.text:
		return nil, fmt.Errorf("%d suffix-array entries for %d bytes", l.entries, l.text)
	case l.size() != uint64(len(m)):
		return nil, fmt.Errorf("%d bytes, the header says %d", len(m), l.size())
	}
	if got := checksum(m, xxhash.Sum64(m[headerBytes:])); got != u(5) {
		return nil, fmt.Errorf("checksum %016x, the header says %016x", got, u(5))
	}
	seg := &Segment{first: l.first, mapped: m, text: m[headerBytes : headerBytes+l.text]}
	seg.starts = unsafe.Slice((*int)(unsafe.Pointer(&m[l.startsOff()])), l.records)
	offs := unsafe.Slice((*uint64)(unsafe.Pointer(&m[l.idOffsOff()])), l.records+1)
	seg.ids = idList{offs: offs, data: m[l.idsOff():]}
	if l.entries > 0 {
		seg.sa = unsafe.Slice((*int32)(unsafe.Pointer(&m[l.saOff()])), l.entries)
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
	seg.fence = newFence(seg.text, seg.sa)
	return seg, nil
}
