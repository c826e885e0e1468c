package registry

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestPrunedSearchIsExact compares the pruned top-k with scoring every
// record in full, on a Zipf corpus where pruning kicks in often.
func TestPrunedSearchIsExact(t *testing.T) {
	zipf := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.1, 2, 999)
	word := func() string { return "w" + strconv.FormatUint(zipf.Uint64(), 36) }
	ix := newSearchIndex()
	var docs []string
	for i := range 3000 {
		var sb strings.Builder
		for range 30 {
			sb.WriteString(word() + " ")
		}
		docs = append(docs, sb.String())
		ix.add(fmt.Sprint(i), sb.String())
	}
	for q := range 300 {
		words := make([]string, 2+q%4)
		for i := range words {
			words[i] = word()
		}
		query := strings.Join(words, " ")
		ids, scores := ix.top(query, 10)
		want := bruteForce(ix, query, 10)
		if len(ids) != len(want) {
			t.Fatalf("%q: %d results, brute force %d", query, len(ids), len(want))
		}
		for i := range ids {
			if ids[i] != want[i].id && math.Abs(scores[i]-want[i].score) > 1e-4 {
				t.Fatalf("%q: rank %d is %s (%.5f), brute force %s (%.5f)", query, i, ids[i], scores[i], want[i].id, want[i].score)
			}
		}
	}
}

type scored struct {
	id    string
	doc   int
	score float64
}

func bruteForce(ix *searchIndex, query string, k int) []scored {
	n := len(ix.ids)
	avg := float64(ix.total) / float64(n)
	acc := map[uint32]float64{}
	seen := map[string]bool{}
	for _, t := range Tokens(query) {
		if seen[t] {
			continue
		}
		seen[t] = true
		ps := ix.postings[t]
		df := float64(len(ps))
		idf := math.Log(1 + (float64(n)-df+0.5)/(df+0.5))
		for _, p := range ps {
			f := float64(p.tf)
			acc[p.doc] += float64(float32(idf * f * (bm25K1 + 1) / (f + bm25K1*(1-bm25B+bm25B*float64(ix.docLen[p.doc])/avg))))
		}
	}
	var out []scored
	for d, s := range acc {
		out = append(out, scored{ix.ids[d], int(d), s})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].score != out[j].score {
			return out[i].score > out[j].score
		}
		return out[i].doc < out[j].doc
	})
	if len(out) > k {
		out = out[:k]
	}
	return out
}
