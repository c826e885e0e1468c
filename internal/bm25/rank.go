package bm25

import "slices"

// hit is a record and its score.
type hit struct {
	doc   uint32
	score float32
}

// minHeap holds a query's best hits, the worst on top, to be dropped
// first.
type minHeap []hit

func (h minHeap) Len() int { return len(h) }

func (h minHeap) Less(i, j int) bool { return h.less(h[i], h[j]) }

// less orders hits worst first: lower score, then (of equal scores) the
// later record, so the earlier record ranks higher.
func (minHeap) less(a, b hit) bool {
	if a.score != b.score {
		return a.score < b.score
	}
	return a.doc > b.doc
}

func (h minHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }

func (h *minHeap) Push(x any) { *h = append(*h, x.(hit)) }

func (h *minHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// candidate is a block and the most any of its records can score.
type candidate struct {
	block uint32
	bound float32
}

// firstBlocks is how many of the best-bounded blocks a query scores in
// order of bound, to raise its threshold quickly; the rest it takes in any
// order, skipping those whose bound falls below the threshold.
var firstBlocks = 64 // a variable so that tests can reach every path

// selectBest reorders cs so that cs[:k] holds the k highest bounds, in
// order (quickselect, then a sort of the k).
func selectBest(cs []candidate, k int) {
	better := func(a, b candidate) int {
		switch {
		case a.bound > b.bound:
			return -1
		case a.bound < b.bound:
			return 1
		}
		return int(a.block) - int(b.block)
	}
	lo, hi := 0, len(cs)
	for hi-lo > 1 && lo < k && k < hi {
		// Partition cs[lo:hi] around the median of three.
		m := lo + (hi-lo)/2
		if better(cs[m], cs[lo]) < 0 {
			cs[m], cs[lo] = cs[lo], cs[m]
		}
		if better(cs[hi-1], cs[lo]) < 0 {
			cs[hi-1], cs[lo] = cs[lo], cs[hi-1]
		}
		if better(cs[hi-1], cs[m]) < 0 {
			cs[hi-1], cs[m] = cs[m], cs[hi-1]
		}
		pivot := cs[m]
		i, j := lo, hi-1
		for i <= j {
			for better(cs[i], pivot) < 0 {
				i++
			}
			for better(pivot, cs[j]) < 0 {
				j--
			}
			if i <= j {
				cs[i], cs[j] = cs[j], cs[i]
				i++
				j--
			}
		}
		// cs[lo:j+1] are no worse than the pivot, cs[i:hi] no better.
		switch {
		case k <= j+1:
			hi = j + 1
		case k >= i:
			lo = i
		default:
			lo = hi // cs[j+1:i] equal the pivot: done
		}
	}
	slices.SortFunc(cs[:k], better)
}
