package registry

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/tollgate-dev/tollgate/internal/bm25"
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
func (r *Registry) buildSearchIndex(ctx context.Context, datanet string) (*bm25.Index, uint64, error) {
	var b *bm25.Builder
	batches := make(chan []Record, 4)
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	var batch []Record
	err := r.snapshot(ctx, datanet, func(version uint64) {
		b = bm25.NewBuilder(version)
		for w := range workers {
			tb := b.Tokenizer()
			wg.Go(func() {
				for batch := range batches {
					for _, rec := range batch {
						if errs[w] == nil {
							errs[w] = tb.Add(rec.Version, rec.ID, rec.Content)
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
	ix, err := b.Finish()
	return ix, b.N(), err
}
