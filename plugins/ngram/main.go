//go:build wasip1

// Command ngram is Tollgate's default attribution plugin, in the spirit of
// infini-gram and OLMoTrace: it traces the output back to the records whose
// text it repeats verbatim, in the records the agent read and, through the
// host's suffix-array corpus_match, anywhere in the granted datanets (data a
// model memorised without reading it at run time).
//
// The rule, applied in this order:
//
//  1. Spans: the maximal spans of the output, at least min_tokens words
//     long (default 4), found verbatim in a granted datanet.
//  2. Overlaps: every output word belongs to the longest span covering it
//     (ties to the span that starts first); a span counts only the words it
//     owns, so no word is paid for twice.
//  3. Rarity: a span owning t words and found in n records weighs t/n (a
//     phrase one record holds says more of its source than one many share);
//     one the host names no records for (over 256 hold it) weighs nothing.
//  4. Sharing: the span's weight is split equally among the records holding
//     it, but if the agent read some of them, among those it read only.
//  5. No span at all: every record read is weighted by the bytes read (the
//     access rule), so the contributors' share still goes to the data used.
//
// It reads no clock, randomness, file or network, iterates in sorted order,
// and so gives the same bytes for the same input.
package main

import (
	"encoding/json"
	"sort"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/abi/guest"
)

type params struct {
	MinTokens int `json:"min_tokens"`
}

//go:wasmexport attribute
func attribute() int32 { return guest.Attribute(attributeNgrams) }

type span struct {
	abi.Span
	owned int // words owned after overlap resolution
}

func attributeNgrams(req abi.AttributeRequest) (abi.AttributeResponse, error) {
	p := params{MinTokens: 4}
	if len(req.Params) > 0 {
		if err := json.Unmarshal(req.Params, &p); err != nil {
			return abi.AttributeResponse{}, err
		}
	}
	var spans []*span
	for _, d := range sortedUnique(req.Datanets) {
		found, err := guest.CorpusMatch(d, req.Output, p.MinTokens)
		if err != nil {
			return abi.AttributeResponse{}, err
		}
		for _, s := range found {
			spans = append(spans, &span{Span: s})
		}
	}
	resolveOverlaps(spans)

	read := map[string]bool{}
	for _, a := range req.Accesses {
		read[a.Record] = true
	}
	weights := map[string]float64{}
	for _, s := range spans {
		if s.owned == 0 || len(s.Records) == 0 {
			continue
		}
		w := float64(s.owned) / float64(len(s.Records))
		holders := s.Records
		var readHolders []string
		for _, r := range s.Records {
			if read[r] {
				readHolders = append(readHolders, r)
			}
		}
		if len(readHolders) > 0 {
			holders = readHolders
		}
		for _, r := range holders {
			weights[r] += w / float64(len(holders))
		}
	}
	method := "ngram/v1"
	if len(weights) == 0 {
		method = "ngram/v1:access-bytes"
		for _, a := range req.Accesses {
			weights[a.Record] += float64(a.Bytes)
		}
	}
	resp := abi.AttributeResponse{Method: method, Scores: make([]abi.Score, 0, len(weights))}
	for id, w := range weights {
		resp.Scores = append(resp.Scores, abi.Score{Record: id, Weight: w})
	}
	sort.Slice(resp.Scores, func(i, j int) bool { return resp.Scores[i].Record < resp.Scores[j].Record })
	return resp, nil
}

// resolveOverlaps gives every word to the longest span covering it (ties to
// the earliest start) and counts the words each span owns. Spans carry byte
// offsets and a word count; a span owns words in proportion to its bytes no
// longer span took first.
func resolveOverlaps(spans []*span) {
	order := append([]*span(nil), spans...)
	sort.SliceStable(order, func(i, j int) bool {
		if order[i].Tokens != order[j].Tokens {
			return order[i].Tokens > order[j].Tokens
		}
		return order[i].Start < order[j].Start
	})
	end := 0
	for _, s := range spans {
		end = max(end, s.End)
	}
	taken := make([]bool, end)
	for _, s := range order {
		free := 0
		for b := s.Start; b < s.End; b++ {
			if !taken[b] {
				taken[b] = true
				free++
			}
		}
		if free > 0 {
			s.owned = max(1, s.Tokens*free/(s.End-s.Start))
		}
	}
}

func sortedUnique(xs []string) []string {
	out := append([]string(nil), xs...)
	sort.Strings(out)
	n := 0
	for i, x := range out {
		if i == 0 || x != out[i-1] {
			out[n] = x
			n++
		}
	}
	return out[:n]
}

func main() {}
