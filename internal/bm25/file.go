package bm25

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"golang.org/x/sys/unix"

	"github.com/tollgate-dev/tollgate/internal/fsutil"
)

// A file holds one part of a datanet's index, to be mapped rather than
// read, so that a datanet's postings need not fit in memory:
//
//	header    128 bytes, little-endian: magic "TGBM25IX", format uint32,
//	          flags uint32 (0), first uint64 (the version of its first
//	          record, which starts a block), records uint64 (whole blocks),
//	          total uint64
//	          (the records' lengths summed), terms uint64, term bytes
//	          uint64, postings uint64, blocks uint64, id bytes uint64,
//	          packed uint64, zeros up to byte 120, then the checksum:
//	          xxhash64 of the header's first 120 bytes followed by the
//	          xxhash64 of everything after the header
//	lengths   records × uint32: each record's length in words
//	idOffs    (records+1) × uint64: record i's id is ids[idOffs[i]:idOffs[i+1]]
//	ids       id bytes
//	termOffs  (terms+1) × uint64: term i is termBytes[termOffs[i]:termOffs[i+1]]
//	termBytes the terms in byte order
//	info      (terms+1) × {post uint64, block uint64, packed uint64,
//	          maxTF uint32, minLen uint32}: term i's postings are
//	          post[i]..post[i+1], its block bounds listed in
//	          block[i]..block[i+1] or packed in packed[i]..packed[i+1] (a
//	          common term has one, a rare term neither; see packed.go),
//	          with its largest frequency and shortest record
//	docs      postings × uint32: record numbers (version-1), by term, in order
//	tfs       postings × uint16: each posting's frequency
//	blocks    blocks × {id uint32, start uint32, maxTF uint16, minLen uint16}
//	starts    packed × uint32: where each packed block's postings start
//	bounds    packed × {maxTF uint8, minLen uint8}, rounded (packed.go)
//
// Format 1 listed every common term's blocks, and its info had no packed
// field; a file of format 1 is refused like any other, and rebuilt.
//
// Every section starts on 8 bytes, so a mapping reads the tables in place.
// OpenFile checks the magic, the format, that the sizes add up to the
// file's, the checksum, and that the tables are an index (sorted terms,
// postings in order and in range): a truncated, corrupt or newer file is
// refused (ErrBadFile), never trusted; its owner deletes and rebuilds it.
const (
	fileMagic   = "TGBM25IX"
	FileFormat  = 2
	headerBytes = 128
)

// ErrBadFile is returned for an index file that cannot be used as it is:
// truncated, corrupt, of another format, or unreadable.
var ErrBadFile = errors.New("bm25: bad index file")

// termInfo is one term's entry in a file's info table.
type termInfo struct {
	post, block, packed uint64
	maxTF, minLen       uint32
}

type fileLayout struct {
	first, records, total, terms, termBytes, postings, blocks, idBytes, packed uint64
}

func pad8(n uint64) uint64 { return (n + 7) &^ 7 }

func (l fileLayout) idOffsOff() uint64    { return headerBytes + pad8(4*l.records) }
func (l fileLayout) idsOff() uint64       { return l.idOffsOff() + 8*(l.records+1) }
func (l fileLayout) termOffsOff() uint64  { return l.idsOff() + pad8(l.idBytes) }
func (l fileLayout) termBytesOff() uint64 { return l.termOffsOff() + 8*(l.terms+1) }
func (l fileLayout) infoOff() uint64      { return l.termBytesOff() + pad8(l.termBytes) }
func (l fileLayout) docsOff() uint64      { return l.infoOff() + 32*(l.terms+1) }
func (l fileLayout) tfsOff() uint64       { return l.docsOff() + pad8(4*l.postings) }
func (l fileLayout) blocksOff() uint64    { return l.tfsOff() + pad8(2*l.postings) }
func (l fileLayout) startsOff() uint64    { return l.blocksOff() + pad8(12*l.blocks) }
func (l fileLayout) boundsOff() uint64    { return l.startsOff() + pad8(4*l.packed) }
func (l fileLayout) size() uint64         { return l.boundsOff() + pad8(2*l.packed) }

