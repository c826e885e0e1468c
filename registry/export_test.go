package registry

import (
	"context"
	"fmt"
	"time"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/bm25"
	"github.com/tollgate-dev/tollgate/internal/corpus"
	"github.com/tollgate-dev/tollgate/internal/kv"
	"github.com/tollgate-dev/tollgate/internal/pageout"
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

// SearchIndexBytes returns the bytes of a datanet's search index: the
// arrays of its parts in memory, and its files.
func SearchIndexBytes(r *Registry, datanet string) (memory, files int) {
	r.mu.Lock()
	ix := r.search[datanet]
	r.mu.Unlock()
	for _, p := range ix.snapshot() {
		switch p := p.(type) {
		case *bm25.Index:
			memory += p.Bytes()
		case *bm25.File:
			files += p.Size()
		}
	}
	return memory, files
}

// SearchIndexParts describes a datanet's search index parts in order:
// "file 1-256", "memory 257-300".
func SearchIndexParts(r *Registry, datanet string) []string {
	r.mu.Lock()
	ix := r.search[datanet]
	r.mu.Unlock()
	if ix == nil {
		return nil
	}
	var out []string
	for _, p := range ix.snapshot() {
		switch p := p.(type) {
		case *bm25.Index:
			out = append(out, fmt.Sprintf("memory %d-%d", p.First(), p.Len()))
		case *bm25.File:
			out = append(out, fmt.Sprintf("file %d-%d", p.First(), p.Last()))
		}
	}
	return out
}

// SetSearchFiles lowers the records a search index's tail takes before it
// is written, and the records of a file a build writes, for tests.
func SetSearchFiles(persist, chunk int) (restore func()) {
	oldP, oldC := persistSearchRecords, searchChunkRecords
	persistSearchRecords, searchChunkRecords = persist, chunk
	return func() { persistSearchRecords, searchChunkRecords = oldP, oldC }
}

// WaitSearchJobs waits until no background job writes or merges the
// search files of datanet.
func WaitSearchJobs(r *Registry, datanet string) {
	for {
		r.mu.Lock()
		ix := r.search[datanet]
		r.mu.Unlock()
		if ix == nil {
			return
		}
		ix.mu.Lock()
		writing := ix.writing
		ix.mu.Unlock()
		if !writing {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// Flatten compacts the registry's LSM tree, as a node settles into after
// an import, so that benchmarks time queries and not compactions.
func Flatten(r *Registry) error { return r.db.(*kv.Badger).DB().Flatten(2) }

// RankOnly ranks records for query in a datanet's search index, without
// reading them back; it returns the results and the blocks scored.
func RankOnly(r *Registry, datanet, query string, limit int) (results, scored int) {
	r.mu.Lock()
	ix := r.search[datanet]
	r.mu.Unlock()
	ids, _, scored, _ := bm25.Search(context.Background(), ix.snapshot(), query, limit, allVersions)
	return len(ids), scored
}

// SetPersistCorpusBytes lowers the bytes of appended records the corpus
// index holds in memory before writing them as a file, for tests.
func SetPersistCorpusBytes(n int) (restore func()) {
	old := persistCorpusBytes
	persistCorpusBytes = n
	return func() { persistCorpusBytes = old }
}

// SetMaxSegmentBytes lowers the largest segment file, built or merged,
// for tests.
func SetMaxSegmentBytes(n int) (restore func()) {
	old, oldMerged := maxSegmentBytes, maxMergedBytes
	maxSegmentBytes, maxMergedBytes = n, n
	return func() { maxSegmentBytes, maxMergedBytes = old, oldMerged }
}

// SetMaxMatchRecords sets the most record ids one corpus match names, for
// tests.
func SetMaxMatchRecords(n int) (restore func()) {
	old := maxMatchRecords
	maxMatchRecords = n
	return func() { maxMatchRecords = old }
}

// SetMaxMergedBytes sets the largest segment file merged from two files'
// arrays, for tests.
func SetMaxMergedBytes(n int) (restore func()) {
	old := maxMergedBytes
	maxMergedBytes = n
	return func() { maxMergedBytes = old }
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

// ScanStore has the store's files read ahead, as while a build reads
// records in order, until the returned func is called.
func ScanStore(r *Registry) (done func()) { return r.storeReads.scan() }

// SetStoreAdviceInterval sets how often a registry opened afterwards
// advises its store's files again, for tests.
func SetStoreAdviceInterval(d time.Duration) (restore func()) {
	old := storeAdviceInterval
	storeAdviceInterval = d
	return func() { storeAdviceInterval = old }
}

// ResetStoreAdvice has the kernel read the store's value-log files with
// read-ahead again, as files Badger maps after the advice are, and calls
// check before the registry's renewal of the advice can run.
func ResetStoreAdvice(r *Registry, check func()) {
	s := r.storeReads
	s.mu.Lock()
	defer s.mu.Unlock()
	pageout.Access(false, s.valueLog)
	check()
}

// StoredManifestHash is the manifest hash p carries, without working it out.
func StoredManifestHash(p *Plugin) string { return p.manifestHash }
