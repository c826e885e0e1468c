package bm25

import (
	"container/heap"
	"context"
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/tollgate-dev/tollgate/internal/tokenize"
)

// Queries that leave at least parallelAbove blocks after the first few
// score them on up to maxScorers cores, taking chunks of chunkBlocks.
const (
	maxScorers  = 4
	chunkBlocks = 32
)

var parallelAbove = 1024 // a variable so that tests can reach the parallel path

// A block with at most spreadAbove candidates looks their other terms up by
// binary search (a variable so that tests can reach both ways).
var spreadAbove = 32

// Top returns the ids and scores of the limit best records for query.
func (s *Index) Top(query string, limit int) ([]string, []float64) {
	ids, scores, _ := s.TopScored(query, limit, AllVersions)
	return ids, scores
}

// TopScored is top over the records of versions up to upTo,
// scored with that version's statistics (record count, average length,
// document frequencies) as if the later records did not exist; it also
// says how many blocks it scored. The index must start at version 1.
func (s *Index) TopScored(text string, limit int, upTo uint64) (ids []string, scores []float64, scored int) {
	ids, scores, scored, _ = Search(context.Background(), []Part{s}, text, limit, upTo)
	return ids, scores, scored
}

// Part is a run of a datanet's records with their postings: an [*Index]
// in memory or a mapped [*File].
type Part interface {
	// span returns the number of the part's first record and how many it
	// holds.
	span() (base uint32, n int)
	// postings returns the term's postings in the part, or nil.
	postings(term string) *termPostings
	lengths() []uint32 // by record number - base
	totalLen() uint64
	idAt(i uint32) string // by record number - base
	rlock()
	runlock()
}

func (s *Index) span() (uint32, int)                { return s.base, s.ids.len() }
func (s *Index) postings(term string) *termPostings { return s.terms[term] }
func (s *Index) lengths() []uint32                  { return s.docLen }
func (s *Index) totalLen() uint64                   { return s.total }
func (s *Index) idAt(i uint32) string               { return s.ids.at(i) }
func (s *Index) rlock()                             { s.mu.RLock() }
func (s *Index) runlock()                           { s.mu.RUnlock() }

var (
	scratches sync.Pool // *queryScratch
	scorers   sync.Pool // *scorer
)

// Search returns the ids and scores of the limit best records for text
// over a datanet's parts, which hold its records from version 1 in order,
// counting the records of versions up to upTo (see [Index.TopScored]). It
// ranks exactly as one index over the same records would. A query of many
// common words can read most of the index: it stops, with ctx's error,
// once ctx is done.
func Search(ctx context.Context, parts []Part, text string, limit int, upTo uint64) (ids []string, scores []float64, scored int, err error) {
	for _, p := range parts {
		p.rlock()
		defer p.runlock()
	}
	q := newQuery(parts, text, limit, upTo)
	if q == nil {
		return nil, nil, 0, ctx.Err()
	}
	q.ctx = ctx
	sc, _ := scratches.Get().(*queryScratch)
	if sc == nil {
		sc = &queryScratch{}
	}
	defer scratches.Put(sc)
	nBlocks := (int(q.maxDoc) + blockSize - 1) / blockSize
	blocks := sc.candidates(q, nBlocks)
	defer func() {
		for _, at := range q.at {
			// A row a cancelled query did not reach may be shorter.
			clear(at[:min(nBlocks, cap(at))])
		}
	}()
	ids, scores, scored = scoreBlocks(q, sc, blocks)
	if err := ctx.Err(); err != nil {
		return nil, nil, scored, err
	}
	return ids, scores, scored, nil
}

// partView is a part as a query reads it.
type partView struct {
	Part
	i    int // its place among the query's parts
	base uint32
	lens []uint32
}

// queryTerm is a query term's postings: lists[i] in the query's part i,
// or nil.
type queryTerm struct{ lists []*termPostings }