var _ [12]byte = [unsafe.Sizeof(block{})]byte{}
var _ [32]byte = [unsafe.Sizeof(termInfo{})]byte{}
var _ [2]byte = [unsafe.Sizeof(packedBound{})]byte{}

// File is a mapped index file: one part of a datanet's index.
type File struct {
	m         []byte
	base      uint32
	total     uint64
	docLen    []uint32
	idOffs    []uint64
	ids       []byte
	termOffs  []uint64
	termBytes []byte
	info      []termInfo
	docs      []uint32
	tfs       []uint16
	blocks    []block
	starts    []uint32
	bounds    []packedBound
}

// First is the version of the file's first record.
func (f *File) First() uint64 { return uint64(f.base) + 1 }

// Last is the version of the file's last record.
func (f *File) Last() uint64 { return uint64(f.base) + uint64(len(f.docLen)) }

// Size is the file's bytes.
func (f *File) Size() int { return len(f.m) }

func (f *File) span() (uint32, int) { return f.base, len(f.docLen) }
func (f *File) lengths() []uint32   { return f.docLen }
func (f *File) totalLen() uint64    { return f.total }
func (f *File) rlock()              {}
func (f *File) runlock()            {}

func (f *File) idAt(i uint32) string {
	return string(f.ids[f.idOffs[i]:f.idOffs[i+1]])
}

func (f *File) term(i int) string {
	b := f.termBytes[f.termOffs[i]:f.termOffs[i+1]]
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func (f *File) postings(term string) *termPostings {
	i, ok := searchTerms(len(f.info)-1, func(i int) int { return strings.Compare(f.term(i), term) })
	if !ok {
		return nil
	}
	return f.postingsAt(i)
}

// postingsAt returns term i's postings, in the mapping.
func (f *File) postingsAt(i int) *termPostings {
	a, b := f.info[i], f.info[i+1]
	tp := &termPostings{docs: f.docs[a.post:b.post], tfs: f.tfs[a.post:b.post], maxTF: a.maxTF, minLen: a.minLen}
	if b.block > a.block {
		tp.blocks = f.blocks[a.block:b.block]
	}
	if b.packed > a.packed {
		tp.packed = packedBlocks{first: tp.docs[0] >> blockShift, starts: f.starts[a.packed:b.packed], bounds: f.bounds[a.packed:b.packed]}
	}
	return tp
}

// searchTerms finds the i in [0, n) for which cmp(i) == 0, cmp being
// negative before it and positive after.
func searchTerms(n int, cmp func(int) int) (int, bool) {
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch c := cmp(m); {
		case c < 0:
			lo = m + 1
		case c > 0:
			hi = m
		default:
			return m, true
		}
	}
	return lo, false
}

