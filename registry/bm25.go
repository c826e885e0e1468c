package registry

import (
	"container/heap"
	"context"
	"math"
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

func (h minHeap) Len() int { return len(h) }
func (h minHeap) Less(i, j int) bool {
	if h[i].score != h[j].score {
		return h[i].score < h[j].score
	}
	return h[i].doc > h[j].doc // of equal scores, the earlier record ranks higher
}
func (h minHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(x any)   { *h = append(*h, x.(hit)) }
func (h *minHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// top returns the ids and scores of the limit best records for query.
func (s *searchIndex) top(query string, limit int) ([]string, []float64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := len(s.ids)
	if n == 0 {
		return nil, nil
	}
	avg := float64(s.total) / float64(n)
	scores, _ := s.scores.Get().([]float32)
	if len(scores) < n {
		scores = make([]float32, n)
	}
	var touched []uint32
	seen := map[string]bool{}
	for _, t := range Tokens(query) {
		if seen[t] {
			continue
		}
		seen[t] = true
		ps := s.postings[t]
		if len(ps) == 0 {
			continue
		}
		df := float64(len(ps))
		idf := math.Log(1 + (float64(n)-df+0.5)/(df+0.5))
		for _, p := range ps {
			f := float64(p.tf)
			sc := idf * f * (bm25K1 + 1) / (f + bm25K1*(1-bm25B+bm25B*float64(s.docLen[p.doc])/avg))
			if scores[p.doc] == 0 {
				touched = append(touched, p.doc)
			}
			scores[p.doc] += float32(sc)
		}
	}
	h := make(minHeap, 0, limit+1)
	for _, d := range touched {
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
