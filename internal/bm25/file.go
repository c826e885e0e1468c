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
//	          packed uint64, narrow uint64, zeros up to byte 120, then the
//	          checksum: xxhash64 of the header's first 120 bytes followed
//	          by the xxhash64 of everything after the header
//	lengths   records × uint32: each record's length in words
//	idOffs    (records+1) × uint64: record i's id is ids[idOffs[i]:idOffs[i+1]]
//	ids       id bytes
//	termOffs  (terms+1) × uint64: term i is termBytes[termOffs[i]:termOffs[i+1]]
//	termBytes the terms in byte order
//	info      (terms+1) × {post uint64, narrow uint64, block uint64,
//	          packed uint64, maxTF uint32, minLen uint32, first uint32,
//	          zero uint32}: term i's postings are post[i]..post[i+1] of
//	          docs and tfs, or narrow[i]..narrow[i+1] of offs and ntfs;
//	          its block bounds listed in block[i]..block[i+1], or packed in
//	          packed[i]..packed[i+1] for blocks first[i] on (a common term
//	          has one, a rare term neither; see packed.go); with its
//	          largest frequency and shortest record
//	docs      postings × uint32: record numbers (version-1), by term, in order
//	tfs       postings × uint16: each posting's frequency
//	blocks    blocks × {id uint32, start uint32, maxTF uint16, minLen uint16}
//	starts    packed × uint32: where each packed block's postings start
//	bounds    packed × {maxTF uint8, minLen uint8}, rounded (packed.go)
//	offs      narrow × uint8: a packed term's postings, as the record's
//	          place in its block (the block is the packed entry's)
//	ntfs      narrow × uint8: their frequencies
//
// A common term (one with block bounds) whose frequencies fit a byte has
// its postings narrow, 2 bytes each, and every other term wide, 6 bytes
// each. Format 1 listed every common term's blocks and had wide postings
// only; format 2 packed bounds but kept postings wide; format 3 had narrow
// postings only where bounds were packed. Files of another format are
// refused like any other bad file, and rebuilt.
//
// Every section starts on 8 bytes, so a mapping reads the tables in place.
// OpenFile checks the magic, the format, that the sizes add up to the
// file's, the checksum, and that the tables are an index (sorted terms,
// postings in order and in range): a truncated, corrupt or newer file is
// refused (ErrBadFile), never trusted; its owner deletes and rebuilds it.
const (
	fileMagic   = "TGBM25IX"
	FileFormat  = 4
	headerBytes = 128
)

// ErrBadFile is returned for an index file that cannot be used as it is:
// truncated, corrupt, of another format, or unreadable.
var ErrBadFile = errors.New("bm25: bad index file")

// termInfo is one term's entry in a file's info table.
type termInfo struct {
	post, narrow, block, packed uint64
	maxTF, minLen, first, zero  uint32
}

type fileLayout struct {
	first, records, total, terms, termBytes, postings, blocks, idBytes, packed, narrow uint64
}

func pad8(n uint64) uint64 { return (n + 7) &^ 7 }

func (l fileLayout) idOffsOff() uint64    { return headerBytes + pad8(4*l.records) }
func (l fileLayout) idsOff() uint64       { return l.idOffsOff() + 8*(l.records+1) }
func (l fileLayout) termOffsOff() uint64  { return l.idsOff() + pad8(l.idBytes) }
func (l fileLayout) termBytesOff() uint64 { return l.termOffsOff() + 8*(l.terms+1) }
func (l fileLayout) infoOff() uint64      { return l.termBytesOff() + pad8(l.termBytes) }
func (l fileLayout) docsOff() uint64      { return l.infoOff() + 48*(l.terms+1) }
func (l fileLayout) tfsOff() uint64       { return l.docsOff() + pad8(4*l.postings) }
func (l fileLayout) blocksOff() uint64    { return l.tfsOff() + pad8(2*l.postings) }
func (l fileLayout) startsOff() uint64    { return l.blocksOff() + pad8(12*l.blocks) }
func (l fileLayout) boundsOff() uint64    { return l.startsOff() + pad8(4*l.packed) }
func (l fileLayout) offsOff() uint64      { return l.boundsOff() + pad8(2*l.packed) }
func (l fileLayout) ntfsOff() uint64      { return l.offsOff() + pad8(l.narrow) }
func (l fileLayout) size() uint64         { return l.ntfsOff() + pad8(l.narrow) }