// WriteFile writes the index as a file at path. The index must hold whole
// blocks (a multiple of BlockRecords records); appends to it wait
// meanwhile. The
// file appears at path whole or not at all (written beside it, synced,
// renamed, and the directory synced).
func WriteFile(path string, s *Index) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.ids.len() == 0 || s.ids.len()%blockSize != 0 {
		return fmt.Errorf("bm25: a file of %d records, not whole blocks", s.ids.len())
	}
	terms := make([]string, 0, len(s.terms))
	for t := range s.terms {
		terms = append(terms, t)
	}
	slices.Sort(terms)
	l := fileLayout{first: uint64(s.base) + 1, records: uint64(s.ids.len()), total: s.total, terms: uint64(len(terms)), idBytes: uint64(len(s.ids.buf))}
	for _, t := range terms {
		tp := s.terms[t]
		l.termBytes += uint64(len(t))
		l.postings += uint64(len(tp.docs))
		l.addBlocks(tp.blocks)
	}
	return writeFile(path, l, func(w *sectionWriter) {
		for _, n := range s.docLen {
			w.u32(n)
		}
		w.pad()
		w.u64(0)
		for _, end := range s.ids.ends {
			w.u64(uint64(end))
		}
		w.bytes(s.ids.buf)
		w.pad()
		off := uint64(0)
		w.u64(0)
		for _, t := range terms {
			off += uint64(len(t))
			w.u64(off)
		}
		for _, t := range terms {
			w.bytes([]byte(t))
		}
		w.pad()
		var at fileLayout // postings and block bounds written so far
		for _, t := range terms {
			tp := s.terms[t]
			w.info(termInfo{post: at.postings, block: at.blocks, packed: at.packed, maxTF: tp.maxTF, minLen: tp.minLen})
			at.postings += uint64(len(tp.docs))
			at.addBlocks(tp.blocks)
		}
		w.info(termInfo{post: at.postings, block: at.blocks, packed: at.packed})
		for _, t := range terms {
			for _, d := range s.terms[t].docs {
				w.u32(d)
			}
		}
		w.pad()
		for _, t := range terms {
			for _, f := range s.terms[t].tfs {
				w.u16(f)
			}
		}
		w.pad()
		w.blockTables(func(fn func([]block)) {
			for _, t := range terms {
				fn(s.terms[t].blocks)
			}
		})
	})
}

// addBlocks counts a term's block bounds, listed or packed.
func (l *fileLayout) addBlocks(blocks []block) {
	if packed, n := packs(blocks); packed {
		l.packed += n
	} else {
		l.blocks += n
	}
}

// blockTables writes the sections of block bounds (blocks, starts,
// bounds) for the terms' blocks that each gives in term order.
func (w *sectionWriter) blockTables(each func(fn func([]block))) {
	each(func(blocks []block) {
		if packed, _ := packs(blocks); !packed {
			for _, b := range blocks {
				w.block(b)
			}
		}
	})
	w.pad()
	each(func(blocks []block) {
		if packed, _ := packs(blocks); packed {
			packedEntries(blocks, func(start uint32, _ packedBound) { w.u32(start) })
		}
	})
	w.pad()
	each(func(blocks []block) {
		if packed, _ := packs(blocks); packed {
			packedEntries(blocks, func(_ uint32, b packedBound) { w.bytes([]byte{b.tf, b.len}) })
		}
	})
	w.pad()
}

// sectionWriter writes a file's body, counting and hashing it.
type sectionWriter struct {
	w   *bufio.Writer
	n   uint64
	buf [24]byte
}

func (w *sectionWriter) bytes(b []byte) { w.w.Write(b); w.n += uint64(len(b)) }
func (w *sectionWriter) u16(v uint16) {
	binary.LittleEndian.PutUint16(w.buf[:], v)
	w.bytes(w.buf[:2])
}
func (w *sectionWriter) u32(v uint32) {
	binary.LittleEndian.PutUint32(w.buf[:], v)
	w.bytes(w.buf[:4])
}
func (w *sectionWriter) u64(v uint64) {
	binary.LittleEndian.PutUint64(w.buf[:], v)
	w.bytes(w.buf[:8])
}
func (w *sectionWriter) info(t termInfo) {
	w.u64(t.post)
	w.u64(t.block)
	w.u64(t.packed)
	w.u32(t.maxTF)
	w.u32(t.minLen)
}
func (w *sectionWriter) block(b block) {
	w.u32(b.id)
	w.u32(b.start)
	w.u16(b.maxTF)
	w.u16(b.minLen)
}
func (w *sectionWriter) pad() {
	var zeros [8]byte
	w.bytes(zeros[:pad8(w.n)-w.n])
}

// writeFile writes a file of layout l whose body body writes.
func writeFile(path string, l fileLayout, body func(*sectionWriter)) error {
	return fsutil.WriteHashed(path, headerBytes, func(bw *bufio.Writer) error {
		w := &sectionWriter{w: bw}
		body(w)
		if want := l.size() - headerBytes; w.n != want {
			return fmt.Errorf("bm25: wrote %d bytes of body, the layout says %d", w.n, want)
		}
		return nil
	}, func(sum uint64) []byte { return fileHeader(l, sum) })
}

