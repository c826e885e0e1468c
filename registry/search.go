package registry

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/corpus"
)

// corpusIndex is a datanet's corpus_match index: suffix arrays over its
// records, each over records concatenated with a NUL between them so that
// no match crosses a record boundary.
//
// Records appended after the index was built wait in pending until the
// next match, which indexes them as one new segment in memory; segments in
// memory merge while the newest is at least half the size of the one
// before it, so sizes fall geometrically (a logarithmic number of
// segments) and each byte is re-indexed a logarithmic number of times. An
// append never rebuilds the whole datanet's array. Once the segments in
// memory add up to persistAt bytes, a background job writes them as files
// and merges files (see corpusfiles.go); matches go on meanwhile.
type corpusIndex struct {
	buildState            // of the first segments
	build      sync.Mutex // one catch-up at a time
	mu         sync.Mutex // guards the fields below
	segs       []*corpus.Segment
	pending    []Record
	through    uint64 // the last version the segments hold
	// frozen are the segments in memory a background job is writing to
	// files: they are not merged meanwhile, and the job swaps them (with
	// the files before them) for its files when done.
	frozen    map[*corpus.Segment]bool
	persisted sync.WaitGroup // the background job, if one runs
	persistAt int            // bytes in memory at which a job is started
	registry  *Registry
	datanet   string
	dir       string // of its segment files, or ""
}

// corpusIndexFor returns the datanet's index, brought up to date. The first
// segment is built from a snapshot without holding r.mu, so appends go on
// meanwhile; other matches wait for it.
func (r *Registry) corpusIndexFor(ctx context.Context, datanet string) ([]*corpus.Segment, error) {
	ix, err := lazyIndex(ctx, r, r.corpus, datanet, func() *corpusIndex {
		return &corpusIndex{registry: r, datanet: datanet, dir: r.corpusFiles(datanet), persistAt: persistCorpusBytes}
	}, func(ctx context.Context, ix *corpusIndex) {
		r.fillCorpusIndex(ctx, datanet, ix)
	})
	if err != nil {
		return nil, err
	}
	return ix.catchUp(), nil
}

// corpusIndexAt is corpusIndexFor holding at least the datanet's version
// v, whoever appended it.
func (r *Registry) corpusIndexAt(ctx context.Context, datanet string, v uint64) ([]*corpus.Segment, error) {
	if _, err := r.corpusIndexFor(ctx, datanet); err != nil {
		return nil, err
	}
	r.mu.Lock()
	ix := r.corpus[datanet]
	r.mu.Unlock()
	if ix == nil {
		return nil, errorf(abi.CodeUnavailable, "the index of %s was dropped; try again", datanet)
	}
	if err := r.feedCorpus(datanet, ix, v); err != nil {
		return nil, err
	}
	return ix.catchUp(), nil
}

// fillCorpusIndex builds ix's segments up to the datanet's version now:
// those of its files still good, and the rest from its records in version
// order (see corpusfiles.go). Appends go on meanwhile; other matches wait.
func (r *Registry) fillCorpusIndex(ctx context.Context, datanet string, ix *corpusIndex) {
	var segs []*corpus.Segment
	d, err := r.Datanet(ctx, datanet)
	if err == nil && ix.dir != "" {
		segs = r.openSegmentFiles(datanet, ix.dir)
		if n := len(segs); n > 0 && segs[n-1].Last() > d.Version {
			// Versions appended since d was read: index from the records.
			segs = nil
		}
	}
	if err == nil {
		var after uint64
		if n := len(segs); n > 0 {
			after = segs[n-1].Last()
		}
		var w *segmentWriter
		w, err = r.buildSegments(ctx, datanet, ix.dir, after, d.Version)
		if err == nil {
			segs = append(segs, w.segs...)
			if w.failed != nil {
				ix.persistAt = max(ix.persistAt, 2*w.inMemory)
			}
		}
	}
	if err != nil {
		r.mu.Lock()
		dropIndex(r.corpus, datanet, ix)
		r.mu.Unlock()
		ix.done(err)
		return
	}
	ix.mu.Lock()
	ix.segs, ix.through = segs, d.Version
	// Files the build (or earlier starts) left small are merged in the
	// background.
	ix.startPersist(true)
	ix.mu.Unlock()
	ix.done(nil)
}