var _ [12]byte = [unsafe.Sizeof(block{})]byte{}
var _ [48]byte = [unsafe.Sizeof(termInfo{})]byte{}
var _ [2]byte = [unsafe.Sizeof(packedBound{})]byte{}

// File is a mapped index file: one part of a datanet's index.
type File struct {
	m        []byte
	base     uint32
	total    uint64
	docLen   []uint32
	idOffs   []uint64
	ids      []byte
	termOffs []uint64
	// sample is every sampleEvery'th term, copied out of the mapping: a
	// lookup searches it in memory, then reads the pages of one run of
	// terms, not those of every step of a search over all of them.
	sample    []string
	termBytes []byte
	info      []termInfo
	docs      []uint32
	tfs       []uint16
	blocks    []block
	starts    []uint32
	bounds    []packedBound
	offs      []uint8
	ntfs      []uint8
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
	// The run of terms from the last sampled one not after term.
	k, ok := searchTerms(len(f.sample), func(i int) int { return strings.Compare(f.sample[i], term) })
	switch {
	case ok:
		return f.postingsAt(k * sampleEvery)
	case k == 0:
		return nil
	}
	lo := (k - 1) * sampleEvery
	n := min(sampleEvery, len(f.info)-1-lo)
	i, ok := searchTerms(n, func(i int) int { return strings.Compare(f.term(lo+i), term) })
	if !ok {
		return nil
	}
	return f.postingsAt(lo + i)
}

// sampleEvery is how far apart a file's sampled terms are: a run of them
// lies in a page or two of each table.
const sampleEvery = 32

// sampleTerms copies out every sampleEvery'th term.
func (f *File) sampleTerms() {
	n := (len(f.info) - 1 + sampleEvery - 1) / sampleEvery
	var buf []byte
	ends := make([]int, 0, n)
	for i := 0; i < len(f.info)-1; i += sampleEvery {
		buf = append(buf, f.term(i)...)
		ends = append(ends, len(buf))
	}
	all := string(buf)
	f.sample = make([]string, n)
	start := 0
	for i, end := range ends {
		f.sample[i] = all[start:end]
		start = end
	}
}