func fileHeader(l fileLayout, body uint64) []byte {
	h := make([]byte, headerBytes)
	copy(h, fileMagic)
	binary.LittleEndian.PutUint32(h[8:], FileFormat)
	for i, v := range []uint64{l.first, l.records, l.total, l.terms, l.termBytes, l.postings, l.blocks, l.idBytes, l.packed} {
		binary.LittleEndian.PutUint64(h[16+8*i:], v)
	}
	binary.LittleEndian.PutUint64(h[120:], fileChecksum(h, body))
	return h
}

// fileChecksum covers the header's fields and, through its hash, the body.
func fileChecksum(header []byte, body uint64) uint64 {
	b := binary.LittleEndian.AppendUint64(append([]byte(nil), header[:120]...), body)
	return xxhash.Sum64(b)
}

// littleEndian is whether this machine reads the file's tables in place.
var littleEndian = func() bool { x := uint16(1); return *(*byte)(unsafe.Pointer(&x)) == 1 }()

// OpenFile maps the index file at path, checking it whole first (see the
// format above). An error opening or mapping it (not found, out of
// descriptors or address space) says nothing of its contents and is
// returned as it is; a file that is not a good index is ErrBadFile.
func OpenFile(path string) (*File, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrBadFile, path, fmt.Sprintf(format, a...))
	}
	if !littleEndian {
		return nil, bad("this machine cannot map the format (it needs little-endian)")
	}
	m, err := fsutil.MapReadOnly(path)
	if err != nil {
		return nil, fmt.Errorf("bm25: %w", err)
	}
	if len(m) < headerBytes {
		if m != nil {
			unix.Munmap(m)
		}
		return nil, bad("%d bytes, shorter than a header", len(m))
	}
	f, err := fileOf(m)
	if err != nil {
		unix.Munmap(m)
		return nil, bad("%v", err)
	}
	// The check read every page: give them back, or the whole file would
	// count as the process's memory until the kernel needs it.
	f.DropPages()
	// The mapping lives as long as the file: a query holds the file while
	// it reads, so one replaced by a merge is unmapped once the last query
	// over it is done, and its file may be deleted at once.
	runtime.AddCleanup(f, func(m []byte) { unix.Munmap(m) }, m)
	return f, nil
}

// DropPages unmaps the file's pages from the process, leaving them in the
// page cache, and has later misses read only the page a query needs
// (fsutil.ForLookups). Nothing a query sees changes; the process's
// resident memory stops counting pages a check or a merge read once.
func (f *File) DropPages() {
	fsutil.ForLookups(f.m)
}

