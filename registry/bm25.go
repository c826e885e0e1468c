package registry

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/bm25"
)

// searchIndex is a datanet's BM25 index as the registry keeps it: built on
// first search, and kept current by appends, which are queued while it is
// built and added in order after.
//
// It is a run of parts holding versions 1 to the last in order (see
// bm25.Search): index files, mapped, then indexes in memory, the last of
// which (the tail) takes appends. A registry with a directory keeps a
// datanet's postings in files under search/<hex of its name>/, named like
// the corpus index's segment files (FIRST-LAST-ROOT.bm25, checked the same
// way at the first search after a start), so that a datanet's postings
// need not fit in memory: the heap holds only the records appended since
// the last file. Once the tail holds persistAt records (and ends a block),
// it is frozen, a new tail starts after it, and a background job writes
// the frozen parts as files and merges files; searches go on meanwhile. A
// file that cannot be written leaves its part in memory, and writing is
// tried again once the tail holds twice as many records.
type searchIndex struct {
	buildState
	mu        sync.Mutex // guards the fields below
	pending   []Record   // appends made while the index is built
	parts     []bm25.Part
	writing   bool // a background job runs
	persistAt int  // records in the tail at which it is frozen and written
	tailBytes int  // of the records appended to the tail
	registry  *Registry
	datanet   string
	dir       string // of its files, or "" (in memory or read-only)
}

// The engine takes every record the registry does.
const _ = bm25.MaxDocBytes - MaxRecordBytes

// persistSearchRecords is how many records the tail takes before it is
// written as a file; searchChunk bounds the records and bytes of one file
// a build writes (variables for tests).
var (
	persistSearchRecords = 1 << 16
	searchChunkRecords   = 1 << 18
	searchChunkBytes     = 64 << 20
)

// searchPage is how many records a build reads at a time.
const searchPage = 4096

// tail is the part appends go to. The caller holds s.mu.
func (s *searchIndex) tail() *bm25.Index { return s.parts[len(s.parts)-1].(*bm25.Index) }

// last is the last version the index holds.
func (s *searchIndex) last() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.parts) == 0 {
		return 0
	}
	return s.tail().Len()
}

// snapshot returns the parts to search.
func (s *searchIndex) snapshot() []bm25.Part {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.parts)
}

// add indexes the record that made the given version of the datanet, or
// queues it while the index is built; it reports false if the version is
// not the next one. The caller holds the registry's lock.
func (s *searchIndex) add(version uint64, id, content string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.isReady() {
		s.pending = append(s.pending, Record{Version: version, ID: id, Content: content})
		return true
	}
	if !s.tail().Add(version, id, content) {
		return false
	}
	s.tailBytes += len(content)
	s.startWriting(false)
	return true
}

// searchIndexFor returns the datanet's index, building it on first use
// (see lazyIndex): appends go on meanwhile, queued, then added in order.
func (r *Registry) searchIndexFor(ctx context.Context, datanet string) (*searchIndex, error) {
	return lazyIndex(ctx, r, r.search, datanet, func() *searchIndex {
		dir := r.indexFiles("search", datanet)
		if r.readOnly {
			dir = ""
		}
		return &searchIndex{registry: r, datanet: datanet, dir: dir, persistAt: persistSearchRecords}
	}, func(ctx context.Context, ix *searchIndex) {
		r.fillSearchIndex(ctx, datanet, ix)
	})
}