// postingsAt returns term i's postings, in the mapping.
func (f *File) postingsAt(i int) *termPostings {
	a, b := f.info[i], f.info[i+1]
	tp := &termPostings{maxTF: a.maxTF, minLen: a.minLen}
	if b.post > a.post {
		tp.docs, tp.tfs = f.docs[a.post:b.post], f.tfs[a.post:b.post]
	}
	if b.block > a.block {
		tp.blocks = f.blocks[a.block:b.block]
	}
	if b.packed > a.packed {
		tp.packed = packedBlocks{first: a.first, starts: f.starts[a.packed:b.packed], bounds: f.bounds[a.packed:b.packed]}
	}
	if b.narrow > a.narrow {
		tp.offs, tp.ntfs = f.offs[a.narrow:b.narrow], f.ntfs[a.narrow:b.narrow]
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
// meanwhile. The file appears at path whole or not at all (written beside
// it, synced, renamed, and the directory synced).
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
	return writeTerms(path, fileLayout{first: uint64(s.base) + 1, records: uint64(s.ids.len()), total: s.total, idBytes: uint64(len(s.ids.buf))},
		func(w *sectionWriter) {
			for _, n := range s.docLen {
				w.u32(n)
			}
			w.pad()
			w.u64(0)
			for _, end := range s.ids.ends {
				w.u64(uint64(end))
			}
			w.bytes(s.ids.buf)
		},
		func(fn func(termData)) {
			for _, t := range terms {
				tp := s.terms[t]
				fn(termData{term: t, docs: tp.docs, tfs: tp.tfs, blocks: tp.blocks, maxTF: tp.maxTF, minLen: tp.minLen})
			}
		})
}

// termData is one term of a file being written, its block bounds exact.
type termData struct {
	term          string
	docs          []uint32
	tfs           []uint16
	blocks        []block
	maxTF, minLen uint32
}

// writeTerms writes a file of l's records whose lengths and ids records
// writes (up to the term offsets), and of the terms each gives in order,
// as many times as it is asked.
func writeTerms(path string, l fileLayout, records func(*sectionWriter), each func(func(termData))) error {
	var at fileLayout // the terms' postings and block bounds before the one at hand
	infos := func(fn func(termData, termInfo)) {
		at = fileLayout{}
		each(func(t termData) {
			inf := termInfo{post: at.postings, narrow: at.narrow, block: at.blocks, packed: at.packed, maxTF: t.maxTF, minLen: t.minLen}
			if packed, n := packs(t.blocks); packed {
				inf.first = t.blocks[0].id
				at.packed += n
			} else {
				at.blocks += n
			}
			if narrow(len(t.docs), t.maxTF) {
				at.narrow += uint64(len(t.docs))
			} else {
				at.postings += uint64(len(t.docs))
			}
			at.terms++
			at.termBytes += uint64(len(t.term))
			fn(t, inf)
		})
	}
	infos(func(termData, termInfo) {})
	l.terms, l.termBytes, l.postings, l.narrow, l.blocks, l.packed = at.terms, at.termBytes, at.postings, at.narrow, at.blocks, at.packed
	return writeFile(path, l, func(w *sectionWriter) {
		records(w)
		w.pad()
		off := uint64(0)
		w.u64(0)
		each(func(t termData) {
			off += uint64(len(t.term))
			w.u64(off)
		})
		each(func(t termData) { w.bytes([]byte(t.term)) })
		w.pad()
		infos(func(_ termData, inf termInfo) { w.info(inf) })
		w.info(termInfo{post: at.postings, narrow: at.narrow, block: at.blocks, packed: at.packed})
		// A term is wide or narrow, its bounds listed or packed.
		wide := func(fn func(termData)) {
			each(func(t termData) {
				if !narrow(len(t.docs), t.maxTF) {
					fn(t)
				}
			})
		}
		narrowed := func(fn func(termData)) {
			each(func(t termData) {
				if narrow(len(t.docs), t.maxTF) {
					fn(t)
				}
			})
		}
		listed := func(fn func(termData)) {
			each(func(t termData) {
				if packed, _ := packs(t.blocks); !packed {
					fn(t)
				}
			})
		}
		packed := func(fn func(termData)) {
			each(func(t termData) {
				if packed, _ := packs(t.blocks); packed {
					fn(t)
				}
			})
		}
		wide(func(t termData) {
			for _, d := range t.docs {
				w.u32(d)
			}
		})
		w.pad()
		wide(func(t termData) {
			for _, f := range t.tfs {
				w.u16(f)
			}
		})
		w.pad()
		listed(func(t termData) {
			for _, b := range t.blocks {
				w.block(b)
			}
		})
		w.pad()
		packed(func(t termData) {
			packedEntries(t.blocks, func(start uint32, _ packedBound) { w.u32(start) })
		})
		w.pad()
		packed(func(t termData) {
			packedEntries(t.blocks, func(_ uint32, b packedBound) { w.bytes([]byte{b.tf, b.len}) })
		})
		w.pad()
		narrowed(func(t termData) {
			for _, d := range t.docs {
				w.bytes([]byte{uint8(d & (blockSize - 1))})
			}
		})
		w.pad()
		narrowed(func(t termData) {
			for _, f := range t.tfs {
				w.bytes([]byte{uint8(f)})
			}
		})
		w.pad()
	})
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
	w.u64(t.narrow)
	w.u64(t.block)
	w.u64(t.packed)
	w.u32(t.maxTF)
	w.u32(t.minLen)
	w.u32(t.first)
	w.u32(t.zero)
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
	for i, v := range []uint64{l.first, l.records, l.total, l.terms, l.termBytes, l.postings, l.blocks, l.idBytes, l.packed, l.narrow} {
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
	l := fileLayout{first: u(0), records: u(1), total: u(2), terms: u(3), termBytes: u(4), postings: u(5), blocks: u(6), idBytes: u(7), packed: u(8), narrow: u(9)}
	const most = 1 << 40
	switch {
	case l.first == 0 || (l.first-1)%blockSize != 0 || l.records == 0 || l.records%blockSize != 0 || l.first-1+l.records > maxDocs:
		return nil, fmt.Errorf("versions %d and %d records are not a part of an index", l.first, l.records)
	case l.terms > most || l.termBytes > most || l.postings > most || l.blocks > most || l.idBytes > most || l.packed > most || l.narrow > most:
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
	if l.narrow > 0 {
		f.offs = m[l.offsOff() : l.offsOff()+l.narrow]
		f.ntfs = m[l.ntfsOff() : l.ntfsOff()+l.narrow]
	}
	if err := f.check(l); err != nil {
		return f, err
	}
	f.sampleTerms()
	return f, nil
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
	if z, e := f.info[0], f.info[l.terms]; z.post != 0 || z.narrow != 0 || z.block != 0 || z.packed != 0 ||
		e != (termInfo{post: l.postings, narrow: l.narrow, block: l.blocks, packed: l.packed}) {
		return errors.New("the info table does not cover the postings and blocks")
	}
	first, end := f.base, f.base+uint32(l.records)
	for i := range int(l.terms) {
		a, b := f.info[i], f.info[i+1]
		if b.post < a.post || b.narrow < a.narrow || b.block < a.block || b.packed < a.packed ||
			b.post > l.postings || b.narrow > l.narrow || b.block > l.blocks || b.packed > l.packed {
			return fmt.Errorf("term %d: its tables run backwards or past their ends", i)
		}
		wide, nar, packed := b.post-a.post, b.narrow-a.narrow, b.packed-a.packed
		if (wide == 0) == (nar == 0) || (wide > 0 && narrow(int(wide), a.maxTF)) || (nar > 0 && !narrow(int(nar), a.maxTF)) ||
			a.zero != 0 || (packed == 0 && a.first != 0) {
			return fmt.Errorf("term %d has %d wide and %d narrow postings of frequencies up to %d, %d packed bounds from block %d", i, wide, nar, a.maxTF, packed, a.first)
		}
		docs, tfs := f.docs[a.post:b.post], f.tfs[a.post:b.post]
		if nar > 0 {
			var err error
			tp := f.postingsAt(i)
			if docs, tfs, err = f.unpack(tp); err != nil {
				return fmt.Errorf("term %d: %w", i, err)
			}
		}
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
	case packed && (len(listed) != 0 || uint64(len(bounds)) != n || inf.first != want[0].id):
		return fmt.Errorf("%d listed and %d packed block bounds from block %d for %d blocks over %d", len(listed), len(bounds), inf.first, len(want), n)
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

// unpack writes out a narrow term's postings, for a check: its entries
// (packed or listed) must be of blocks of the file, in order, and their
// starts rise from 0 within the postings, a block's at most a block's.
func (f *File) unpack(tp *termPostings) ([]uint32, []uint16, error) {
	n := tp.entries()
	if n == 0 {
		return nil, nil, errors.New("narrow postings without block bounds")
	}
	lo, hi := f.base>>blockShift, (f.base+uint32(len(f.docLen)))>>blockShift
	docs, tfs := make([]uint32, 0, len(tp.offs)), make([]uint16, 0, len(tp.offs))
	var bd [blockSize]uint32
	var bt [blockSize]uint16
	prevID, prevEnd := int64(-1), uint32(0)
	for i := range uint32(n) {
		if p := &tp.packed; p.bounds != nil && uint64(p.first)+uint64(i) >= uint64(hi) {
			return nil, nil, fmt.Errorf("packed block %d outside the file", uint64(p.first)+uint64(i))
		}
		id, start, end := tp.entry(i)
		if id < lo || id >= hi || int64(id) <= prevID || start != prevEnd || end < start || end-start > blockSize || int(end) > len(tp.offs) {
			return nil, nil, fmt.Errorf("block bound %d: block %d, postings %d-%d", i, id, start, end)
		}
		prevID, prevEnd = int64(id), end
		for _, off := range tp.offs[start:end] {
			if off >= blockSize {
				return nil, nil, fmt.Errorf("block bound %d: a posting at %d of a block", i, off)
			}
		}
		d, t := tp.decode(i, &bd, &bt)
		docs, tfs = append(docs, d...), append(tfs, t...)
	}
	if int(prevEnd) != len(tp.offs) {
		return nil, nil, fmt.Errorf("block bounds cover %d of %d postings", prevEnd, len(tp.offs))
	}
	return docs, tfs, nil
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
	m := &merger{a: a, b: b}
	// Each section of a and b is read in order: read ahead meanwhile.
	fsutil.ForScans(a.m)
	fsutil.ForScans(b.m)
	defer a.DropPages()
	defer b.DropPages()
	l := fileLayout{first: a.First(), records: uint64(len(a.docLen) + len(b.docLen)), total: a.total + b.total, idBytes: uint64(len(a.ids) + len(b.ids))}
	return writeTerms(path, l,
		func(w *sectionWriter) {
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
		},
		m.each)
}

// merger walks the union of two files' terms, with their postings
// merged, reusing its buffers from one term to the next.
type merger struct {
	a, b *File
	docs []uint32
	tfs  []uint16
	bd   [blockSize]uint32
	bt   [blockSize]uint16
}

// each calls fn for every term of either file in order, with its postings
// and its exact block bounds (a file's packed bounds are rounded, so they
// are worked out again from the postings).
func (m *merger) each(fn func(termData)) {
	na, nb := len(m.a.info)-1, len(m.b.info)-1
	i, j := 0, 0
	for i < na || j < nb {
		var t string
		ia, ib := -1, -1
		switch {
		case j == nb || i < na && m.a.term(i) < m.b.term(j):
			t, ia = m.a.term(i), i
			i++
		case i == na || m.b.term(j) < m.a.term(i):
			t, ib = m.b.term(j), j
			j++
		default:
			t, ia, ib = m.a.term(i), i, j
			i++
			j++
		}
		d := termData{term: t, minLen: ^uint32(0)}
		m.docs, m.tfs = m.docs[:0], m.tfs[:0]
		for _, side := range []struct {
			f *File
			i int
		}{{m.a, ia}, {m.b, ib}} {
			if side.i < 0 {
				continue
			}
			tp := side.f.postingsAt(side.i)
			d.maxTF, d.minLen = max(d.maxTF, tp.maxTF), min(d.minLen, tp.minLen)
			if tp.offs != nil {
				for e := range tp.entries() {
					docs, tfs := tp.decode(uint32(e), &m.bd, &m.bt)
					m.docs, m.tfs = append(m.docs, docs...), append(m.tfs, tfs...)
				}
				continue
			}
			m.docs, m.tfs = append(m.docs, tp.docs...), append(m.tfs, tp.tfs...)
		}
		d.docs, d.tfs = m.docs, m.tfs
		if len(d.docs) >= denseAt {
			// a ends a block, so no block is shared; b's lengths are its own.
			na := 0
			if ia >= 0 {
				na = m.a.postingsAt(ia).len()
			}
			tp := termPostings{docs: d.docs[:na], tfs: d.tfs[:na]}
			tp.buildBlocks(m.a.docLen, m.a.base)
			tb := termPostings{docs: d.docs[na:], tfs: d.tfs[na:]}
			tb.buildBlocks(m.b.docLen, m.b.base)
			for _, blk := range tb.blocks {
				blk.start += uint32(na)
				tp.blocks = append(tp.blocks, blk)
			}
			d.blocks = tp.blocks
		}
		fn(d)
	}
}
