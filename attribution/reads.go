package attribution

import (
	"context"
	"math"
	"sort"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/corpus"
	"github.com/tollgate-dev/tollgate/runtime"
)

// readsOnly is what an attribution plugin reads through the host
// functions: the records the agent read in the call, which the caller paid
// for, and nothing else of the granted datanets. datanet_get returns a
// record read (any other is not found, so a plugin cannot even learn that
// it exists); datanet_search is refused (the records read are in the
// request already); corpus_match matches the text against the records
// read in that datanet, with the same rule as the datanet-wide index
// (maximal word-aligned spans), so spans, offsets and record ids say
// nothing about a record the caller did not pay for.
type readsOnly struct {
	data    runtime.DataSource
	read    map[[2]string]bool // datanet, record
	byNet   map[string][]abi.Access
	corpora map[string]*corpus.Segment // built at a datanet's first match
}

func newReadsOnly(data runtime.DataSource, accesses []abi.Access) *readsOnly {
	r := &readsOnly{data: data, read: map[[2]string]bool{}, byNet: map[string][]abi.Access{}, corpora: map[string]*corpus.Segment{}}
	for _, a := range accesses {
		k := [2]string{a.Datanet, a.Record}
		if r.read[k] {
			continue
		}
		r.read[k] = true
		r.byNet[a.Datanet] = append(r.byNet[a.Datanet], a)
	}
	for _, as := range r.byNet {
		sort.Slice(as, func(i, j int) bool { return as[i].Record < as[j].Record })
	}
	return r
}

var _ runtime.DataSource = (*readsOnly)(nil)

func (r *readsOnly) Search(context.Context, string, string, int) ([]abi.Record, error) {
	return nil, abi.Errorf(abi.CodeGrantDenied, "attribution plugins do not search: the records the agent read are in the request")
}

func (r *readsOnly) Get(ctx context.Context, datanet, id string) (abi.Record, error) {
	if !r.read[[2]string{datanet, id}] || r.data == nil {
		return abi.Record{}, abi.Errorf(abi.CodeNotFound, "the agent read no record %s in %s", id, datanet)
	}
	return r.data.Get(ctx, datanet, id)
}

func (r *readsOnly) CorpusMatch(_ context.Context, datanet, text string, minTokens int) ([]abi.Span, error) {
	seg := r.corpora[datanet]
	if seg == nil {
		as := r.byNet[datanet]
		if len(as) == 0 {
			return nil, nil
		}
		ids, contents := make([]string, len(as)), make([]string, len(as))
		for i, a := range as {
			ids[i], contents[i] = a.Record, a.Content
		}
		seg = corpus.NewSegment(0, ids, contents)
		r.corpora[datanet] = seg
	}
	return corpus.Match([]*corpus.Segment{seg}, text, minTokens, math.MaxUint64), nil
}
