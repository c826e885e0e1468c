package registry

import (
	"container/heap"
	"context"
	"math"
	"sort"
	"sync"

	"github.com/tollgate-dev/tollgate/abi"
)

// searchIndex is an in-memory BM25 inverted index over one datanet. It is
// built on first search and kept current by appends (records are
// immutable, so it only grows).
type searchIndex struct {
	mu       sync.RWMutex
	postings map[string][]posting
	docLen   []uint32
	ids      []string
	total    uint64
	scores   sync.Pool // []float32 of len(ids), reused by queries
}

type posting struct {
	doc uint32
	tf  uint32
}

func newSearchIndex() *searchIndex {
	return &searchIndex{postings: map[string][]posting{}}
}

// add indexes one record. The caller holds no lock.
func (s *searchIndex) add(id, content string) {
	toks := Tokens(content)
	tf := map[string]uint32{}
	for _, t := range toks {
		tf[t]++
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	doc := uint32(len(s.ids))
	s.ids = append(s.ids, id)
	s.docLen = append(s.docLen, uint32(len(toks)))
	s.total += uint64(len(toks))
	for t, n := range tf {
		s.postings[t] = append(s.postings[t], posting{doc, n})
	}
}

type hit struct {
	doc   uint32
	score float32
}

type minHeap []hit

func (h minHeap) Len() int           { return len(h) }
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
func (h *minHeap) Push(x any)   { *h = append(*h, x.(hit)) }
func (h *minHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// queryTerm is one distinct query token with its postings and the most it
// can add to any record's score.
type queryTerm struct {
	ps    []posting
	idf   float64
	bound float64
}

// top returns the ids and scores of the limit best records for query.
//
// Terms are scored rarest first (MaxScore pruning): once the limit-th best
// score so far is at least the most the remaining, commoner terms could add
// to any record, no record they alone match can enter the results, so
// those terms only add to the records already found, looked up by binary
// search instead of walking their long posting lists. The result is exact.
func (s *searchIndex) top(query string, limit int) ([]string, []float64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := len(s.ids)
	if n == 0 {
		return nil, nil
	}
	avg := float64(s.total) / float64(n)
	var terms []queryTerm
	seen := map[string]bool{}
	for _, t := range Tokens(query) {
		if seen[t] || len(s.postings[t]) == 0 {
			continue
		}
		seen[t] = true
		ps := s.postings[t]
		df := float64(len(ps))
		idf := math.Log(1 + (float64(n)-df+0.5)/(df+0.5))
		terms = append(terms, queryTerm{ps: ps, idf: idf, bound: idf * (bm25K1 + 1)})
	}
	sort.Slice(terms, func(i, j int) bool { return len(terms[i].ps) < len(terms[j].ps) })
	score := func(t queryTerm, p posting) float32 {
		f := float64(p.tf)
		return float32(t.idf * f * (bm25K1 + 1) / (f + bm25K1*(1-bm25B+bm25B*float64(s.docLen[p.doc])/avg)))
	}
	scores, _ := s.scores.Get().([]float32)
	if len(scores) < n {
		scores = make([]float32, n)
	}
	var touched []uint32
	for j, t := range terms {
		rest := 0.0
		for _, u := range terms[j:] {
			rest += u.bound
		}
		if len(touched) >= limit && float64(kth(touched, scores, limit)) >= rest {
			for _, u := range terms[j:] {
				for _, d := range touched {
					i := sort.Search(len(u.ps), func(i int) bool { return u.ps[i].doc >= d })
					if i < len(u.ps) && u.ps[i].doc == d {
						scores[d] += score(u, u.ps[i])
					}
				}
			}
			break
		}
		for _, p := range t.ps {
			if scores[p.doc] == 0 {
				touched = append(touched, p.doc)
			}
			scores[p.doc] += score(t, p)
		}
	}
	h := make(minHeap, 0, limit+1)
	for _, d := range touched {
		if h.Len() == limit && !h.less(h[0], hit{d, scores[d]}) {
			scores[d] = 0
			continue
		}
		heap.Push(&h, hit{d, scores[d]})
		if h.Len() > limit {
			heap.Pop(&h)
		}
		scores[d] = 0
	}
	s.scores.Put(scores)
	ids := make([]string, h.Len())
	out := make([]float64, h.Len())
	for i := h.Len() - 1; i >= 0; i-- {
		x := heap.Pop(&h).(hit)
		ids[i], out[i] = s.ids[x.doc], float64(x.score)
	}
	return ids, out
}

// kth returns the k-th highest score among docs.
func kth(docs []uint32, scores []float32, k int) float32 {
	h := make(minHeap, 0, k+1)
	for _, d := range docs {
		heap.Push(&h, hit{d, scores[d]})
		if h.Len() > k {
			heap.Pop(&h)
		}
	}
	return h[0].score
}

// searchIndexFor returns the datanet's index, building it on first use.
func (r *Registry) searchIndexFor(ctx context.Context, datanet string) (*searchIndex, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ix := r.search[datanet]; ix != nil {
		return ix, nil
	}
	ix := newSearchIndex()
	err := r.Records(ctx, datanet, func(rec Record) error {
		ix.add(rec.ID, rec.Content)
		return nil
	})
	if err != nil {
		return nil, err
	}
	r.search[datanet] = ix
	return ix, nil
}

// Search returns up to limit records of datanet ranked by BM25 over their
// tokens (ties to the record added first), omitting records that share no
// token with the query. Each result's Score is its BM25 score.
func (r *Registry) Search(ctx context.Context, datanet, query string, limit int) ([]abi.Record, error) {
	if _, err := r.Datanet(ctx, datanet); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 10
	}
	ix, err := r.searchIndexFor(ctx, datanet)
	if err != nil {
		return nil, err
	}
	ids, scores := ix.top(query, limit)
	out := make([]abi.Record, 0, len(ids))
	for i, id := range ids {
		rec, err := r.Get(ctx, datanet, id)
		if err != nil {
			return nil, err
		}
		rec.Score = scores[i]
		out = append(out, rec)
	}
	return out, nil
}
