// Package bm25 is an in-memory BM25 inverted index over records numbered
// in the order they were added: built from records given in any order
// ([Builder]), grown by appends ([Index.Add]), and queried for the best
// records up to a version ([Index.TopScored]) with exact block-max pruning.
package bm25

import (
	"fmt"
	"sort"
	"sync"
	"unsafe"

	"github.com/tollgate-dev/tollgate/internal/tokenize"
)

// BM25 parameters.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// Index is an in-memory BM25 inverted index over one datanet. Records are
// immutable, so it only grows.
//
// Records are numbered in the order they were added and grouped into
// blocks of blockSize consecutive numbers. A common term keeps, for every
// block it occurs in, where its postings for that block start, its largest
// term frequency there and the shortest record holding it: enough to bound
// what the term can add to any record of the block. A query sums those
// bounds per block, scores blocks best bound first, and stops at the first
// block whose bound cannot beat the limit-th best score found so far
// (block-max pruning over fixed record ranges). The result is exact.
//
// An index may start after version 1 (see [NewAt]): it is then one part of
// a datanet's index, the rest in files (see [File] and [Search]). Records
// are numbered across the whole datanet (version-1), so block numbers mean
// the same in every part.
type Index struct {
	mu     sync.RWMutex
	base   uint32 // the number of its first record: version base+1
	terms  map[string]*termPostings
	docLen []uint32 // by record number - base
	ids    idList   // by record number - base
	total  uint64
}

const (
	blockShift = 7
	blockSize  = 1 << blockShift
	// A term keeps per-block bounds once it has this many postings; a
	// rarer term is bounded by its largest frequency and shortest record
	// over all its postings, which cost no more to walk than blocks would.
	denseAt = 4 * blockSize
)

// idList holds record ids in one buffer: a million ids are then two
// objects the garbage collector need not look inside, not a million
// strings it must visit.
type idList struct {
	buf  []byte
	ends []int
}

func (l *idList) len() int { return len(l.ends) }

func (l *idList) add(id string) {
	l.buf = append(l.buf, id...)
	l.ends = append(l.ends, len(l.buf))
}

func (l *idList) at(i uint32) string {
	start := 0
	if i > 0 {
		start = l.ends[i-1]
	}
	return string(l.buf[start:l.ends[i]])
}

// termPostings is one term's postings in record order, with its per-block
// bounds once it is common (len(docs) >= denseAt).
type termPostings struct {
	docs   []uint32 // records holding the term, in order
	tfs    []uint16 // how often each holds it
	blocks []block
	packed packedBlocks // a file's bounds instead of blocks, if bounds is not nil
	// A file's common term keeps its postings narrow (packed.go), docs
	// and tfs nil: each posting's record less its block's first, and its
	// frequency, the block being that of its entry in blocks or packed.
	offs, ntfs []uint8
	maxTF      uint32
	minLen     uint32
}

// block is one term's postings in one block: from start up to the next
// block's start, with their largest frequency and shortest record.
type block struct {
	id     uint32 // record number >> blockShift
	start  uint32
	maxTF  uint16 // frequencies and lengths fit: a record has < 1<<16 words
	minLen uint16
}

// Bytes returns the memory the index's arrays take (postings, block
// bounds, record lengths and ids; not the map of terms).
func (s *Index) Bytes() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 4*len(s.docLen) + len(s.ids.buf) + 8*len(s.ids.ends)
	for t, tp := range s.terms {
		n += len(t) + 4*len(tp.docs) + 2*len(tp.tfs) + int(unsafe.Sizeof(block{}))*len(tp.blocks)
	}
	return n
}

// AllVersions is an upTo that counts every record.
const AllVersions = ^uint64(0)

// New returns an empty index.
func New() *Index {
	return &Index{terms: map[string]*termPostings{}}
}

// NewAt returns an empty index whose first record will be version first,
// which must start a block (first-1 a multiple of BlockRecords).
func NewAt(first uint64) (*Index, error) {
	if first == 0 || (first-1)%blockSize != 0 || first-1 > maxDocs {
		return nil, fmt.Errorf("bm25: an index cannot start at version %d", first)
	}
	s := New()
	s.base = uint32(first - 1)
	return s, nil
}

// BlockRecords is how many consecutive records share a block: an index's
// parts start at multiples of it.
const BlockRecords = blockSize

// maxDocs bounds record numbers, which are uint32.
const maxDocs = 1<<32 - 1

// Len returns the last version the index holds: it holds versions
// First to Len (1 to Len unless it was made by NewAt).
func (s *Index) Len() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return uint64(s.base) + uint64(s.ids.len())
}

