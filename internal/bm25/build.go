package bm25

import (
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/tokenize"
)

// Builder collects a Index from records given in any order.
type Builder struct {
	base    uint32 // the first record's number (version base+1)
	n       uint64
	docLen  []uint32
	ids     []string
	workers []*Tokenizer
}

// NewBuilder returns a builder of an index over records of versions 1..n.
func NewBuilder(n uint64) *Builder {
	b, _ := NewBuilderAt(1, n)
	return b
}

// NewBuilderAt returns a builder of an index over the n records of
// versions first..first+n-1; first must start a block (see NewAt).
func NewBuilderAt(first, n uint64) (*Builder, error) {
	if _, err := NewAt(first); err != nil {
		return nil, err
	}
	if first-1+n > maxDocs {
		return nil, fmt.Errorf("bm25: versions %d-%d are more than an index numbers", first, first-1+n)
	}
	return &Builder{base: uint32(first - 1), n: n, docLen: make([]uint32, n), ids: make([]string, n)}, nil
}

// N is the number of records the builder takes.
func (b *Builder) N() uint64 { return b.n }

// Last is the version of the builder's last record.
func (b *Builder) Last() uint64 { return uint64(b.base) + b.n }

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
	if version <= uint64(w.b.base) || version > w.b.Last() {
		return abi.Errorf(abi.CodeInternal, "record %s has version %d, outside %d..%d", id, version, w.b.base+1, w.b.Last())
	}
	doc := uint32(version - 1)
	at := doc - w.b.base
	if w.b.ids[at] != "" {
		return abi.Errorf(abi.CodeInternal, "records %s and %s both have version %d", w.b.ids[at], id, version)
	}
	w.b.ids[at] = id
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
	w.b.docLen[at] = length
	return nil
}

// Finish merges the workers' postings into an index.
func (b *Builder) Finish() (*Index, error) {
	s := New()
	s.base = b.base
	for at, id := range b.ids {
		if id == "" {
			return nil, abi.Errorf(abi.CodeInternal, "no record has version %d", uint64(b.base)+uint64(at)+1)
		}
		s.ids.add(id)
		s.total += uint64(b.docLen[at])
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
				jobs[i].out = sortedPostings(jobs[i].ps, s.docLen, s.base)
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
// order; docLen is by record number - base.
func sortedPostings(parts [][]uint64, docLen []uint32, base uint32) *termPostings {
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
		tp.minLen = min(tp.minLen, docLen[doc-base])
	}
	if len(tp.docs) >= denseAt {
		tp.buildBlocks(docLen, base)
	}
	return tp
}