func fileOf(m []byte) (*File, error) {
	if string(m[:8]) != fileMagic {
		return nil, errors.New("not an index file")
	}
	if v := binary.LittleEndian.Uint32(m[8:]); v != FileFormat {
		return nil, fmt.Errorf("format %d, this build reads %d", v, FileFormat)
	}
	if flags := binary.LittleEndian.Uint32(m[12:]); flags != 0 {
		return nil, fmt.Errorf("unknown flags %#x", flags)
	}
	u := func(i int) uint64 { return binary.LittleEndian.Uint64(m[16+8*i:]) }
	l := fileLayout{first: u(0), records: u(1), total: u(2), terms: u(3), termBytes: u(4), postings: u(5), blocks: u(6), idBytes: u(7), packed: u(8)}
	const most = 1 << 40
	switch {
	case l.first == 0 || (l.first-1)%blockSize != 0 || l.records == 0 || l.records%blockSize != 0 || l.first-1+l.records > maxDocs:
		return nil, fmt.Errorf("versions %d and %d records are not a part of an index", l.first, l.records)
	case l.terms > most || l.termBytes > most || l.postings > most || l.blocks > most || l.idBytes > most || l.packed > most:
		return nil, errors.New("sizes out of range")
	case l.size() != uint64(len(m)):
		return nil, fmt.Errorf("%d bytes, the header says %d", len(m), l.size())
	}
	if got := fileChecksum(m, xxhash.Sum64(m[headerBytes:])); got != binary.LittleEndian.Uint64(m[120:]) {
		return nil, fmt.Errorf("checksum %016x, the header says %016x", got, binary.LittleEndian.Uint64(m[120:]))
	}
	at := func(off uint64) unsafe.Pointer { return unsafe.Pointer(&m[off]) }
	f := &File{m: m, base: uint32(l.first - 1), total: l.total}
	f.docLen = unsafe.Slice((*uint32)(at(headerBytes)), l.records)
	f.idOffs = unsafe.Slice((*uint64)(at(l.idOffsOff())), l.records+1)
	f.ids = m[l.idsOff() : l.idsOff()+l.idBytes]
	f.termOffs = unsafe.Slice((*uint64)(at(l.termOffsOff())), l.terms+1)
	f.termBytes = m[l.termBytesOff() : l.termBytesOff()+l.termBytes]
	f.info = unsafe.Slice((*termInfo)(at(l.infoOff())), l.terms+1)
	if l.postings > 0 {
		f.docs = unsafe.Slice((*uint32)(at(l.docsOff())), l.postings)
		f.tfs = unsafe.Slice((*uint16)(at(l.tfsOff())), l.postings)
	}
	if l.blocks > 0 {
		f.blocks = unsafe.Slice((*block)(at(l.blocksOff())), l.blocks)
	}
	if l.packed > 0 {
		f.starts = unsafe.Slice((*uint32)(at(l.startsOff())), l.packed)
		f.bounds = unsafe.Slice((*packedBound)(at(l.boundsOff())), l.packed)
	}
	return f, f.check(l)
}

// check says whether the tables are an index, so that no lookup reads
// outside the mapping or past a table's end: the checksum says the bytes
// are those written, this that what was written is an index.
func (f *File) check(l fileLayout) error {
	var total uint64
	for i, n := range f.docLen {
		if n >= 1<<16 {
			return fmt.Errorf("record %d is %d words long", i, n)
		}
		total += uint64(n)
	}
	if total != l.total {
		return fmt.Errorf("lengths sum to %d, the header says %d", total, l.total)
	}
	if err := offsets(f.idOffs, l.idBytes); err != nil {
		return fmt.Errorf("ids: %w", err)
	}
	if err := offsets(f.termOffs, l.termBytes); err != nil {
		return fmt.Errorf("terms: %w", err)
	}
	for i := 1; i < int(l.terms); i++ {
		if f.term(i-1) >= f.term(i) {
			return fmt.Errorf("term %d is not after term %d", i, i-1)
		}
	}
	if f.info[0].post != 0 || f.info[0].block != 0 || f.info[0].packed != 0 || f.info[l.terms].post != l.postings || f.info[l.terms].block != l.blocks || f.info[l.terms].packed != l.packed {
		return errors.New("the info table does not cover the postings and blocks")
	}
	first, end := f.base, f.base+uint32(l.records)
	for i := range int(l.terms) {
		a, b := f.info[i], f.info[i+1]
		if b.post <= a.post || b.block < a.block || b.packed < a.packed {
			return fmt.Errorf("term %d has no postings", i)
		}
		docs, tfs := f.docs[a.post:b.post], f.tfs[a.post:b.post]
		prev := int64(first) - 1
		for j, d := range docs {
			if int64(d) <= prev || d >= end || tfs[j] == 0 {
				return fmt.Errorf("term %d: posting %d is record %d (frequency %d)", i, j, d, tfs[j])
			}
			prev = int64(d)
		}
		if err := f.checkBounds(a, docs, tfs, f.blocks[a.block:b.block], f.starts[a.packed:b.packed], f.bounds[a.packed:b.packed]); err != nil {
			return fmt.Errorf("term %d: %w", i, err)
		}
	}
	return nil
}

