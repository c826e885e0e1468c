package registry

import (
	"context"
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
// next match, which indexes them as one new segment; segments merge while
// the newest is at least half the size of the one before it, so sizes fall
// geometrically (a logarithmic number of segments) and each byte is
// re-indexed a logarithmic number of times. An append never rebuilds the
// whole datanet's array.
type corpusIndex struct {
	buildState            // of the first segment
	build      sync.Mutex // one catch-up at a time
	mu         sync.Mutex // guards segs, pending and through
	segs       []*corpus.Segment
	pending    []Record
	through    uint64 // the last version the segments hold
	registry   *Registry
	datanet    string
	dir        string // of its segment files, or ""
}

// corpusIndexFor returns the datanet's index, brought up to date. The first
// segment is built from a snapshot without holding r.mu, so appends go on
// meanwhile; other matches wait for it.
func (r *Registry) corpusIndexFor(ctx context.Context, datanet string) ([]*corpus.Segment, error) {
	ix, err := lazyIndex(ctx, r, r.corpus, datanet, func() *corpusIndex { return &corpusIndex{registry: r, datanet: datanet, dir: r.corpusFiles(datanet)} }, func(ctx context.Context, ix *corpusIndex) {
		r.fillCorpusIndex(ctx, datanet, ix)
	})
	if err != nil {
		return nil, err
	}
	return ix.catchUp(), nil
}

// fillCorpusIndex builds ix's segments up to the datanet's version now:
// those of its files still good, and the rest from its records in version
// order (see corpusfiles.go). Appends go on meanwhile; other matches wait.
func (r *Registry) fillCorpusIndex(ctx context.Context, datanet string, ix *corpusIndex) {
	dir := r.corpusFiles(datanet)
	var segs []*corpus.Segment
	d, err := r.Datanet(ctx, datanet)
	if err == nil && dir != "" {
		segs = r.openSegmentFiles(datanet, dir)
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
		var more []*corpus.Segment
		more, err = r.buildSegments(ctx, datanet, dir, after, d.Version)
		segs = append(segs, more...)
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
		if rec.Version > ix.through { // not already in the first segment
			pending = append(pending, rec)
		}
	}
	segs := slices.Clone(ix.segs)
	ix.pending = nil
	ix.mu.Unlock()
	if len(pending) == 0 {
		return segs
	}
	segs = ix.registry.appendSegments(ix.datanet, ix.dir, segs, pending)
	ix.mu.Lock()
	ix.segs, ix.through = segs, pending[len(pending)-1].Version
	ix.mu.Unlock()
	return segs
}

// CorpusMatch returns the maximal spans of text, at least minTokens words
// long and aligned to word boundaries, that occur verbatim in some record of
// datanet, with the records that contain each.
func (r *Registry) CorpusMatch(ctx context.Context, datanet, text string, minTokens int) ([]abi.Span, error) {
	return r.corpusMatchAt(ctx, datanet, text, minTokens, allVersions)
}

// corpusMatchAt is CorpusMatch over the records of versions up to upTo.
func (r *Registry) corpusMatchAt(ctx context.Context, datanet, text string, minTokens int, upTo uint64) ([]abi.Span, error) {
	if _, err := r.Datanet(ctx, datanet); err != nil {
		return nil, err
	}
	segs, err := r.corpusIndexFor(ctx, datanet)
	if err != nil {
		return nil, err
	}
	return corpus.Match(segs, text, minTokens, upTo), nil
}