// newQuery sets up a query for the terms of text that occur in the
// records up to upTo, with those records' statistics; it returns nil if
// there are no such records or terms. A term's postings are one list per
// part, and its document frequency their sum: a block lies in one part,
// so a record's score and a block's bound are what one index would give.
func newQuery(parts []Part, text string, limit int, upTo uint64) *query {
	var n, total, next uint64
	q := &query{limit: limit}
	for _, p := range parts {
		base, k := p.span()
		if uint64(base) != next || (base%blockSize != 0) {
			panic(fmt.Sprintf("bm25: a part starts at record %d after %d records", base, next))
		}
		next += uint64(k)
		if n >= upTo || k == 0 {
			continue
		}
		lens := p.lengths()
		if end := n + uint64(k); end > upTo {
			for _, l := range lens[:upTo-n] {
				total += uint64(l)
			}
			n = upTo
		} else {
			total += p.totalLen()
			n = end
		}
		q.parts = append(q.parts, partView{Part: p, i: len(q.parts), base: base, lens: lens})
	}
	if n == 0 {
		return nil
	}
	avg := float64(total) / float64(n)
	q.lenFree, q.perLen, q.maxDoc = bm25K1*(1-bm25B), bm25K1*bm25B/avg, uint32(n)
	seen := map[string]bool{}
	for _, t := range tokenize.Tokens(text) {
		if seen[t] {
			continue
		}
		seen[t] = true
		var lists []*termPostings
		df := 0
		for i, p := range q.parts {
			tp := p.postings(t)
			if tp == nil {
				continue
			}
			count := tp.before(q.maxDoc)
			if count > 0 {
				if lists == nil {
					lists = make([]*termPostings, len(q.parts))
				}
				df += count
				lists[i] = tp
			}
		}
		if df > 0 {
			q.terms = append(q.terms, queryTerm{lists})
			q.idf = append(q.idf, math.Log(1+(float64(n)-float64(df)+0.5)/(float64(df)+0.5)))
		}
	}
	if len(q.terms) == 0 {
		return nil
	}
	q.slack = 1 + float64(len(q.terms)+4)*1e-6
	return q
}

// partOf returns the part holding block id.
func (q *query) partOf(id uint32) *partView {
	doc := id << blockShift
	i := sort.Search(len(q.parts), func(i int) bool { return q.parts[i].base > doc }) - 1
	return &q.parts[i]
}

// candidates bounds what each of the first nBlocks blocks can score for q
// and returns those where some query term occurs, in block order. It
// points q.at into sc; the caller clears q.at[t][:nBlocks] when done.
func (sc *queryScratch) candidates(q *query, nBlocks int) []candidate {
	if cap(sc.bounds) < nBlocks {
		sc.bounds = make([]float32, nBlocks)
		sc.done = make([]bool, nBlocks)
	}
	bounds := sc.bounds[:nBlocks]
	for len(sc.at) < len(q.terms) {
		sc.at = append(sc.at, nil)
	}
	q.at = sc.at[:len(q.terms)]
	for t, qt := range q.terms {
		if q.ctx.Err() != nil {
			break // answered by Search; the rows are whole, to clear
		}
		if cap(q.at[t]) < nBlocks {
			q.at[t] = make([]uint32, nBlocks)
		}
		at := q.at[t][:nBlocks]
		for _, tp := range qt.lists {
			if tp == nil {
				continue
			}
			if p := &tp.packed; p.bounds != nil {
				for i, b := range p.bounds {
					id := p.first + uint32(i)
					if int(id) >= nBlocks {
						break
					}
					if b.tf == 0 {
						continue
					}
					tf, n := b.unpack(tp.maxTF)
					bounds[id] += float32(q.weight(t, tf, n))
					at[id] = uint32(i) + 1
				}
				continue
			}
			if tp.blocks != nil {
				for i, b := range tp.blocks {
					if int(b.id) >= nBlocks {
						break
					}
					bounds[b.id] += float32(q.weight(t, uint32(b.maxTF), uint32(b.minLen)))
					at[b.id] = uint32(i) + 1
				}
				continue
			}
			w := float32(q.weight(t, tp.maxTF, tp.minLen))
			for i, doc := range tp.docs {
				if doc >= q.maxDoc {
					break
				}
				if id := doc >> blockShift; at[id] == 0 {
					bounds[id] += w
					at[id] = uint32(i) + 1
				}
			}
		}
	}
	blocks := sc.blocks[:0]
	for id, b := range bounds {
		if b > 0 {
			blocks = append(blocks, candidate{uint32(id), float32(float64(b) * q.slack)})
			bounds[id] = 0
		}
	}
	sc.blocks = blocks
	return blocks
}

