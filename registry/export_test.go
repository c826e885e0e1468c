package registry

import (
	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/corpus"
	"github.com/tollgate-dev/tollgate/internal/kv"
)

// MemoryCorpus is a corpus_match index built in memory, for benchmarks that
// need a datanet larger than is quick to import.
type MemoryCorpus struct{ segs []*corpus.Segment }

func NewMemoryCorpus(ids, contents []string) *MemoryCorpus {
	return &MemoryCorpus{[]*corpus.Segment{corpus.NewSegment(1, ids, contents)}}
}

func (m *MemoryCorpus) Match(text string, minTokens int) []abi.Span {
	return corpus.Match(m.segs, text, minTokens, allVersions)
}

// SearchIndexBytes returns the memory of a datanet's search index arrays.
func SearchIndexBytes(r *Registry, datanet string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.search[datanet].ix.Bytes()
}

// Flatten compacts the registry's LSM tree, as a node settles into after
// an import, so that benchmarks time queries and not compactions.
func Flatten(r *Registry) error { return r.db.(*kv.Badger).DB().Flatten(2) }

// RankOnly ranks records for query in a datanet's search index, without
// reading them back.
func RankOnly(r *Registry, datanet, query string, limit int) int {
	r.mu.Lock()
	ix := r.search[datanet]
	r.mu.Unlock()
	ids, _ := ix.ix.Top(query, limit)
	return len(ids)
}

// SetPersistCorpusBytes lowers the bytes of appended records the corpus
// index holds in memory before writing them as a file, for tests.
func SetPersistCorpusBytes(n int) (restore func()) {
	old := persistCorpusBytes
	persistCorpusBytes = n
	return func() { persistCorpusBytes = old }
}

// SetMaxSegmentBytes lowers the largest segment file, for tests.
func SetMaxSegmentBytes(n int) (restore func()) {
	old := maxSegmentBytes
	maxSegmentBytes = n
	return func() { maxSegmentBytes = old }
}

// WaitCorpusJobs waits until no background job writes or merges the
// corpus files of datanet.
func WaitCorpusJobs(r *Registry, datanet string) {
	r.mu.Lock()
	ix := r.corpus[datanet]
	r.mu.Unlock()
	if ix != nil {
		ix.persisted.Wait()
	}
}
