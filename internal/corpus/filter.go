package corpus

import (
	"bytes"
	"math/bits"

	"github.com/cespare/xxhash/v2"
)

// A startFilter says of a word-start array which runs of four words or
// more may start a word of its text, without reading the text: a blocked
// Bloom filter of the bytes from each word start to the start of the
// third word after it (three words and what follows each), written in the
// segment's file. A run that the filter does not hold starts no word of
// the text; one it holds may, or (about one in six) may not.
//
// A lookup in a mapped array probes the text about ten times, each in a
// page of its own, and most of a verbatim match's lookups are of runs
// that occur nowhere. The filter answers those from one cache line: at
// half a byte per word start, it adds about a fourteenth of the corpus to
// the file.
type startFilter []uint64

const (
	filterBits = 4 // bits of filter a word start is given
	blockWords = 8 // a block is a cache line: 512 bits
)

// filterWords is the size of the filter of a text with entries word
// starts, in words.
func filterWords(entries uint64) uint64 {
	return blockWords * max(1, (entries*filterBits+511)/512)
}

// newStartFilter returns the filter of the text made of pieces, which
// starts entries words. A run never holds a NUL, so neither does a key:
// one that would is left out, and so no key spans two pieces that each end
// with a NUL, as a segment's records do.
func newStartFilter(entries uint64, pieces ...[]byte) startFilter {
	f := make(startFilter, filterWords(entries))
	// Hashes are added a batch at a time: each sets bits in a cache line
	// of its own, and a tight loop of them waits on many lines at once.
	var batch [4096]uint64
	n := 0
	for _, text := range pieces {
		// ring holds the latest three word starts (-1 before there are),
		// the oldest at ring[next%3].
		ring, next := [3]int{-1, -1, -1}, 0
		eachWord(text, func(start, _ int) bool {
			if from := ring[next%3]; from >= 0 && bytes.IndexByte(text[from:start], 0) < 0 {
				if n == len(batch) {
					f.addAll(batch[:])
					n = 0
				}
				batch[n] = xxhash.Sum64(text[from:start])
				n++
			}
			ring[next%3] = start
			next++
			return true
		})
	}
	f.addAll(batch[:n])
	return f
}

func (f startFilter) addAll(hs []uint64) {
	for _, h := range hs {
		f.add(h)
	}
}

// block is the filter's block for hash h, and its three bits in it.
func (f startFilter) block(h uint64) (blk []uint64, b1, b2, b3 uint) {
	i, _ := bits.Mul64(h, uint64(len(f)/blockWords))
	return f[i*blockWords : (i+1)*blockWords], uint(h & 511), uint(h >> 9 & 511), uint(h >> 18 & 511)
}

func (f startFilter) add(h uint64) {
	blk, b1, b2, b3 := f.block(h)
	blk[b1>>6] |= 1 << (b1 & 63)
	blk[b2>>6] |= 1 << (b2 & 63)
	blk[b3>>6] |= 1 << (b3 & 63)
}

// mayStart reports whether key, three words of a run of four or more and
// what follows each (up to the fourth word's start), may start a word of
// the filter's text.
func (f startFilter) mayStart(key []byte) bool {
	blk, b1, b2, b3 := f.block(xxhash.Sum64(key))
	return blk[b1>>6]&(1<<(b1&63)) != 0 && blk[b2>>6]&(1<<(b2&63)) != 0 && blk[b3>>6]&(1<<(b3&63)) != 0
}