// First is the version of the index's first record.
func (s *Index) First() uint64 { return uint64(s.base) + 1 }

// Records is how many records the index holds.
func (s *Index) Records() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ids.len()
}

// Add indexes the record that made the given version of the datanet,
// which must be the next one; it reports false, indexing nothing, if it is
// not. The caller holds no lock.
func (s *Index) Add(version uint64, id, content string) bool {
	toks := tokenize.Tokens(content)
	tf := map[string]uint32{}
	for _, t := range toks {
		tf[t]++
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if version != uint64(s.base)+uint64(s.ids.len())+1 || version > maxDocs {
		return false
	}
	doc := s.base + uint32(s.ids.len())
	n := uint32(len(toks))
	s.ids.add(id)
	s.docLen = append(s.docLen, n)
	s.total += uint64(n)
	for t, f := range tf {
		tp := s.terms[t]
		if tp == nil {
			tp = &termPostings{minLen: n}
			s.terms[t] = tp
		}
		tp.add(doc, f, n)
		if len(tp.docs) == denseAt {
			tp.buildBlocks(s.docLen, s.base)
		}
	}
	return true
}

// A record holds fewer than 1<<16 words (each a letter or digit and a
// separator), so a term's frequency and a record's length fit a uint16.
const _ uint16 = MaxDocBytes / 2

// MaxDocBytes is the largest record the index takes.
const MaxDocBytes = 64 << 10

func (tp *termPostings) add(doc, tf, docLen uint32) {
	tp.docs = append(tp.docs, doc)
	tp.tfs = append(tp.tfs, uint16(tf))
	tp.maxTF = max(tp.maxTF, tf)
	tp.minLen = min(tp.minLen, docLen)
	if tp.blocks == nil {
		return
	}
	last := &tp.blocks[len(tp.blocks)-1]
	if last.id == doc>>blockShift {
		last.maxTF = max(last.maxTF, uint16(tf))
		last.minLen = min(last.minLen, uint16(docLen))
		return
	}
	tp.blocks = append(tp.blocks, block{id: doc >> blockShift, start: uint32(len(tp.docs) - 1), maxTF: uint16(tf), minLen: uint16(docLen)})
}

// buildBlocks bounds tp's blocks; docLen is by record number - base.
func (tp *termPostings) buildBlocks(docLen []uint32, base uint32) {
	for i, doc := range tp.docs {
		id, tf := doc>>blockShift, uint32(tp.tfs[i])
		if len(tp.blocks) == 0 || tp.blocks[len(tp.blocks)-1].id != id {
			tp.blocks = append(tp.blocks, block{id: id, start: uint32(i), maxTF: uint16(tf), minLen: uint16(docLen[doc-base])})
			continue
		}
		last := &tp.blocks[len(tp.blocks)-1]
		last.maxTF = max(last.maxTF, uint16(tf))
		last.minLen = min(last.minLen, uint16(docLen[doc-base]))
	}
}

// len returns how many postings the term has.
func (tp *termPostings) len() int {
	if tp.offs != nil {
		return len(tp.offs)
	}
	return len(tp.docs)
}

// before returns how many of the term's postings are of records before
// doc.
func (tp *termPostings) before(doc uint32) int {
	if tp.offs == nil {
		return sort.Search(len(tp.docs), func(i int) bool { return tp.docs[i] >= doc })
	}
	e := tp.entryOf(doc >> blockShift)
	if e == tp.entries() {
		return len(tp.offs)
	}
	id, start, end := tp.entry(uint32(e))
	if id > doc>>blockShift {
		return int(start)
	}
	for start < end && uint32(tp.offs[start]) < doc&(blockSize-1) {
		start++
	}
	return int(start)
}

// inBlock returns the term's postings for records in the block whose entry
// in blocks (if the term is common) or first posting (if not) is at i,
// with their largest frequency and shortest record. A term of narrow
// postings is read through bound and decode (packed.go) instead.
func (tp *termPostings) inBlock(i uint32) (docs []uint32, tfs []uint16, maxTF, minLen uint32) {
	if tp.blocks != nil {
		end := uint32(len(tp.docs))
		if int(i)+1 < len(tp.blocks) {
			end = tp.blocks[i+1].start
		}
		b := tp.blocks[i]
		return tp.docs[b.start:end], tp.tfs[b.start:end], uint32(b.maxTF), uint32(b.minLen)
	}
	id := tp.docs[i] >> blockShift
	j := i
	for int(j) < len(tp.docs) && tp.docs[j]>>blockShift == id {
		j++
	}
	return tp.docs[i:j], tp.tfs[i:j], tp.maxTF, tp.minLen
}
