//go:build wasip1

// Command knnshapley is an example attribution plugin for the knn agent:
// it pays each labelled record the agent read its exact Data Shapley value
// for the prediction (Jia et al., VLDB 2019, in closed form; see package
// examples/knn), taking the predicted label as the label to value against.
// Records ranked by their distance to the query vector the agent's answer
// carries; a record whose value is not positive (it argued for another
// label, or came too far to vote) gets no weight. Deterministic: the same
// answer and records give the same weights on any machine.
package main

import (
	"encoding/json"
	"errors"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/abi/guest"
	"github.com/tollgate-dev/tollgate/examples/knn"
)

//go:wasmexport attribute
func attribute() int32 { return guest.Attribute(value) }

func value(req abi.AttributeRequest) (abi.AttributeResponse, error) {
	var p knn.Prediction
	if err := json.Unmarshal([]byte(req.Output), &p); err != nil {
		return abi.AttributeResponse{}, errors.New("knnshapley: the answer is not a knn prediction")
	}
	if p.K < 1 || p.Label == "" {
		return abi.AttributeResponse{}, errors.New("knnshapley: the prediction has no label or k")
	}
	seen := map[string]bool{}
	var examples []knn.Example
	for _, a := range req.Accesses {
		if seen[a.Record] {
			continue
		}
		seen[a.Record] = true
		if e, ok := knn.Parse(a.Record, a.Content); ok {
			examples = append(examples, e)
		}
	}
	ranked := knn.Rank(p.Query, examples)
	resp := abi.AttributeResponse{Method: "knn-shapley/v1"}
	for i, v := range knn.Shapley(ranked, p.Label, p.K) {
		if v > 0 {
			resp.Scores = append(resp.Scores, abi.Score{Record: ranked[i].ID, Weight: v})
		}
	}
	return resp, nil
}

func main() {}
