//go:build wasip1

// Command knn is an example classifier agent: it labels its input by the
// majority label of the k nearest labelled records ("label<TAB>text") of
// the first datanet it is granted, among the candidates the datanet's
// search returns. Its answer is JSON: the label, k, and the query's hashed
// feature vector (not its text), which the knnshapley attribution plugin
// ranks the records against to pay each its exact Shapley value.
//
// Manifest config: "k" (default 5), "candidates" (records searched,
// default 64). Use it with "attribution": "examples/knnshapley@1.0.0".
package main

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	pdk "github.com/extism/go-pdk"

	"github.com/tollgate-dev/tollgate/abi/guest"
	"github.com/tollgate-dev/tollgate/examples/knn"
)

//go:wasmexport invoke
func invoke() int32 {
	query := string(guest.Input())
	granted, _ := pdk.GetConfig("tollgate.datanets")
	datanet, _, _ := strings.Cut(granted, ",")
	if datanet == "" {
		return guest.Fail(errors.New("knn: the agent is granted no datanet"))
	}
	records, err := guest.Search(datanet, query, config("candidates", 64))
	if err != nil {
		return guest.Fail(err)
	}
	var examples []knn.Example
	for _, r := range records {
		if e, ok := knn.Parse(r.ID, r.Content); ok {
			examples = append(examples, e)
		}
	}
	if len(examples) == 0 {
		return guest.Fail(errors.New("knn: no labelled record matches the input"))
	}
	k := config("k", 5)
	q := knn.Features(query)
	out, err := json.Marshal(knn.Prediction{Label: knn.Classify(knn.Rank(q, examples), k), K: k, Query: q})
	if err != nil {
		return guest.Fail(err)
	}
	guest.Output(out)
	return 0
}

// config reads a positive integer from the manifest's config.
func config(key string, def int) int {
	if v, ok := pdk.GetConfig(key); ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return n
		}
	}
	return def
}

func main() {}