// appended queues records just added to the datanet. The caller holds r.mu.
func (ix *corpusIndex) appended(recs ...Record) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.pending = append(ix.pending, recs...)
}

// catchUp indexes pending records and returns the segments to match.
func (ix *corpusIndex) catchUp() []*corpus.Segment {
	ix.build.Lock()
	defer ix.build.Unlock()
	ix.mu.Lock()
	var pending []Record
	for _, rec := range ix.pending {
		if rec.Version > ix.through { // not already in the first segments
			pending = append(pending, rec)
		}
	}
	ix.pending = nil
	if len(pending) == 0 {
		defer ix.mu.Unlock()
		// Segments left in memory while a job ran are written now.
		ix.startPersist(false)
		return slices.Clone(ix.segs)
	}
	// The segments in memory at the end that may merge with the new one.
	k := len(ix.segs)
	for k > 0 && !ix.segs[k-1].Mapped() && !ix.frozen[ix.segs[k-1]] {
		k--
	}
	old := slices.Clone(ix.segs[k:])
	ix.mu.Unlock()

	tail := appendInMemory(slices.Clone(old), pending)

	ix.mu.Lock()
	defer ix.mu.Unlock()
	// A background job may have swapped segments before old for files
	// meanwhile, never old itself: only catch-ups (one at a time) change
	// the end of the index, and only they start jobs.
	k = len(ix.segs) - len(old)
	ix.segs = append(ix.segs[:k:k], tail...)
	ix.through = pending[len(pending)-1].Version
	ix.startPersist(false)
	return slices.Clone(ix.segs)
}

// appendInMemory adds a segment of recs (in version order, after tail) to
// tail, merging it with those before it while about its size.
func appendInMemory(tail []*corpus.Segment, recs []Record) []*corpus.Segment {
	ids, contents := make([]string, len(recs)), make([]string, len(recs))
	for i, rec := range recs {
		ids[i], contents[i] = rec.ID, rec.Content
	}
	tail = append(tail, corpus.NewSegment(recs[0].Version, ids, contents))
	for n := len(tail); n >= 2 && 2*tail[n-1].Size() >= tail[n-2].Size(); n = len(tail) {
		tail = append(tail[:n-2], tail[n-2].Merge(tail[n-1]))
	}
	return tail
}

// CorpusMatch returns the maximal spans of text, at least minTokens words
// long and aligned to word boundaries, that occur verbatim in some record of
// datanet, with the records that contain each, or none where more than
// MaxSpanRecords do. It gives up when ctx ends, and with
// [abi.CodeRecordLimit] when the spans would meet more than maxMatchRecords
// records.
func (r *Registry) CorpusMatch(ctx context.Context, datanet, text string, minTokens int) ([]abi.Span, error) {
	return r.corpusMatchAt(ctx, datanet, text, minTokens, allVersions)
}

// corpusMatchAt is CorpusMatch over the records of versions up to upTo.
func (r *Registry) corpusMatchAt(ctx context.Context, datanet, text string, minTokens int, upTo uint64) ([]abi.Span, error) {
	d, err := r.Datanet(ctx, datanet)
	if err != nil {
		return nil, err
	}
	segs, err := r.corpusIndexAt(ctx, datanet, d.Version)
	if err != nil {
		return nil, err
	}
	spans, err := corpus.MatchContext(ctx, segs, text, minTokens, upTo, MaxSpanRecords, maxMatchRecords)
	switch {
	case errors.Is(err, corpus.ErrTooManyRecords):
		return nil, errorf(abi.CodeRecordLimit, "corpus_match: the spans of this text name more than %d records; ask for longer spans", maxMatchRecords)
	case err != nil:
		return nil, abi.FromContext(err)
	}
	return spans, nil
}

// MaxSpanRecords bounds the records CorpusMatch names for one span: a span
// held by more names none (abi.Span). It is common to many, and attributed
// to none of them (model.MaxSources is far below); which records a scan
// cut short met first depends on the index's files, which merges change,
// and a payout re-run to verify it must not.
const MaxSpanRecords = 256

// maxMatchRecords bounds the record ids one CorpusMatch meets, counted once
// per span, up to MaxSpanRecords+1 a span whether it names them or not (a
// variable for tests): the operator's most records one call may read
// (runtime.MaxRecords). A common word in a datanet larger than memory is in
// millions of records, and naming them would take the node's memory, not
// the caller's.
var maxMatchRecords = 100_000
