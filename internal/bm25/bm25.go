// Package bm25 is an in-memory BM25 inverted index over records numbered
// in the order they were added: built from records given in any order
// ([Builder]), grown by appends ([Index.Add]), and queried for the best
// records up to a version ([Index.TopScored]) with exact block-max pruning.
package bm25

import (
	"container/heap"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/tollgate-dev/tollgate/abi"
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
type Index struct {
	mu      sync.RWMutex
	terms   map[string]*termPostings
	docLen  []uint32
	ids     idList
	total   uint64
	scratch sync.Pool // *queryScratch
	scorers sync.Pool // *scorer
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
	maxTF  uint32
	minLen uint32
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
	if version != uint64(s.ids.len())+1 {
		return false
	}
	doc := uint32(s.ids.len())
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
			tp.buildBlocks(s.docLen)
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

func (tp *termPostings) buildBlocks(docLen []uint32) {
	for i, doc := range tp.docs {
		id, tf := doc>>blockShift, uint32(tp.tfs[i])
		if len(tp.blocks) == 0 || tp.blocks[len(tp.blocks)-1].id != id {
			tp.blocks = append(tp.blocks, block{id: id, start: uint32(i), maxTF: uint16(tf), minLen: uint16(docLen[doc])})
			continue
		}
		last := &tp.blocks[len(tp.blocks)-1]
		last.maxTF = max(last.maxTF, uint16(tf))
		last.minLen = min(last.minLen, uint16(docLen[doc]))
	}
}

// inBlock returns the term's postings for records in the block whose entry
// in blocks (if the term is common) or first posting (if not) is at i,
// with their largest frequency and shortest record.
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
	terms   []*termPostings
	idf     []float64
	lenFree float64 // k1*(1-b)
	perLen  float64 // k1*b/avg
	docLen  []uint32
	// slack covers float32 rounding: a record's score is a float32 sum of
	// float32 weights, its bounds float64 sums of float64 weights, and the
	// two may differ in their last bits.
	slack  float64
	limit  int
	maxDoc uint32 // records from maxDoc on are not counted
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
// says how many blocks it scored.
func (s *Index) TopScored(text string, limit int, upTo uint64) (ids []string, scores []float64, scored int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n, total := s.ids.len(), s.total
	if upTo < uint64(n) {
		n, total = int(upTo), 0
		for _, l := range s.docLen[:n] {
			total += uint64(l)
		}
	}
	if n == 0 {
		return nil, nil, 0
	}
	avg := float64(total) / float64(n)
	q := &query{lenFree: bm25K1 * (1 - bm25B), perLen: bm25K1 * bm25B / avg, docLen: s.docLen, limit: limit, maxDoc: uint32(n)}
	seen := map[string]bool{}
	for _, t := range tokenize.Tokens(text) {
		tp := s.terms[t]
		if seen[t] || tp == nil {
			continue
		}
		seen[t] = true
		df := len(tp.docs)
		if n < s.ids.len() {
			df = sort.Search(df, func(i int) bool { return tp.docs[i] >= uint32(n) })
		}
		if df == 0 {
			continue
		}
		q.terms = append(q.terms, tp)
		q.idf = append(q.idf, math.Log(1+(float64(n)-float64(df)+0.5)/(float64(df)+0.5)))
	}
	if len(q.terms) == 0 {
		return nil, nil, 0
	}
	q.slack = 1 + float64(len(q.terms)+4)*1e-6

	sc, _ := s.scratch.Get().(*queryScratch)
	if sc == nil {
		sc = &queryScratch{}
	}
	defer s.scratch.Put(sc)
	nBlocks := (n + blockSize - 1) / blockSize
	if cap(sc.bounds) < nBlocks {
		sc.bounds = make([]float32, nBlocks)
		sc.done = make([]bool, nBlocks)
	}
	bounds := sc.bounds[:nBlocks]
	for len(sc.at) < len(q.terms) {
		sc.at = append(sc.at, nil)
	}
	q.at = sc.at[:len(q.terms)]
	for t, tp := range q.terms {
		if cap(q.at[t]) < nBlocks {
			q.at[t] = make([]uint32, nBlocks)
		}
		at := q.at[t][:nBlocks]
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
	defer func() {
		for _, at := range q.at {
			clear(at[:nBlocks])
		}
	}()
	blocks := sc.blocks[:0]
	for id, b := range bounds {
		if b > 0 {
			blocks = append(blocks, candidate{uint32(id), float32(float64(b) * q.slack)})
			bounds[id] = 0
		}
	}
	sc.blocks = blocks

	// The best-bounded blocks first, in order of bound, to raise the floor
	// quickly; then the rest in record order, whose postings lie in memory
	// in the order they are read.
	order := append(sc.order[:0], blocks...)
	sc.order = order
	first := min(len(order), firstBlocks)
	selectBest(order, first)
	main := s.scorer()
	scorers := []*scorer{main}
	defer func() {
		for _, c := range order[:first] {
			sc.done[c.block] = false
		}
		for _, w := range scorers {
			s.scorers.Put(w)
		}
	}()
	for _, c := range order[:first] {
		if c.bound < q.floor.get() {
			return s.results(q, scorers) // the rest are bounded no higher
		}
		main.score(q, c.block)
		sc.done[c.block] = true
	}
	var next atomic.Int64
	run := func(w *scorer) {
		for {
			end := int(next.Add(chunkBlocks))
			start := end - chunkBlocks
			if start >= len(blocks) {
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
			w := s.scorer()
			scorers = append(scorers, w)
			wg.Go(func() { run(w) })
		}
		run(main)
		wg.Wait()
	} else {
		run(main)
	}
	return s.results(q, scorers)
}

func (s *Index) scorer() *scorer {
	w, _ := s.scorers.Get().(*scorer)
	if w == nil {
		w = &scorer{}
	}
	w.best, w.scored = w.best[:0], 0
	return w
}

// results merges the scorers' best records, best first, and counts the
// blocks they scored.
func (s *Index) results(q *query, scorers []*scorer) (ids []string, scores []float64, scored int) {
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
		ids[i], scores[i] = s.ids.at(x.doc), float64(x.score)
	}
	return ids, scores, scored
}

// scorer scores blocks into its own best records; a query has one for
// each core it uses.
type scorer struct {
	best    minHeap
	scored  int
	acc     [blockSize]float32
	touched [blockSize]bool
	contrib [][blockSize]float32 // per query term, per record of the block
	tfAt    [][blockSize]uint16  // per query term, per record of the block
	terms   []blockTerm
	upTo    []float64
}

// blockTerm is one query term's postings in the block being scored.
type blockTerm struct {
	docs  []uint32
	tfs   []uint16
	bound float64 // the most it adds to any record of the block
	q     int     // its place in the query
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
	terms := w.terms[:0]
	for t, tp := range q.terms {
		if at := q.at[t][id]; at > 0 {
			docs, tfs, maxTF, minLen := tp.inBlock(at - 1)
			terms = append(terms, blockTerm{docs: docs, tfs: tfs, bound: q.weight(t, maxTF, minLen), q: t})
		}
	}
	w.terms = terms
	// Insertion sort by bound: a handful of terms, and no allocation.
	for i := 1; i < len(terms); i++ {
		for j := i; j > 0 && terms[j].bound < terms[j-1].bound; j-- {
			terms[j], terms[j-1] = terms[j-1], terms[j]
		}
	}
	if len(w.contrib) < len(q.terms) {
		w.contrib = make([][blockSize]float32, len(q.terms))
		w.tfAt = make([][blockSize]uint16, len(q.terms))
	}
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
	candidates := 0
	for _, t := range terms[essential:] {
		for j, doc := range t.docs {
			if doc >= q.maxDoc {
				break
			}
			i := doc & (blockSize - 1)
			x := float32(q.weight(t.q, uint32(t.tfs[j]), q.docLen[doc]))
			w.contrib[t.q][i] = x
			w.acc[i] += x
			if !w.touched[i] {
				w.touched[i] = true
				candidates++
			}
		}
	}
	// Few candidates look the other terms up by binary search; many have
	// them written out by record, which costs less than searching each.
	search := candidates <= spreadAbove
	base := id << blockShift
	for i := range w.touched {
		if !w.touched[i] {
			continue
		}
		doc := base + uint32(i)
		partial, dropped := float64(w.acc[i]), false
		for k := essential - 1; k >= 0; k-- {
			if (partial+upTo[k+1])*q.slack < threshold {
				dropped = true
				break
			}
			t := &terms[k]
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
				x := float32(q.weight(t.q, uint32(tf), q.docLen[doc]))
				w.contrib[t.q][i] = x
				partial += float64(x)
			}
		}
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

// Builder collects a Index from records given in any order.
type Builder struct {
	n       uint64
	docLen  []uint32
	ids     []string
	workers []*Tokenizer
}

// NewBuilder returns a builder of an index over records of versions 1..n.
func NewBuilder(n uint64) *Builder {
	return &Builder{n: n, docLen: make([]uint32, n), ids: make([]string, n)}
}

// N is the number of records the builder takes.
func (b *Builder) N() uint64 { return b.n }

// Tokenizer returns a new worker; workers may add concurrently.
func (b *Builder) Tokenizer() *Tokenizer {
	w := &Tokenizer{b: b, terms: map[string]*termBuild{}}
	b.workers = append(b.workers, w)
	return w
}

// Tokenizer indexes records into its own postings.
type Tokenizer struct {
	b     *Builder
	terms map[string]*termBuild
	buf   []byte
}

// termBuild is one term's postings as doc<<32 | tf, in the order seen.
type termBuild struct {
	ps   []uint64
	last uint32 // 1 + the record of ps's last entry
}

// Add indexes the record that made version, from any worker, in any order.
func (w *Tokenizer) Add(version uint64, id, content string) error {
	if version == 0 || version > w.b.n {
		return abi.Errorf(abi.CodeInternal, "record %s has version %d, outside 1..%d", id, version, w.b.n)
	}
	doc := uint32(version - 1)
	if w.b.ids[doc] != "" {
		return abi.Errorf(abi.CodeInternal, "records %s and %s both have version %d", w.b.ids[doc], id, version)
	}
	w.b.ids[doc] = id
	var length uint32
	w.buf = tokenize.Each(content, w.buf, func(tok []byte) {
		length++
		tb := w.terms[string(tok)]
		if tb == nil {
			tb = &termBuild{}
			w.terms[string(tok)] = tb
		}
		if tb.last == doc+1 {
			tb.ps[len(tb.ps)-1]++
			return
		}
		tb.ps = append(tb.ps, uint64(doc)<<32|1)
		tb.last = doc + 1
	})
	w.b.docLen[doc] = length
	return nil
}

// Finish merges the workers' postings into an index.
func (b *Builder) Finish() (*Index, error) {
	s := New()
	for doc, id := range b.ids {
		if id == "" {
			return nil, abi.Errorf(abi.CodeInternal, "no record has version %d", doc+1)
		}
		s.ids.add(id)
		s.total += uint64(b.docLen[doc])
	}
	s.docLen = b.docLen
	merged := map[string][][]uint64{}
	for _, w := range b.workers {
		for t, tb := range w.terms {
			merged[t] = append(merged[t], tb.ps)
		}
	}
	type job struct {
		term string
		ps   [][]uint64
		out  *termPostings
	}
	jobs := make([]job, 0, len(merged))
	for t, ps := range merged {
		jobs = append(jobs, job{term: t, ps: ps})
	}
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(jobs); i += workers {
				jobs[i].out = sortedPostings(jobs[i].ps, s.docLen)
			}
		})
	}
	wg.Wait()
	for _, j := range jobs {
		s.terms[j.term] = j.out
	}
	return s, nil
}

// sortedPostings merges packed postings into one term's postings in record
// order.
func sortedPostings(parts [][]uint64, docLen []uint32) *termPostings {
	all := parts[0]
	if len(parts) > 1 {
		all = slices.Concat(parts...)
	}
	slices.Sort(all)
	tp := &termPostings{docs: make([]uint32, len(all)), tfs: make([]uint16, len(all)), minLen: ^uint32(0)}
	for i, p := range all {
		doc, tf := uint32(p>>32), uint32(p)
		tp.docs[i], tp.tfs[i] = doc, uint16(tf)
		tp.maxTF = max(tp.maxTF, tf)
		tp.minLen = min(tp.minLen, docLen[doc])
	}
	if len(tp.docs) >= denseAt {
		tp.buildBlocks(docLen)
	}
	return tp
}