// checkBounds checks a term's bounds against its postings: its largest
// frequency and shortest record, and if it is common (and only then) its
// block bounds, listed or packed as a writer lays them out (packs), with
// the bounds and starts its postings give. Bounds that are too low would
// drop results; too high, or entries missing, would score postings
// against the wrong block.
func (f *File) checkBounds(inf termInfo, docs []uint32, tfs []uint16, listed []block, starts []uint32, bounds []packedBound) error {
	maxTF, minLen := uint32(0), ^uint32(0)
	for k, d := range docs {
		maxTF, minLen = max(maxTF, uint32(tfs[k])), min(minLen, f.docLen[d-f.base])
	}
	if maxTF != inf.maxTF || minLen != inf.minLen {
		return fmt.Errorf("bounds %d/%d, its postings' %d/%d", inf.maxTF, inf.minLen, maxTF, minLen)
	}
	var want []block
	if len(docs) >= denseAt {
		tp := termPostings{docs: docs, tfs: tfs}
		tp.buildBlocks(f.docLen, f.base)
		want = tp.blocks
	}
	packed, n := packs(want)
	switch {
	case packed && (len(listed) != 0 || uint64(len(bounds)) != n):
		return fmt.Errorf("%d listed and %d packed block bounds for %d blocks over %d", len(listed), len(bounds), len(want), n)
	case !packed && (len(bounds) != 0 || uint64(len(listed)) != n):
		return fmt.Errorf("%d listed and %d packed block bounds for %d blocks", len(listed), len(bounds), len(want))
	case !packed:
		for j, b := range want {
			if listed[j] != b {
				return fmt.Errorf("block bound %d is %+v, its postings' %+v", j, listed[j], b)
			}
		}
		return nil
	}
	j := 0
	var bad error
	packedEntries(want, func(start uint32, b packedBound) {
		if bad == nil && (starts[j] != start || bounds[j] != b) {
			bad = fmt.Errorf("packed block bound %d is %d/%+v, its postings' %d/%+v", j, starts[j], bounds[j], start, b)
		}
		j++
	})
	return bad
}

// offsets checks that offs rise from 0 to end.
func offsets(offs []uint64, end uint64) error {
	if offs[0] != 0 || offs[len(offs)-1] != end {
		return errors.New("the offsets do not cover the bytes")
	}
	for i := 1; i < len(offs); i++ {
		if offs[i] < offs[i-1] {
			return fmt.Errorf("entry %d ends before it starts", i-1)
		}
	}
	return nil
}

