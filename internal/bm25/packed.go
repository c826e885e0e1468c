package bm25

import "sort"

// A file keeps a common term's block bounds in one of two tables:
//
//   - listed: an entry of 12 bytes (block, first posting, largest
//     frequency, shortest record) for each block its postings reach, as
//     in memory;
//   - packed: for every block from its first to its last, the posting it
//     starts at (4 bytes) and its bounds rounded to a byte each (2 bytes),
//     zero for a block it does not occur in.
//
// A term's bounds are packed if that is smaller (it reaches at least half
// the blocks of its span) and no record holds it more than 255 times. A
// query bounds every block of each of its terms before it scores any, so
// for a word in most records the bounds are most of what a query reads:
// packed, that is 2 bytes a block where listing took 12.
//
// A common term's postings are narrow if no record holds it more than 255
// times: the record's place in its block (the block is that of the
// posting's entry in either table) and its frequency, a byte each, where
// a rare term's take 6 bytes. A query writes a block's postings out only
// when it scores them.
//
// A packed bound is never lower than the block's true one: the largest
// frequency rounds up (past 254 it is read as the term's largest), the
// shortest record down. Pruning by it stays exact; a block whose bound
// rounded up may be scored where the exact bound would have skipped it.

// packedBound is one block's bounds in a byte each; zero is no posting.
type packedBound struct{ tf, len uint8 }

// packedTFMax is the frequency code that reads as the term's largest.
const packedTFMax = 255

// packedLen maps a length code to the length it stands for: exact below
// 128, then rising about 3% a code, so that a code is never read as a
// longer record than the one it was made from.
var packedLen = func() (t [256]uint32) {
	for c := range t {
		switch {
		case c < 128:
			t[c] = uint32(c)
		default:
			t[c] = t[c-1] + max(1, t[c-1]/32)
		}
	}
	return t
}()

// pack rounds a block's largest frequency up and shortest record down to
// a byte each.
func pack(maxTF, minLen uint32) packedBound {
	tf := uint8(packedTFMax)
	if maxTF < packedTFMax {
		tf = uint8(maxTF)
	}
	// The largest code whose length is at most minLen.
	lo, hi := 0, len(packedLen)
	for hi-lo > 1 {
		m := (lo + hi) / 2
		if packedLen[m] <= minLen {
			lo = m
		} else {
			hi = m
		}
	}
	return packedBound{tf: tf, len: uint8(lo)}
}

// unpack reads a packed bound of a term whose largest frequency is maxTF.
func (p packedBound) unpack(maxTF uint32) (tf, minLen uint32) {
	tf = uint32(p.tf)
	if p.tf == packedTFMax {
		tf = maxTF
	}
	return tf, packedLen[p.len]
}

// packedBlocks are a term's packed bounds, read from a file: entry i is
// block first+i.
type packedBlocks struct {
	first  uint32
	starts []uint32
	bounds []packedBound
}

// narrow reports whether a term of postings, block bounds blocks and
// largest frequency maxTF keeps its postings narrow in a file: a common
// term whose frequencies fit a byte.
func narrow(postings int, maxTF uint32) bool {
	return postings >= denseAt && maxTF <= 255
}

// entry returns the block of entry i of a narrow term's bounds (packed
// or listed), and where its postings start and end.
func (tp *termPostings) entry(i uint32) (id, start, end uint32) {
	end = uint32(len(tp.offs))
	if p := &tp.packed; p.bounds != nil {
		if int(i)+1 < len(p.starts) {
			end = p.starts[i+1]
		}
		return p.first + i, p.starts[i], end
	}
	if int(i)+1 < len(tp.blocks) {
		end = tp.blocks[i+1].start
	}
	return tp.blocks[i].id, tp.blocks[i].start, end
}

// entries returns how many entries a narrow term's bounds have.
func (tp *termPostings) entries() int {
	if tp.packed.bounds != nil {
		return len(tp.packed.bounds)
	}
	return len(tp.blocks)
}

// decode returns a narrow term's postings in entry i's block, written
// into docs and tfs.
func (tp *termPostings) decode(i uint32, docs *[blockSize]uint32, tfs *[blockSize]uint16) ([]uint32, []uint16) {
	id, start, end := tp.entry(i)
	base := id << blockShift
	n := int(end - start)
	for k, off := range tp.offs[start:end] {
		docs[k] = base | uint32(off)
		tfs[k] = uint16(tp.ntfs[int(start)+k])
	}
	return docs[:n], tfs[:n]
}

// entryOf returns the entry of a narrow term's bounds for block id, or
// the first after it (entries() if none).
func (tp *termPostings) entryOf(id uint32) int {
	if p := &tp.packed; p.bounds != nil {
		switch {
		case id < p.first:
			return 0
		case id-p.first >= uint32(len(p.bounds)):
			return len(p.bounds)
		}
		return int(id - p.first)
	}
	return sort.Search(len(tp.blocks), func(i int) bool { return tp.blocks[i].id >= id })
}

// packs reports whether blocks (a term's, in order) go in a packed table,
// and how many entries it takes: a block's entry is half a listed one, so
// packed is smaller while the term reaches at least half the blocks of
// its span; and its postings' frequencies must fit a byte.
func packs(blocks []block) (packed bool, entries uint64) {
	if len(blocks) == 0 {
		return false, 0
	}
	span := uint64(blocks[len(blocks)-1].id-blocks[0].id) + 1
	if span > 2*uint64(len(blocks)) {
		return false, uint64(len(blocks))
	}
	for _, b := range blocks {
		if b.maxTF > 255 {
			return false, uint64(len(blocks))
		}
	}
	return true, span
}

// packedEntries calls fn with each entry of the packed table of blocks: a
// block the term does not occur in starts where the next one does.
func packedEntries(blocks []block, fn func(start uint32, b packedBound)) {
	j := 0
	for id := blocks[0].id; id <= blocks[len(blocks)-1].id; id++ {
		if b := blocks[j]; b.id == id {
			fn(b.start, pack(uint32(b.maxTF), uint32(b.minLen)))
			j++
		} else {
			fn(b.start, packedBound{})
		}
	}
}

// bound returns the bounds of entry i of a common term read from a file.
func (tp *termPostings) bound(i uint32) (maxTF, minLen uint32) {
	if p := &tp.packed; p.bounds != nil {
		return p.bounds[i].unpack(tp.maxTF)
	}
	b := tp.blocks[i]
	return uint32(b.maxTF), uint32(b.minLen)
}
