//go:build wasip1

// Command position is an example attribution plugin to copy: it credits the
// records an agent read by the order it read them, the first read weighing
// most (1, 1/2, 1/3, …), on the idea that an agent reads its best source
// first. Each record counts once, at its first read.
//
// An attribution plugin exports `attribute`, takes an abi.AttributeRequest
// and returns an abi.AttributeResponse; guest.Attribute does the JSON. Keep
// it deterministic: iterate in a fixed order and read no clock, so anyone
// re-running it on a receipt gets the same bytes. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -buildvcs=false -o position.wasm
//
// publish it with the methods it answers declared in its manifest,
// "methods": ["position/v1"] (a manifest declaring none gets its name as the
// method of every receipt), and name it in an agent's manifest:
// "attribution": "you/position@1.0.0". It sees only the records the agent
// read, and each datanet the agent reads must admit it in its policy.
package main

import (
	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/abi/guest"
)

//go:wasmexport attribute
func attribute() int32 { return guest.Attribute(byPosition) }

func byPosition(req abi.AttributeRequest) (abi.AttributeResponse, error) {
	resp := abi.AttributeResponse{Method: "position/v1"}
	seen := map[string]bool{}
	for _, a := range req.Accesses {
		if seen[a.Record] {
			continue
		}
		seen[a.Record] = true
		resp.Scores = append(resp.Scores, abi.Score{Record: a.Record, Weight: 1 / float64(len(seen))})
	}
	return resp, nil
}

func main() {}
