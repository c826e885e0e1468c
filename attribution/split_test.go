package attribution_test

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/attribution"
)

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
	accesses := []abi.Access{{Datanet: "facts", Record: "r1", Contributor: "0xA", Bytes: 10}, {Datanet: "facts", Record: "r3", Contributor: "0xB", Bytes: 10}}
	cases := []struct {
		name   string
		scores []abi.Score
		want   abi.Code
	}{
		{"negative", []abi.Score{{Record: "r1", Weight: -1}}, abi.CodeBadAttribution},
		{"NaN", []abi.Score{{Record: "r1", Weight: math.NaN()}}, abi.CodeBadAttribution},
		{"infinite", []abi.Score{{Record: "r1", Weight: math.Inf(1)}}, abi.CodeBadAttribution},
		{"unknown record", []abi.Score{{Record: "nope", Weight: 1}}, abi.CodeBadAttribution},
		// A record of a granted datanet the agent did not read in the call
		// is not the caller's to hear about.
		{"record not read", []abi.Score{{Record: "r1", Weight: 1}, {Record: "r2", Weight: 3}}, abi.CodeBadAttribution},
		{"scored twice", []abi.Score{{Record: "r1", Weight: 1}, {Record: "r1", Weight: 2}}, abi.CodeBadAttribution},
		{"records read", []abi.Score{{Record: "r3", Weight: 3}, {Record: "r1", Weight: 1}}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := attribution.Validate(abi.AttributeResponse{Method: "m", Scores: c.scores}, accesses)
			if abi.CodeOf(err) != c.want {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			want := []attribution.Weight{{Datanet: "facts", Record: "r1", Contributor: "0xA", Weight: 16384}, {Datanet: "facts", Record: "r3", Contributor: "0xB", Weight: 49152}}
			if c.want == "" && !reflect.DeepEqual(res.Weights, want) {
				t.Fatalf("weights %+v, want %+v", res.Weights, want)
			}
		})
	}
}

// Weights reach the receipt as shares of attribution.WeightUnits: whatever
// bits a plugin packs into its float64s, each record read carries an integer
// share, the shares sum exactly to WeightUnits, and a share that rounds to
// nothing is dropped.
func TestValidateQuantisesWeights(t *testing.T) {
	var accesses []abi.Access
	var scores []abi.Score
	for i, w := range []float64{0x1_4142_4344_4546, 0x1_7071_7273_7475, 1e-300, 3.25, 0} {
		id := fmt.Sprint("r", i)
		accesses = append(accesses, abi.Access{Datanet: "facts", Record: id, Contributor: "0xA"})
		scores = append(scores, abi.Score{Record: id, Weight: w})
	}
	res, err := attribution.Validate(abi.AttributeResponse{Method: "m", Scores: scores}, accesses)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	sum := 0.0
	for _, w := range res.Weights {
		if w.Weight != math.Trunc(w.Weight) || w.Weight <= 0 {
			t.Fatalf("weight %v is not a positive integer share", w.Weight)
		}
		got[w.Record] = w.Weight
		sum += w.Weight
	}
	// 0x14142.. : 0x17071.. is 30526.26 : 35009.74 of 2^16; the unit left
	// goes to the larger remainder, and the tiny weights get nothing.
	if want := map[string]float64{"r0": 30526, "r1": 35010}; !reflect.DeepEqual(got, want) || sum != attribution.WeightUnits {
		t.Fatalf("weights %v (sum %v), want %v", got, sum, want)
	}
	if res, err := attribution.Validate(abi.AttributeResponse{Method: "m", Scores: []abi.Score{{Record: "r0", Weight: 0}}}, accesses); err != nil || len(res.Weights) != 0 {
		t.Fatalf("all-zero weights: %+v, %v", res, err)
	}
}

// A plugin's method is a short name, never free text and never one of the
// host's own markers.
func TestMethodIsAShortName(t *testing.T) {
	for _, m := range []string{"failed:plugin_trap", "fallback:x", strings.Repeat("a", 65), "has space", "quote\"", "new\nline", ""} {
		if _, err := attribution.Validate(abi.AttributeResponse{Method: m}, nil); abi.CodeOf(err) != abi.CodeBadAttribution {
			t.Errorf("method %q accepted: %v", m, err)
		}
	}
	if _, err := attribution.Validate(abi.AttributeResponse{Method: "ngram/v1"}, nil); err != nil {
		t.Fatal(err)
	}
}

// A record's id is its content's hash, so a copy of a record in a second
// datanet, signed by whoever copied it, has the same id. A score on that
// id is split equally between the copies the agent read, so a copier
// cannot take the whole share by being read last; the order of the reads
// changes nothing.
func TestCopiesOfARecordShareItsScore(t *testing.T) {
	honest := abi.Access{Datanet: "facts", Record: "r", Contributor: "0xHonest"}
	copier := abi.Access{Datanet: "open", Record: "r", Contributor: "0xCopier"}
	other := abi.Access{Datanet: "facts", Record: "s", Contributor: "0xOther"}
	resp := abi.AttributeResponse{Method: "m", Scores: []abi.Score{{Record: "r", Weight: 2}, {Record: "s", Weight: 2}}}
	for _, order := range [][]abi.Access{{honest, copier, other}, {copier, honest, other, honest}} {
		res, err := attribution.Validate(resp, order)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, s := range res.Shares() {
			got[s.Key] = s.Weight
		}
		want := map[string]float64{"0xHonest": attribution.WeightUnits / 4, "0xCopier": attribution.WeightUnits / 4, "0xOther": attribution.WeightUnits / 2}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("reads %v: shares %v, want %v", order, got, want)
		}
	}
}
