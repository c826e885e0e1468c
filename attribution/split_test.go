package attribution_test

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/attribution"
)

func ExampleSplit() {
	parts, _ := attribution.Split(big.NewInt(100), []attribution.Share{
		{Key: "alice", Weight: 1}, {Key: "bob", Weight: 1}, {Key: "carol", Weight: 1},
	})
	fmt.Println(parts)
	// Output: [34 33 33]
}

func TestSplitSumsExactly(t *testing.T) {
	cases := []struct {
		name    string
		total   int64
		weights []float64
		want    []int64
	}{
		{"even", 90, []float64{1, 1, 1}, []int64{30, 30, 30}},
		{"remainder to the largest fraction", 10, []float64{0.5, 0.3, 0.2}, []int64{5, 3, 2}},
		{"ties to the smaller key", 2, []float64{1, 1, 1}, []int64{1, 1, 0}},
		{"zero weights get nothing", 7, []float64{0, 3, 0}, []int64{0, 7, 0}},
		{"tiny and huge", 1000, []float64{1e-300, 1e300}, []int64{0, 1000}},
		{"one unit among many", 1, []float64{2, 3, 5}, []int64{0, 0, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			shares := make([]attribution.Share, len(c.weights))
			for i, w := range c.weights {
				shares[i] = attribution.Share{Key: fmt.Sprint("k", i), Weight: w}
			}
			parts, ok := attribution.Split(big.NewInt(c.total), shares)
			if !ok {
				t.Fatal("not ok")
			}
			sum := new(big.Int)
			for i, p := range parts {
				sum.Add(sum, p)
				if p.Int64() != c.want[i] {
					t.Fatalf("parts %v, want %v", parts, c.want)
				}
			}
			if sum.Int64() != c.total {
				t.Fatalf("parts sum to %s, want %d", sum, c.total)
			}
		})
	}
	if _, ok := attribution.Split(big.NewInt(5), []attribution.Share{{Key: "a"}}); ok {
		t.Fatal("all-zero weights reported ok")
	}
}

func FuzzSplit(f *testing.F) {
	f.Add(int64(100), 1.0, 2.0, 3.0)
	f.Add(int64(1), 0.0, 0.0, 1e-9)
	f.Fuzz(func(t *testing.T, total int64, a, b, c float64) {
		if total < 0 {
			total = -total
		}
		shares := []attribution.Share{{Key: "a", Weight: a}, {Key: "b", Weight: b}, {Key: "c", Weight: c}}
		for _, s := range shares {
			if math.IsNaN(s.Weight) || math.IsInf(s.Weight, 0) {
				return
			}
		}
		parts, ok := attribution.Split(big.NewInt(total), shares)
		sum := new(big.Int)
		for i, p := range parts {
			if p.Sign() < 0 || (shares[i].Weight <= 0 && p.Sign() != 0) {
				t.Fatalf("part %d = %s for weight %v", i, p, shares[i].Weight)
			}
			sum.Add(sum, p)
		}
		if ok && total > 0 && sum.Int64() != total {
			t.Fatalf("parts %v sum to %s, want %d", parts, sum, total)
		}
	})
}

type records map[string]abi.Record

func (r records) Search(context.Context, string, string, int) ([]abi.Record, error) { return nil, nil }
func (r records) Get(_ context.Context, datanet, id string) (abi.Record, error) {
	if rec, ok := r[id]; ok && rec.Datanet == datanet {
		return rec, nil
	}
	return abi.Record{}, abi.Errorf(abi.CodeNotFound, "no %s", id)
}
func (r records) CorpusMatch(context.Context, string, string, int) ([]abi.Span, error) {
	return nil, nil
}

func TestValidateRefusesBadWeights(t *testing.T) {
	data := records{"r2": {Datanet: "facts", ID: "r2", Contributor: "0xB"}, "s1": {Datanet: "secret", ID: "s1", Contributor: "0xC"}}
	accesses := []abi.Access{{Datanet: "facts", Record: "r1", Contributor: "0xA", Bytes: 10}}
	cases := []struct {
		name   string
		scores []abi.Score
		want   abi.Code
	}{
		{"negative", []abi.Score{{Record: "r1", Weight: -1}}, abi.CodeBadAttribution},
		{"NaN", []abi.Score{{Record: "r1", Weight: math.NaN()}}, abi.CodeBadAttribution},
		{"infinite", []abi.Score{{Record: "r1", Weight: math.Inf(1)}}, abi.CodeBadAttribution},
		{"unknown record", []abi.Score{{Record: "nope", Weight: 1}}, abi.CodeBadAttribution},
		{"record of an ungranted datanet", []abi.Score{{Record: "s1", Weight: 1}}, abi.CodeBadAttribution},
		{"scored twice", []abi.Score{{Record: "r1", Weight: 1}, {Record: "r1", Weight: 2}}, abi.CodeBadAttribution},
		{"read and unread records", []abi.Score{{Record: "r1", Weight: 1}, {Record: "r2", Weight: 3}}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := attribution.Validate(context.Background(), abi.AttributeResponse{Scores: c.scores}, accesses, data, []string{"facts"})
			if abi.CodeOf(err) != c.want {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if c.want == "" && (len(res.Weights) != 2 || res.Weights[1].Contributor != "0xB") {
				t.Fatalf("weights %+v", res.Weights)
			}
		})
	}
}

// A plugin's method is a short name, never free text and never one of the
// host's own markers.
func TestMethodIsAShortName(t *testing.T) {
	for _, m := range []string{"failed:plugin_trap", "fallback:x", strings.Repeat("a", 65), "has space", "quote\"", "new\nline"} {
		if _, err := attribution.Validate(context.Background(), abi.AttributeResponse{Method: m}, nil, nil, nil); abi.CodeOf(err) != abi.CodeBadAttribution {
			t.Errorf("method %q accepted: %v", m, err)
		}
	}
	if _, err := attribution.Validate(context.Background(), abi.AttributeResponse{Method: "ngram/v1"}, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
}
