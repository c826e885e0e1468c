package corpus

import (
	"bufio"
	"bytes"
	"math/bits"

	"github.com/cespare/xxhash/v2"
)

// A startFilter says of a word-start array which runs of four words or
// more may start a word of its text, without reading the text: a blocked
// Bloom filter of the bytes from each word start to the start of the
// third word after it (three words and what follows each), written in the
// segment's file. A run that the filter does not hold starts no word of
// the text; one it holds may, or (about one in forty) may not.
//
// A lookup in a mapped array probes the text about ten times, each in a
// page of its own, and most of a verbatim match's lookups are of runs
// that occur nowhere. The filter answers those from one cache line: at a
// byte per word start, it adds about a seventh of the corpus to the file.
// Half that (four bits a start, three a key) let one run in six through:
// a text's word was then looked up in one of five segments more often
// than not, and where the files outgrow memory each such lookup is about
// ten reads of the disk. Half as much again (12 bits, eight a key: one in
// two hundred) read more of the disk where the files outgrow memory, not
// less: its pages took the page cache the arrays needed.
type startFilter []uint64

const (
	filterBits   = 8 // bits of filter a word start is given
	filterHashes = 5 // bits a key sets, all in one block
	blockWords   = 8 // a block is a cache line: 512 bits
)

// filterWords is the size of the filter of a text with entries word
// starts, in words.
func filterWords(entries uint64) uint64 {
	return blockWords * max(1, (entries*filterBits+511)/512)
}

// maxFilterPart bounds, in bytes, the part of a filter built at once: a
// 2 GB merge's filter is about 290 MB, which beside a segment being built
// would take a large build past its memory bound. Each part is a pass over
// the text that adds only the keys falling in its blocks.
var maxFilterPart = 128 << 20

// writeStartFilter writes the filter of the text made of pieces, which
// starts entries words, building it a part of at most maxFilterPart bytes
// at a time.
func writeStartFilter(w *bufio.Writer, entries uint64, pieces ...[]byte) {
	words := filterWords(entries)
	per := max(blockWords, uint64(maxFilterPart)/8/blockWords*blockWords) // words a part
	part := make(startFilter, min(words, per))
	for lo := uint64(0); lo < words; lo += per {
		p := part[:min(per, words-lo)]
		clear(p)
		p.addPart(lo/blockWords, words/blockWords, pieces)
		writeWords(w, p)
	}
}

// addPart adds to f, the blocks from block first on of a filter of total
// blocks, the keys of the text made of pieces that fall in them. A run
// never holds a NUL, so neither does a key: one that would is left out,
// and so no key spans two pieces that each end with a NUL, as a segment's
// records do.
func (f startFilter) addPart(first, total uint64, pieces [][]byte) {
	end := first + uint64(len(f)/blockWords)
	// Hashes are added a batch at a time: each sets bits in a cache line
	// of its own, and a tight loop of them waits on many lines at once.
	var batch [4096]uint64
	n := 0
	add := func() {
		for _, h := range batch[:n] {
			if i := blockOf(h, total); i >= first && i < end {
				setBits(f[(i-first)*blockWords:(i-first+1)*blockWords], h)
			}
		}
		n = 0
	}
	for _, text := range pieces {
		// ring holds the latest three word starts (-1 before there are),
		// the oldest at ring[next%3].
		ring, next := [3]int{-1, -1, -1}, 0
		eachWord(text, func(start, _ int) bool {
			if from := ring[next%3]; from >= 0 && bytes.IndexByte(text[from:start], 0) < 0 {
				if n == len(batch) {
					add()
				}
				batch[n] = xxhash.Sum64(text[from:start])
				n++
			}
			ring[next%3] = start
			next++
			return true
		})
	}
	add()
}

// blockOf is the block of a filter of n blocks that hash h falls in: from
// all of h, mixed. The bits in the block are taken from h's low bits, 9
// for each.
func blockOf(h, n uint64) uint64 {
	i, _ := bits.Mul64(h*0x9e3779b97f4a7c15, n)
	return i
}

func setBits(blk []uint64, h uint64) {
	for i := range filterHashes {
		b := h >> (9 * i) & 511
		blk[b>>6] |= 1 << (b & 63)
	}
}

// mayStart reports whether key, three words of a run of four or more and
// what follows each (up to the fourth word's start), may start a word of
// the filter's text.
func (f startFilter) mayStart(key []byte) bool {
	h := xxhash.Sum64(key)
	i := blockOf(h, uint64(len(f)/blockWords))
	blk := f[i*blockWords : (i+1)*blockWords]
	for i := range filterHashes {
		if b := h >> (9 * i) & 511; blk[b>>6]&(1<<(b&63)) == 0 {
			return false
		}
	}
	return true
}
