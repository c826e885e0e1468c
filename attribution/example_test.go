package attribution_test

import (
	"fmt"
	"math/big"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/attribution"
)

// Split divides an amount in integers that always add up to it: 100 units
// among three equal shares leave one unit over, which goes to the smallest
// key.
func ExampleSplit() {
	parts, _ := attribution.Split(big.NewInt(100), []attribution.Share{
		{Key: "alice", Weight: 1}, {Key: "bob", Weight: 1}, {Key: "carol", Weight: 1},
	})
	fmt.Println(parts)
	// Output: [34 33 33]
}

// Weights that sum to zero split nothing, and say so.
func ExampleSplit_zeroWeights() {
	parts, ok := attribution.Split(big.NewInt(100), []attribution.Share{{Key: "alice"}, {Key: "bob"}})
	fmt.Println(parts, ok)
	// Output: [0 0] false
}

// Validate checks what an attribution plugin answered against what the
// agent read, and quantises the weights to WeightUnits so that a re-run
// gives the same integers.
func ExampleValidate() {
	read := []abi.Access{
		{Datanet: "papers", Record: "r1", Contributor: "0xA11CE", Bytes: 300},
		{Datanet: "papers", Record: "r2", Contributor: "0xB0B", Bytes: 100},
	}
	res, err := attribution.Validate(abi.AttributeResponse{Method: "overlap", Scores: []abi.Score{
		{Record: "r1", Weight: 0.75},
		{Record: "r2", Weight: 0.25},
	}}, read)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, w := range res.Weights {
		fmt.Println(w.Record, w.Contributor, w.Weight)
	}

	_, err = attribution.Validate(abi.AttributeResponse{Method: "overlap", Scores: []abi.Score{{Record: "r9", Weight: 1}}}, read)
	fmt.Println(abi.CodeOf(err))
	// Output:
	// r1 0xA11CE 49152
	// r2 0xB0B 16384
	// attribution_invalid
}

// ByBytes is the fallback attribution: each record read weighs the bytes
// read. Validate quantises 300:100:100 to 39322:13107:13107 units of
// 1/65536 (the unit left over to the largest remainder), Shares sums them
// by contributor, and Split pays 1000 in that proportion.
func ExampleByBytes() {
	read := []abi.Access{
		{Datanet: "papers", Record: "r1", Contributor: "0xA11CE", Bytes: 300},
		{Datanet: "papers", Record: "r2", Contributor: "0xB0B", Bytes: 100},
		{Datanet: "papers", Record: "r3", Contributor: "0xA11CE", Bytes: 100},
	}
	resp := attribution.ByBytes(read)
	fmt.Println(resp.Method, resp.Scores)
	res, err := attribution.Validate(resp, read)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range res.Shares() {
		fmt.Println(s.Key, s.Weight)
	}
	parts, _ := attribution.Split(big.NewInt(1000), res.Shares())
	fmt.Println(parts)
	// Output:
	// access-bytes/v1 [{r1 300} {r2 100} {r3 100}]
	// 0xA11CE 52429
	// 0xB0B 13107
	// [800 200]
}
