package registry

import (
	"context"
	"fmt"
	goruntime "runtime"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/bm25"
)

// searchIndex is a datanet's BM25 index as the registry keeps it: built on
// first search, and kept current by appends, which are queued while it is
// built and added in order after.
type searchIndex struct {
	buildState
	mu      sync.Mutex // guards pending and ix until built
	pending []Record   // appends made while the index is built
	ix      *bm25.Index
}

// The engine takes every record the registry does.
const _ = bm25.MaxDocBytes - MaxRecordBytes

// newSearchIndex returns an empty index, ready.
func newSearchIndex() *searchIndex {
	ready := make(chan struct{})
	close(ready)
	return &searchIndex{buildState: buildState{ready: ready}, ix: bm25.New()}
}

// add indexes the record that made the given version of the datanet, or
// queues it while the index is built; it reports false if the version is
// not the next one. The caller holds the registry's lock.
func (s *searchIndex) add(version uint64, id, content string) bool {
	s.mu.Lock()
	if !s.isReady() {
		s.pending = append(s.pending, Record{Version: version, ID: id, Content: content})
		s.mu.Unlock()
		return true
	}
	ix := s.ix
	s.mu.Unlock()
	return ix.Add(version, id, content)
}

// searchIndexFor returns the datanet's index, building it on first use
// (see lazyIndex): appends go on meanwhile, queued, then added in order.
func (r *Registry) searchIndexFor(ctx context.Context, datanet string) (*searchIndex, error) {
	return lazyIndex(ctx, r, r.search, datanet, newSearchIndex, func(ctx context.Context, ix *searchIndex) {
		r.fillSearchIndex(ctx, datanet, ix)
	})
}

// fillSearchIndex builds ix from a snapshot, then adds the records appended
// since, under r.mu so no append falls between.
func (r *Registry) fillSearchIndex(ctx context.Context, datanet string, ix *searchIndex) {
	built, version, err := r.buildSearchIndex(ctx, datanet)
	r.mu.Lock()
	defer r.mu.Unlock()
	ix.mu.Lock()
	if err != nil {
		dropIndex(r.search, datanet, ix)
		ix.done(err)
		ix.mu.Unlock()
		return
	}
	ix.ix = built
	pending := ix.pending
	ix.pending = nil
	ix.done(nil)
	ix.mu.Unlock()
	for _, rec := range pending {
		if rec.Version > version && !ix.add(rec.Version, rec.ID, rec.Content) {
			dropIndex(r.search, datanet, ix) // out of step: rebuilt on next use
			return
		}
	}
}

// Search returns up to limit records of datanet ranked by BM25 over their
// tokens (ties to the record added first), omitting records that share no
// token with the query. Each result's Score is its BM25 score.
func (r *Registry) Search(ctx context.Context, datanet, query string, limit int) ([]abi.Record, error) {
	return r.searchAt(ctx, datanet, query, limit, allVersions)
}

// searchAt is Search over the records of versions up to upTo.
func (r *Registry) searchAt(ctx context.Context, datanet, query string, limit int, upTo uint64) ([]abi.Record, error) {
	d, err := r.Datanet(ctx, datanet)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 10
	}
	ix, err := r.searchIndexFor(ctx, datanet)
	if err != nil {
		return nil, err
	}
	if err := r.feedSearch(datanet, ix, d.Version); err != nil {
		return nil, err
	}
	ids, scores, _ := ix.ix.TopScored(query, limit, upTo)
	out := make([]abi.Record, len(ids))
	var missed []int
	for i, id := range ids {
		if rec, ok := r.records.get(datanet, id); ok {
			out[i] = rec.abi()
			out[i].Score = scores[i]
		} else {
			missed = append(missed, i)
		}
	}
	// Records not in the cache are read on all cores (a Badger transaction
	// is not safe for concurrent use, so each read has its own; records
	// never change, so no snapshot is needed across them).
	var g errgroup.Group
	g.SetLimit(goruntime.GOMAXPROCS(0))
	for _, i := range missed {
		g.Go(func() error {
			rec, err := r.loadRecord(datanet, ids[i])
			if err != nil {
				return fmt.Errorf("registry: search result %s/%s: %w", datanet, ids[i], err)
			}
			out[i] = rec.abi()
			out[i].Score = scores[i]
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}
