package registry

import (
	"index/suffixarray"

	"github.com/tollgate-dev/tollgate/abi"
)

// MemoryCorpus is a corpus_match index built in memory, for benchmarks that
// need a datanet larger than is quick to import.
type MemoryCorpus struct{ ix *corpusIndex }

func NewMemoryCorpus(ids, contents []string) *MemoryCorpus {
	ix := &corpusIndex{}
	var corpus []byte
	for i, c := range contents {
		ix.starts = append(ix.starts, len(corpus))
		ix.ids = append(ix.ids, ids[i])
		corpus = append(corpus, c...)
		corpus = append(corpus, 0)
	}
	ix.sa = suffixarray.New(corpus)
	return &MemoryCorpus{ix}
}

func (m *MemoryCorpus) Match(text string, minTokens int) []abi.Span {
	return m.ix.match(text, minTokens)
}