// scoreBlocks scores the candidate blocks that can still enter the
// results and returns the best records.
func scoreBlocks(q *query, sc *queryScratch, blocks []candidate) (ids []string, scores []float64, scored int) {
	// The best-bounded blocks first, in order of bound, to raise the floor
	// quickly; then the rest in record order, whose postings lie in memory
	// in the order they are read.
	order := append(sc.order[:0], blocks...)
	sc.order = order
	first := min(len(order), firstBlocks)
	selectBest(order, first)
	main := newScorer()
	working := []*scorer{main}
	defer func() {
		for _, c := range order[:first] {
			sc.done[c.block] = false
		}
		for _, w := range working {
			scorers.Put(w)
		}
	}()
	for _, c := range order[:first] {
		if c.bound < q.floor.get() || q.ctx.Err() != nil {
			return results(q, working) // the rest are bounded no higher
		}
		main.score(q, c.block)
		sc.done[c.block] = true
	}
	var next atomic.Int64
	run := func(w *scorer) {
		for {
			end := int(next.Add(chunkBlocks))
			start := end - chunkBlocks
			if start >= len(blocks) || q.ctx.Err() != nil {
				return
			}
			for _, c := range blocks[start:min(end, len(blocks))] {
				if !sc.done[c.block] && c.bound >= q.floor.get() {
					w.score(q, c.block)
				}
			}
		}
	}
	if workers := min(runtime.GOMAXPROCS(0), maxScorers); workers > 1 && len(blocks)-first >= parallelAbove {
		var wg sync.WaitGroup
		for range workers - 1 {
			w := newScorer()
			working = append(working, w)
			wg.Go(func() { run(w) })
		}
		run(main)
		wg.Wait()
	} else {
		run(main)
	}
	return results(q, working)
}

// queryScratch is one query's working memory, reused across queries.
type queryScratch struct {
	bounds []float32   // per block
	blocks []candidate // by block
	order  []candidate // by bound, for the first few
	done   []bool      // per block: scored among the first few
	// at[t][b] is 1 + where query term t's postings for block b start (an
	// index into its blocks if it is common, its postings if not), or 0.
	at [][]uint32
}

// query is one search: its terms, BM25 constants and shared state.
type query struct {
	terms   []queryTerm
	idf     []float64
	lenFree float64 // k1*(1-b)
	perLen  float64 // k1*b/avg
	parts   []partView
	// slack covers float32 rounding: a record's score is a float32 sum of
	// float32 weights, its bounds float64 sums of float64 weights, and the
	// two may differ in their last bits.
	slack  float64
	limit  int
	maxDoc uint32 // records from maxDoc on are not counted
	ctx    context.Context
	at     [][]uint32
	floor  floor
}

// weight is BM25's score for one term: idf * f*(k1+1) / (f + k1*(1-b) + k1*b*len/avg).
func (q *query) weight(t int, f, length uint32) float64 {
	return q.idf[t] * float64(f) * (bm25K1 + 1) / (float64(f) + q.lenFree + q.perLen*float64(length))
}

// floor is the highest limit-th best score any scorer of a query holds:
// a record or block that cannot reach it cannot enter the results. Scores
// are never negative, so their float32 bits order as integers.
type floor struct{ bits atomic.Uint32 }

func (f *floor) get() float32 { return math.Float32frombits(f.bits.Load()) }

func (f *floor) raise(score float32) {
	for {
		old := f.bits.Load()
		if math.Float32frombits(old) >= score || f.bits.CompareAndSwap(old, math.Float32bits(score)) {
			return
		}
	}
}

func newScorer() *scorer {
	w, _ := scorers.Get().(*scorer)
	if w == nil {
		w = &scorer{}
	}
	w.best, w.scored, w.part = w.best[:0], 0, nil
	return w
}

// results merges the scorers' best records, best first, and counts the
// blocks they scored.
func results(q *query, scorers []*scorer) (ids []string, scores []float64, scored int) {
	best := make(minHeap, 0, q.limit+1)
	for _, w := range scorers {
		scored += w.scored
		for _, h := range w.best {
			heap.Push(&best, h)
			if len(best) > q.limit {
				heap.Pop(&best)
			}
		}
	}
	ids = make([]string, len(best))
	scores = make([]float64, len(best))
	for i := len(best) - 1; i >= 0; i-- {
		x := heap.Pop(&best).(hit)
		p := q.partOf(x.doc >> blockShift)
		ids[i], scores[i] = p.idAt(x.doc-p.base), float64(x.score)
	}
	return ids, scores, scored
}
