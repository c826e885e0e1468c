// Package prewarm helps a Go plugin's prewarm export (abi.ExportPrewarm)
// build, once per instance, the state its calls would otherwise each build
// again.
package prewarm

import (
	"encoding/json"
	"runtime"

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

// allocatorMaxSize is the largest object Allocator makes room for: the
// sizes a call makes by the dozen (strings, slices, map tables). Larger
// objects are rare enough to take a span each as they come.
const allocatorMaxSize = 4096

// sinkNoscan and sinkScan make each of Allocator's objects escape to the
// heap, where the compiler would otherwise place it on the stack.
var (
	sinkNoscan []byte
	sinkScan   []*byte
)

// Allocator leaves Go's allocator holding a span with room in every size
// class up to allocatorMaxSize, for objects with and without pointers
// (room for at least one more object; most classes hold dozens a span).
//
// Every call starts from the state saved after prewarm, allocator
// included. A call that allocates an object of a size class whose cached
// span is full, or which prewarm never used, takes a new span from the
// heap, and often grows the linear memory for it, and the next call,
// starting again from the saved state, does the same. The example agent
// took twelve spans and grew its memory by 768 KiB on every call; after
// Allocator it takes two and grows nothing.
//
// It collects garbage first, so that its own spans do not start a
// collection, which would empty the allocator's caches again, or leave
// one running in the saved state. Call it last in prewarm, after the
// allocations that warm other caches, and never follow it with runtime.GC.
func Allocator() {
	runtime.GC()
	for size := 8; size <= allocatorMaxSize; {
		sinkNoscan = make([]byte, size)
		sinkScan = make([]*byte, (size+7)/8)
		// Go's size classes are multiples of 8 bytes up to 1 KiB, and of
		// 128 bytes above it, so these sizes meet every class.
		if size < 1024 {
			size += 8
		} else {
			size += 128
		}
	}
	sinkNoscan, sinkScan = nil, nil
}
