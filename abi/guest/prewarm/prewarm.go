// Package prewarm helps a Go plugin's prewarm export (abi.ExportPrewarm)
// build, once per instance, the state its calls would otherwise each build
// again.
package prewarm

import (
	"encoding/json"

	"github.com/tollgate-dev/tollgate/abi"
)

// Envelopes encodes and decodes a canned value of every envelope the guest
// package exchanges with the host, so the encoding/json caches for them are
// built before the runtime saves the state every call starts from.
func Envelopes() {
	rec := abi.Record{Datanet: "d", ID: "i", Contributor: "0x0", Content: "c", Score: 1}
	roundTrip(abi.SearchRequest{Datanet: "d", Query: "q", Limit: 1}, &abi.SearchRequest{})
	roundTrip(abi.GetRequest{Datanet: "d", ID: "i"}, &abi.GetRequest{})
	roundTrip(abi.MatchRequest{Datanet: "d", Text: "t", MinTokens: 1}, &abi.MatchRequest{})
	roundTrip(abi.RecordsResponse{Records: []abi.Record{rec}, Error: abi.Errorf(abi.CodeGrantDenied, "m")}, &abi.RecordsResponse{})
	roundTrip(abi.MatchResponse{Spans: []abi.Span{{Records: []string{"i"}}}, Error: abi.Errorf(abi.CodeGrantDenied, "m")}, &abi.MatchResponse{})
	roundTrip(abi.AttributeRequest{Accesses: []abi.Access{{}}}, &abi.AttributeRequest{})
	roundTrip(abi.AttributeResponse{}, &abi.AttributeResponse{})
}

func roundTrip(v, into any) {
	if b, err := json.Marshal(v); err == nil {
		json.Unmarshal(b, into)
	}
}
