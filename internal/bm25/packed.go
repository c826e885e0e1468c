package bm25

// A file keeps a common term's block bounds in one of two tables:
//
//   - listed: an entry of 12 bytes (block, first posting, largest
//     frequency, shortest record) for each block its postings reach, as
//     in memory;
//   - packed: for every block from its first to its last, the posting it
//     starts at (4 bytes) and its bounds rounded to a byte each (2 bytes),
//     zero for a block it does not occur in. Its postings are narrow: the
//     record's place in its block and its frequency, a byte each, where a
//     listed or rare term's take 6 bytes.
//
// A term's bounds are packed if that is smaller (it reaches at least half
// the blocks of its span) and no record holds it more than 255 times. A
// query bounds every block of each of its terms before it scores any, so
// for a word in most records the bounds are most of what a query reads:
// packed, that is 2 bytes a block where listing took 12; and the postings
// it scores are a third of their wide size.
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

// packedBlocks are a term's packed bounds and narrow postings, read from
// a file: entry i is block first+i.
type packedBlocks struct {
	first  uint32
	starts []uint32
	bounds []packedBound
	offs   []uint8 // each posting's record, less its block's first
	tfs    []uint8
}

// span returns where entry i's postings start and end.
func (p *packedBlocks) span(i uint32) (start, end uint32) {
	start, end = p.starts[i], uint32(len(p.offs))
	if int(i)+1 < len(p.starts) {
		end = p.starts[i+1]
	}
	return start, end
}

// decode returns entry i's postings, written into docs and tfs.
func (p *packedBlocks) decode(i uint32, docs *[blockSize]uint32, tfs *[blockSize]uint16) ([]uint32, []uint16) {
	start, end := p.span(i)
	base := (p.first + i) << blockShift
	n := int(end - start)
	for k, off := range p.offs[start:end] {
		docs[k] = base | uint32(off)
		tfs[k] = uint16(p.tfs[int(start)+k])
	}
	return docs[:n], tfs[:n]
}

// before returns how many postings are of records before doc.
func (p *packedBlocks) before(doc uint32) int {
	id := doc >> blockShift
	switch {
	case id < p.first:
		return 0
	case id-p.first >= uint32(len(p.starts)):
		return len(p.offs)
	}
	start, end := p.span(id - p.first)
	for start < end && uint32(p.offs[start]) < doc&(blockSize-1) {
		start++
	}
	return int(start)
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
