package registry

import (
	"github.com/tollgate-dev/tollgate/abi"
)

// MemoryCorpus is a corpus_match index built in memory, for benchmarks that
// need a datanet larger than is quick to import.
type MemoryCorpus struct{ segs []*corpusSegment }

func NewMemoryCorpus(ids, contents []string) *MemoryCorpus {
	return &MemoryCorpus{[]*corpusSegment{newCorpusSegment(1, ids, contents)}}
}

func (m *MemoryCorpus) Match(text string, minTokens int) []abi.Span {
	return match(m.segs, text, minTokens, 0)
}

// SearchIndexBytes returns the memory of a datanet's search index arrays.
func SearchIndexBytes(r *Registry, datanet string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.search[datanet].bytes()
}
