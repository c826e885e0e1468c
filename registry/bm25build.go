package registry

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/tollgate-dev/tollgate/abi"
)

// A datanet's search index numbers records by the version that added them
// (record v-1 for version v; every append is one version), so a rebuilt
// index ranks ties exactly as the index that grew with the appends did.
// Badger returns records in id order, so the build places each record at
// its number, collects postings unsorted, and sorts each term's postings
// once at the end. Records are tokenized on all cores, each worker with
// its own postings; the workers' postings are merged per term.

// buildSearchIndex builds a datanet's index from its records as of one
// snapshot, and returns the version it covers.
func (r *Registry) buildSearchIndex(ctx context.Context, datanet string) (*searchIndex, uint64, error) {
	var b *indexBuilder
	batches := make(chan []Record, 4)
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	var batch []Record
	err := r.snapshot(ctx, datanet, func(version uint64) {
		b = newIndexBuilder(version)
		for w := range workers {
			tb := b.tokenizer()
			wg.Go(func() {
				for batch := range batches {
					for _, rec := range batch {
						if errs[w] == nil {
							errs[w] = tb.add(rec.Version, rec.ID, rec.Content)
						}
					}
				}
			})
		}
	}, func(rec Record) error {
		batch = append(batch, rec)
		if len(batch) == 256 {
			batches <- batch
			batch = nil
		}
		return nil
	})
	if len(batch) > 0 {
		batches <- batch
	}
	close(batches)
	wg.Wait()
	if err != nil {
		return nil, 0, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, 0, fmt.Errorf("registry: search index of %s: %w", datanet, err)
		}
	}
	ix, err := b.finish()
	return ix, b.n, err
}

// indexBuilder collects a searchIndex from records given in any order.
type indexBuilder struct {
	n       uint64
	docLen  []uint32
	ids     []string
	workers []*docTokenizer
}

func newIndexBuilder(n uint64) *indexBuilder {
	return &indexBuilder{n: n, docLen: make([]uint32, n), ids: make([]string, n)}
}

// tokenizer returns a new worker; workers may add concurrently.
func (b *indexBuilder) tokenizer() *docTokenizer {
	w := &docTokenizer{b: b, terms: map[string]*termBuild{}}
	b.workers = append(b.workers, w)
	return w
}

// docTokenizer indexes records into its own postings.
type docTokenizer struct {
	b     *indexBuilder
	terms map[string]*termBuild
	buf   []byte
}

// termBuild is one term's postings as doc<<32 | tf, in the order seen.
type termBuild struct {
	ps   []uint64
	last uint32 // 1 + the record of ps's last entry
}

func (w *docTokenizer) add(version uint64, id, content string) error {
	if version == 0 || version > w.b.n {
		return abi.Errorf(abi.CodeInternal, "record %s has version %d, outside 1..%d", id, version, w.b.n)
	}
	doc := uint32(version - 1)
	if w.b.ids[doc] != "" {
		return abi.Errorf(abi.CodeInternal, "records %s and %s both have version %d", w.b.ids[doc], id, version)
	}
	w.b.ids[doc] = id
	var length uint32
	w.buf = forEachToken(content, w.buf, func(tok []byte) {
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

// finish merges the workers' postings into an index.
func (b *indexBuilder) finish() (*searchIndex, error) {
	s := newSearchIndex()
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

// forEachToken calls fn with each token of text, as [Tokens] splits them,
// without allocating: tok is valid only during the call.
func forEachToken(text string, buf []byte, fn func(tok []byte)) []byte {
	buf = buf[:0]
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
				buf = append(buf, c)
			case 'A' <= c && c <= 'Z':
				buf = append(buf, c+'a'-'A')
			default:
				if len(buf) > 0 {
					fn(buf)
					buf = buf[:0]
				}
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		if r = unicode.ToLower(r); unicode.IsLetter(r) || unicode.IsDigit(r) {
			buf = utf8.AppendRune(buf, r)
		} else if len(buf) > 0 {
			fn(buf)
			buf = buf[:0]
		}
	}
	if len(buf) > 0 {
		fn(buf)
	}
	return buf
}