// WriteMerged writes the file of a's records and then b's, which must
// follow them, at path (see WriteFile). It reads both in one pass each per
// section, in term order, so its memory does not grow with theirs.
func WriteMerged(path string, a, b *File) error {
	if b.First() != a.Last()+1 {
		return fmt.Errorf("bm25: merging versions %d-%d after %d", b.First(), b.Last(), a.Last())
	}
	m := merger{a: a, b: b}
	// Each section of a and b is read in order: read ahead meanwhile.
	fsutil.ForScans(a.m)
	fsutil.ForScans(b.m)
	defer a.DropPages()
	defer b.DropPages()
	l := fileLayout{first: a.First(), records: uint64(len(a.docLen) + len(b.docLen)), total: a.total + b.total, idBytes: uint64(len(a.ids) + len(b.ids))}
	m.each(func(t string, ia, ib int) {
		l.terms++
		l.termBytes += uint64(len(t))
		l.postings += uint64(len(m.docs(a, ia)) + len(m.docs(b, ib)))
		l.addBlocks(m.blocks(ia, ib))
	})
	return writeFile(path, l, func(w *sectionWriter) {
		for _, f := range []*File{a, b} {
			for _, n := range f.docLen {
				w.u32(n)
			}
		}
		w.pad()
		for _, off := range a.idOffs {
			w.u64(off)
		}
		for _, off := range b.idOffs[1:] {
			w.u64(uint64(len(a.ids)) + off)
		}
		w.bytes(a.ids)
		w.bytes(b.ids)
		w.pad()
		off := uint64(0)
		w.u64(0)
		m.each(func(t string, _, _ int) {
			off += uint64(len(t))
			w.u64(off)
		})
		m.each(func(t string, _, _ int) { w.bytes([]byte(t)) })
		w.pad()
		var at fileLayout // postings and block bounds written so far
		m.each(func(_ string, ia, ib int) {
			info := termInfo{post: at.postings, block: at.blocks, packed: at.packed, minLen: ^uint32(0)}
			for _, side := range []struct {
				f *File
				i int
			}{{a, ia}, {b, ib}} {
				if side.i >= 0 {
					info.maxTF = max(info.maxTF, side.f.info[side.i].maxTF)
					info.minLen = min(info.minLen, side.f.info[side.i].minLen)
				}
			}
			w.info(info)
			at.postings += uint64(len(m.docs(a, ia)) + len(m.docs(b, ib)))
			at.addBlocks(m.blocks(ia, ib))
		})
		w.info(termInfo{post: at.postings, block: at.blocks, packed: at.packed})
		m.each(func(_ string, ia, ib int) {
			for _, d := range m.docs(a, ia) {
				w.u32(d)
			}
			for _, d := range m.docs(b, ib) {
				w.u32(d)
			}
		})
		w.pad()
		m.each(func(_ string, ia, ib int) {
			for _, f := range m.tfs(a, ia) {
				w.u16(f)
			}
			for _, f := range m.tfs(b, ib) {
				w.u16(f)
			}
		})
		w.pad()
		w.blockTables(func(fn func([]block)) {
			m.each(func(_ string, ia, ib int) { fn(m.blocks(ia, ib)) })
		})
	})
}

// merger walks the union of two files' terms.
type merger struct{ a, b *File }

// each calls fn for every term of either file in order, with its place
// in each (-1 where it is not).
func (m merger) each(fn func(t string, ia, ib int)) {
	na, nb := len(m.a.info)-1, len(m.b.info)-1
	i, j := 0, 0
	for i < na || j < nb {
		switch {
		case j == nb || i < na && m.a.term(i) < m.b.term(j):
			fn(m.a.term(i), i, -1)
			i++
		case i == na || m.b.term(j) < m.a.term(i):
			fn(m.b.term(j), -1, j)
			j++
		default:
			fn(m.a.term(i), i, j)
			i++
			j++
		}
	}
}

// postings returns term i's postings in f (none for i < 0).
func (merger) postings(f *File, i int) ([]uint32, []uint16) {
	if i < 0 {
		return nil, nil
	}
	a, b := f.info[i].post, f.info[i+1].post
	return f.docs[a:b], f.tfs[a:b]
}

func (m merger) docs(f *File, i int) []uint32 { d, _ := m.postings(f, i); return d }
func (m merger) tfs(f *File, i int) []uint16  { _, t := m.postings(f, i); return t }

// blocks returns the merged term's block bounds: none if it is rare, else
// a's then b's (a ends a block, so none is shared), each worked out from
// its postings (a file's packed bounds are rounded), b's starts after a's
// postings.
func (m merger) blocks(ia, ib int) []block {
	da, db := m.docs(m.a, ia), m.docs(m.b, ib)
	if len(da)+len(db) < denseAt {
		return nil
	}
	var out []block
	for _, side := range []struct {
		f     *File
		i     int
		shift uint32
	}{{m.a, ia, 0}, {m.b, ib, uint32(len(da))}} {
		if side.i < 0 {
			continue
		}
		tp := termPostings{docs: m.docs(side.f, side.i), tfs: m.tfs(side.f, side.i)}
		tp.buildBlocks(side.f.docLen, side.f.base)
		for _, b := range tp.blocks {
			b.start += side.shift
			out = append(out, b)
		}
	}
	return out
}
