//go:build wasip1

// Command access is Tollgate's attribution plugin for pure retrieval agents:
// it weights every record the agent read by the bytes it read, so a record
// read twice, or a longer record, earns proportionally more.
//
// It reads no clock, randomness, file or network: the same input gives the
// same output bytes.
package main

import (
	"sort"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/abi/guest"
)

//go:wasmexport attribute
func attribute() int32 { return guest.Attribute(weighByBytes) }

func weighByBytes(req abi.AttributeRequest) (abi.AttributeResponse, error) {
	bytes := map[string]int{}
	for _, a := range req.Accesses {
		bytes[a.Record] += a.Bytes
	}
	resp := abi.AttributeResponse{Method: "access-bytes/v1", Scores: make([]abi.Score, 0, len(bytes))}
	for id, n := range bytes {
		resp.Scores = append(resp.Scores, abi.Score{Record: id, Weight: float64(n)})
	}
	// Map order is random; the output must not be.
	sort.Slice(resp.Scores, func(i, j int) bool { return resp.Scores[i].Record < resp.Scores[j].Record })
	return resp, nil
}

func main() {}