// fillSearchIndex builds ix's parts up to the datanet's version now, then
// adds the records appended since, under r.mu so no append falls between.
func (r *Registry) fillSearchIndex(ctx context.Context, datanet string, ix *searchIndex) {
	var parts []bm25.Part
	var version uint64
	var err error
	if r.dir == "" {
		var built *bm25.Index
		built, version, err = r.buildSearchIndex(ctx, datanet)
		parts = []bm25.Part{built}
	} else {
		parts, version, err = r.buildSearchParts(ctx, datanet, r.indexFiles("search", datanet), ix.dir)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ix.mu.Lock()
	if err != nil {
		dropIndex(r.search, datanet, ix)
		ix.done(err)
		ix.mu.Unlock()
		return
	}
	ix.parts = parts
	pending := ix.pending
	ix.pending = nil
	ix.done(nil)
	ix.startWriting(true) // parts the build left in memory, or files to merge
	ix.mu.Unlock()
	for _, rec := range pending {
		if rec.Version > version && !ix.add(rec.Version, rec.ID, rec.Content) {
			dropIndex(r.search, datanet, ix) // out of step: rebuilt on next use
			return
		}
	}
}

// buildSearchParts opens the datanet's index files in from that hold
// versions 1 to some version, and indexes the versions after them up to
// the datanet's version now from its records, in version order: files in
// dir (none if dir is "") of at most searchChunkRecords records or about
// searchChunkBytes bytes (whole blocks), so a build's memory is bounded by
// one file's worth, and a tail in memory for the rest. It returns the
// parts and the version they hold.
func (r *Registry) buildSearchParts(ctx context.Context, datanet, from, dir string) ([]bm25.Part, uint64, error) {
	d, err := r.Datanet(ctx, datanet)
	if err != nil {
		return nil, 0, err
	}
	var parts []bm25.Part
	var after uint64
	if from != "" {
		files := openVersionFiles(r, datanet, from, ".bm25", bm25.OpenFile, bm25.ErrBadFile)
		if n := len(files); n > 0 && files[n-1].Last() > d.Version {
			files = nil // versions appended since d was read: index from the records
		}
		for _, f := range files {
			parts = append(parts, f)
			after = f.Last()
		}
	}
	var chunk []Record
	bytes := 0
	cut := func(final bool) error {
		if len(chunk) == 0 && !final {
			return nil
		}
		first := after + 1
		ix, err := buildSearchChunk(first, chunk)
		if err != nil {
			return fmt.Errorf("registry: search index of %s: %w", datanet, err)
		}
		chunk, bytes = nil, 0
		after = ix.Len()
		r.storeReads.pageOut()
		if !final && dir != "" {
			if f, err := r.writeSearchFile(datanet, dir, ix); err == nil {
				parts = append(parts, f)
				return nil
			} else if r.ctx.Err() == nil {
				r.logger.Warn("search index: writing a file; indexing in memory", "dir", dir, "err", err)
				dir = ""
			}
		}
		parts = append(parts, ix)
		return nil
	}
	// Records are read a page at a time on one core while the pages read
	// before are indexed on the others; a few pages wait at most.
	defer r.storeReads.scan()()
	pages := make(chan []Record, 4)
	readErr := make(chan error, 1)
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	go func() {
		defer close(pages)
		for v := after; v < d.Version; {
			recs, _, err := r.RecordsAt(readCtx, datanet, d.Version, v, searchPage)
			if err == nil && len(recs) == 0 {
				err = fmt.Errorf("registry: %s has no record after version %d of %d", datanet, v, d.Version)
			}
			if err != nil {
				readErr <- err
				return
			}
			select {
			case pages <- recs:
			case <-readCtx.Done():
				return
			}
			v = recs[len(recs)-1].Version
		}
	}()
	v := after
	for recs := range pages {
		for _, rec := range recs {
			if rec.Version != v+1 {
				return nil, 0, fmt.Errorf("registry: %s: record %s has version %d, want %d", datanet, rec.ID, rec.Version, v+1)
			}
			chunk = append(chunk, rec)
			bytes += len(rec.Content)
			v = rec.Version
			if len(chunk)%bm25.BlockRecords == 0 && (len(chunk) >= searchChunkRecords || bytes >= searchChunkBytes) {
				if err := cut(false); err != nil {
					return nil, 0, err
				}
			}
		}
	}
	select {
	case err := <-readErr:
		return nil, 0, err
	default:
	}
	if v != d.Version {
		return nil, 0, fmt.Errorf("registry: %s: read versions up to %d of %d", datanet, v, d.Version)
	}
	if err := cut(true); err != nil {
		return nil, 0, err
	}
	return parts, after, nil
}

// buildSearchChunk indexes recs, of versions first on in order, on all
// cores.
func buildSearchChunk(first uint64, recs []Record) (*bm25.Index, error) {
	if len(recs) == 0 {
		return bm25.NewAt(first)
	}
	b, err := bm25.NewBuilderAt(first, uint64(len(recs)))
	if err != nil {
		return nil, err
	}
	workers := goruntime.GOMAXPROCS(0)
	var g errgroup.Group
	for w := range workers {
		tb := b.Tokenizer()
		g.Go(func() error {
			for i := w; i < len(recs); i += workers {
				if err := tb.Add(recs[i].Version, recs[i].ID, recs[i].Content); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return b.Finish()
}

// writeSearchFile writes a part in memory as the datanet's file in dir,
// mapped.
func (r *Registry) writeSearchFile(datanet, dir string, ix *bm25.Index) (*bm25.File, error) {
	if err := r.ctx.Err(); err != nil {
		return nil, err
	}
	name, err := r.versionsFileName(datanet, ix.First(), ix.Len(), ".bm25")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name)
	if err := bm25.WriteFile(path, ix); err != nil {
		return nil, err
	}
	return bm25.OpenFile(path)
}

// startWriting freezes the tail if it is due (persistAt records, or a
// build's file's bytes, ending a block) and then starts the background job
// that writes the parts in memory before the tail as files and merges
// files, if there is work for it and none runs. Without a freeze it starts
// one only after a build (initial): a part a job failed to write waits for
// the next freeze, so a full disk is tried again each time the tail has
// grown, not at every append. The caller holds s.mu.
func (s *searchIndex) startWriting(initial bool) {
	r := s.registry
	if s.dir == "" || s.writing || r.ctx.Err() != nil {
		return
	}
	tail := s.tail()
	n := tail.Records()
	if n > 0 && n%bm25.BlockRecords == 0 && (n >= s.persistAt || s.tailBytes >= searchChunkBytes) {
		next, err := bm25.NewAt(tail.Len() + 1)
		if err != nil {
			return // past what an index numbers: stays in memory
		}
		s.parts, s.tailBytes = append(s.parts, next), 0
	} else if !initial {
		return
	}
	before := slices.Clone(s.parts[:len(s.parts)-1])
	if !needsWriting(before) || !r.jobs.start() {
		return
	}
	s.writing = true
	go s.write(before)
}

// needsWriting says whether parts hold a part in memory, or files due to
// merge.
func needsWriting(parts []bm25.Part) bool {
	for _, p := range parts {
		if _, ok := p.(*bm25.Index); ok {
			return true
		}
	}
	return len(mergeSearchFiles(nil, "", "", parts, true)) != len(parts)
}

// write writes the parts in memory of before (the parts before the tail
// when it started) as files, merges files, and swaps the result in.
func (s *searchIndex) write(before []bm25.Part) {
	r := s.registry
	defer r.jobs.done()
	out := make([]bm25.Part, 0, len(before))
	failed := false
	for _, p := range before {
		ix, ok := p.(*bm25.Index)
		if !ok || failed {
			out = append(out, p)
			continue
		}
		f, err := r.writeSearchFile(s.datanet, s.dir, ix)
		if err != nil {
			if r.ctx.Err() == nil {
				r.logger.Warn("search index: writing a file; keeping the part in memory", "dir", s.dir, "err", err)
			}
			failed = true
			out = append(out, p)
			continue
		}
		out = append(out, f)
	}
	if !failed {
		out = mergeSearchFiles(r, s.datanet, s.dir, out, false)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writing = false
	// Only this job changes the parts before the tail at its start; the
	// tail may have been frozen since (parts appended after them).
	s.parts = append(out, s.parts[len(before):]...)
	if failed {
		s.persistAt = min(2*s.persistAt, 1<<30)
		return
	}
	s.persistAt = persistSearchRecords
}

// mergeSearchFiles merges the files at the end of parts while the newer
// holds at least half the older's records and the merged file holds no
// more than a build writes (searchChunkRecords): files written from the
// tail merge up to the size of a build's, so a record is rewritten a
// logarithmic number of times and a merge reads a bounded amount. With
// dryRun it only says which it would merge: the result is shorter than
// parts if any.
func mergeSearchFiles(r *Registry, datanet, dir string, parts []bm25.Part, dryRun bool) []bm25.Part {
	parts = slices.Clone(parts)
	for n := len(parts); n >= 2; n = len(parts) {
		a, okA := parts[n-2].(*bm25.File)
		b, okB := parts[n-1].(*bm25.File)
		if !okA || !okB {
			return parts
		}
		if na, nb := a.Last()-a.First()+1, b.Last()-b.First()+1; 2*nb < na || na+nb > uint64(searchChunkRecords) {
			return parts
		}
		if dryRun {
			return parts[:n-1]
		}
		if r.ctx.Err() != nil {
			return parts
		}
		merged, err := r.mergeSearchFile(datanet, dir, a, b)
		if err != nil {
			if r.ctx.Err() == nil {
				r.logger.Warn("search index: merging files", "dir", dir, "err", err)
			}
			return parts
		}
		for _, old := range []*bm25.File{a, b} {
			if name, err := r.versionsFileName(datanet, old.First(), old.Last(), ".bm25"); err == nil {
				os.Remove(filepath.Join(dir, name))
			}
		}
		parts = append(parts[:n-2], merged)
	}
	return parts
}

// mergeSearchFile writes the file of a's and b's versions, mapped.
func (r *Registry) mergeSearchFile(datanet, dir string, a, b *bm25.File) (*bm25.File, error) {
	name, err := r.versionsFileName(datanet, a.First(), b.Last(), ".bm25")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name)
	if err := bm25.WriteMerged(path, a, b); err != nil {
		return nil, err
	}
	return bm25.OpenFile(path)
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
	ids, scores, _, err := bm25.Search(ctx, ix.snapshot(), query, limit, upTo)
	if err != nil {
		return nil, abi.FromContext(err)
	}
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
		if r.ctx.Err() != nil {
			return nil, abi.Wrap(abi.CodeUnavailable, err, "registry is closing")
		}
		return nil, err
	}
	return out, nil
}
