package registry

import (
	"fmt"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/kv"
)

// Records other hosts append to a shared store reach this host's indexes
// by a sequence cursor. A datanet's version counts the records appended to
// it, so an index holding versions 1..n catches up to version v by reading
// versions n+1..v from the store, in order, before it answers a query that
// read v. No query is answered from an index behind the version it read.
// (This host's own appends reach its indexes as they commit, so on a store
// no other host writes there is never anything to read.)

// recordsFrom reads datanet's records of versions from..to, in order.
func (r *Registry) recordsFrom(datanet string, from, to uint64) ([]Record, error) {
	var out []Record
	err := r.db.View(func(txn kv.Txn) error {
		for v := from; v <= to; v++ {
			id, err := txn.Get(versionIDKey(datanet, v))
			if err != nil {
				return fmt.Errorf("version %d: %w", v, err)
			}
			var rec Record
			if err := kv.GetJSON(txn, recordKey(datanet, string(id)), &rec); err != nil {
				return fmt.Errorf("record of version %d: %w", v, err)
			}
			out = append(out, rec)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("registry: catch up with %s: %w", datanet, err)
	}
	return out, nil
}

// feedSearch brings ix to at least version v of datanet.
func (r *Registry) feedSearch(datanet string, ix *searchIndex, v uint64) error {
	if ix.last() >= v {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.feedSearchLocked(datanet, ix, v)
}

// feedSearchLocked is feedSearch with r.mu held.
func (r *Registry) feedSearchLocked(datanet string, ix *searchIndex, v uint64) error {
	have := ix.last()
	if have >= v {
		return nil
	}
	recs, err := r.recordsFrom(datanet, have+1, v)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		if !ix.add(rec.Version, rec.ID, rec.Content) {
			dropIndex(r.search, datanet, ix)
			return errorf(abi.CodeUnavailable, "the search index of %s fell out of step; it is rebuilt on the next query", datanet)
		}
	}
	return nil
}

// feedCorpus queues for ix the records of datanet up to version v that it
// has not seen; its next catch-up indexes them.
func (r *Registry) feedCorpus(datanet string, ix *corpusIndex, v uint64) error {
	if ix.seen() >= v {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.feedCorpusLocked(datanet, ix, v)
}

// feedCorpusLocked is feedCorpus with r.mu held.
func (r *Registry) feedCorpusLocked(datanet string, ix *corpusIndex, v uint64) error {
	have := ix.seen()
	if have >= v {
		return nil
	}
	recs, err := r.recordsFrom(datanet, have+1, v)
	if err != nil {
		return err
	}
	ix.appended(recs...)
	return nil
}

// seen is the last version ix holds or has queued.
func (ix *corpusIndex) seen() uint64 {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	have := ix.through
	for _, p := range ix.pending {
		have = max(have, p.Version)
	}
	return have
}
