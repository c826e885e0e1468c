package bm25

import (
	"container/heap"
	"slices"
)

// scorer scores blocks into its own best records; a query has one for
// each core it uses.
type scorer struct {
	best    minHeap
	scored  int
	acc     [blockSize]float32
	touched [blockSize]bool
	contrib [][blockSize]float32 // per query term, per record of the block
	tfAt    [][blockSize]uint16  // per query term, per record of the block
	docBuf  [][blockSize]uint32  // per query term: its narrow postings here, written out
	tfBuf   [][blockSize]uint16
	terms   []blockTerm
	upTo    []float64
	part    *partView // of the block being scored
}

// blockTerm is one query term's postings in the block being scored.
type blockTerm struct {
	docs []uint32
	tfs  []uint16
	// narrow, if not nil, holds the postings instead, still to be written
	// out into docs and tfs from its entry (load): a term whose bound
	// drops every candidate first is never written out.
	narrow *termPostings
	entry  uint32
	bound  float64 // the most it adds to any record of the block
	q      int     // its place in the query
	// spread says tfs have been written into tfAt[q], for lookups by record.
	spread bool
}

// score offers w.best the records of one block that can enter the results.
//
// Within the block it prunes by MaxScore: the terms whose bounds here sum
// to less than the floor cannot alone put a record in the results, so only
// records holding one of the other ("essential") terms are candidates, and
// a candidate is dropped as soon as what it has plus what its remaining
// terms could add falls short. A candidate that survives is scored in
// full, its weights summed in query order, so that a record's score does
// not depend on which blocks came before or which core scored it.
func (w *scorer) score(q *query, id uint32) {
	w.scored++
	w.part = q.partOf(id)
	if len(w.contrib) < len(q.terms) {
		w.contrib = make([][blockSize]float32, len(q.terms))
		w.tfAt = make([][blockSize]uint16, len(q.terms))
		w.docBuf = make([][blockSize]uint32, len(q.terms))
		w.tfBuf = make([][blockSize]uint16, len(q.terms))
	}
	terms := w.blockTerms(q, id)
	threshold := float64(q.floor.get())
	// terms[:essential] are not essential: upTo[k] bounds what terms[:k] add.
	upTo := append(w.upTo[:0], 0)
	for _, t := range terms {
		upTo = append(upTo, upTo[len(upTo)-1]+t.bound)
	}
	w.upTo = upTo
	essential := 0
	for essential < len(terms) && upTo[essential+1]*q.slack < threshold {
		essential++
	}
	candidates := w.accumulate(q, terms[essential:])
	// Few candidates look the other terms up by binary search; many have
	// them written out by record, which costs less than searching each.
	search := candidates <= spreadAbove
	base := id << blockShift
	for i := range w.touched {
		if !w.touched[i] {
			continue
		}
		doc := base + uint32(i)
		dropped := w.complete(q, terms[:essential], i, doc, threshold, search)
		var score float32
		for t := range q.terms {
			score += w.contrib[t][i]
			w.contrib[t][i] = 0
		}
		w.acc[i], w.touched[i] = 0, false
		h := hit{doc, score}
		if dropped || float64(score) < threshold || len(w.best) == q.limit && !w.best.less(w.best[0], h) {
			continue
		}
		heap.Push(&w.best, h)
		if len(w.best) > q.limit {
			heap.Pop(&w.best)
		}
		if len(w.best) == q.limit {
			q.floor.raise(w.best[0].score)
			threshold = float64(q.floor.get())
		}
	}
	for _, t := range terms[:essential] {
		if t.spread {
			for _, doc := range t.docs {
				w.tfAt[t.q][doc&(blockSize-1)] = 0
			}
		}
	}
}

// blockTerms returns the query terms that occur in block id, with their
// postings there, lowest bound first.
func (w *scorer) blockTerms(q *query, id uint32) []blockTerm {
	terms := w.terms[:0]
	for t, qt := range q.terms {
		at := q.at[t][id]
		if at == 0 {
			continue
		}
		tp := qt.lists[w.part.i]
		if tp.offs != nil {
			maxTF, minLen := tp.bound(at - 1)
			terms = append(terms, blockTerm{narrow: tp, entry: at - 1, bound: q.weight(t, maxTF, minLen), q: t})
			continue
		}
		docs, tfs, maxTF, minLen := tp.inBlock(at - 1)
		terms = append(terms, blockTerm{docs: docs, tfs: tfs, bound: q.weight(t, maxTF, minLen), q: t})
	}
	w.terms = terms
	// Insertion sort by bound: a handful of terms, and no allocation.
	for i := 1; i < len(terms); i++ {
		for j := i; j > 0 && terms[j].bound < terms[j-1].bound; j-- {
			terms[j], terms[j-1] = terms[j-1], terms[j]
		}
	}
	return terms
}

// load writes out t's narrow postings in the block, once.
func (t *blockTerm) load(w *scorer) {
	if t.narrow != nil {
		t.docs, t.tfs = t.narrow.decode(t.entry, &w.docBuf[t.q], &w.tfBuf[t.q])
		t.narrow = nil
	}
}

// accumulate adds the weights of the essential terms to the records of
// the block that hold them, marking those records touched, and returns how
// many it touched: the candidates.
func (w *scorer) accumulate(q *query, essential []blockTerm) (candidates int) {
	for k := range essential {
		t := &essential[k]
		t.load(w)
		for j, doc := range t.docs {
			if doc >= q.maxDoc {
				break
			}
			i := doc & (blockSize - 1)
			x := float32(q.weight(t.q, uint32(t.tfs[j]), w.part.lens[doc-w.part.base]))
			w.contrib[t.q][i] = x
			w.acc[i] += x
			if !w.touched[i] {
				w.touched[i] = true
				candidates++
			}
		}
	}
	return candidates
}

// complete adds the weights of the other terms, rest (lowest bound first,
// taken from the highest down), to candidate doc at i of its block, and
// reports whether it dropped the candidate because what it has plus what
// the terms left could add falls short of threshold. It looks each term's
// frequency up by binary search if search, else from the term's postings
// written out by record.
func (w *scorer) complete(q *query, rest []blockTerm, i int, doc uint32, threshold float64, search bool) (dropped bool) {
	partial := float64(w.acc[i])
	for k := len(rest) - 1; k >= 0; k-- {
		if (partial+w.upTo[k+1])*q.slack < threshold {
			return true
		}
		t := &rest[k]
		t.load(w)
		var tf uint16
		if search {
			if j, ok := slices.BinarySearch(t.docs, doc); ok {
				tf = t.tfs[j]
			}
		} else {
			if !t.spread {
				for j, doc := range t.docs {
					w.tfAt[t.q][doc&(blockSize-1)] = t.tfs[j]
				}
				t.spread = true
			}
			tf = w.tfAt[t.q][i]
		}
		if tf > 0 {
			x := float32(q.weight(t.q, uint32(tf), w.part.lens[doc-w.part.base]))
			w.contrib[t.q][i] = x
			partial += float64(x)
		}
	}
	return false
}
