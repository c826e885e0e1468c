package bm25

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	goruntime "runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/tokenize"
)

// TestPrunedSearchIsExact compares the pruned top-k with scoring every
// record in full, on a Zipf corpus of records of varied length where
// pruning kicks in often, queried while it grows so that terms cross from
// rare to common and blocks fill.
func TestPrunedSearchIsExact(t *testing.T) {
	zipf := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.1, 2, 999)
	rng := rand.New(rand.NewPCG(3, 4))
	word := func() string { return "w" + strconv.FormatUint(zipf.Uint64(), 36) }
	ix := New()
	pruned := 0
	defer func(p, f, s, n int) {
		parallelAbove, firstBlocks, spreadAbove = p, f, s
		goruntime.GOMAXPROCS(n)
	}(parallelAbove, firstBlocks, spreadAbove, goruntime.GOMAXPROCS(3))
	for i := range 6000 {
		var sb strings.Builder
		for range 3 + rng.IntN(60) {
			sb.WriteString(word() + " ")
		}
		ix.Add(uint64(i+1), fmt.Sprint(i), sb.String())
		if i%100 != 99 {
			continue
		}
		for q := range 20 {
			words := make([]string, 1+q%5)
			for i := range words {
				words[i] = word()
			}
			query := strings.Join(words, " ")
			limit := []int{1, 10, 50}[q%3]
			// Every third query reads the datanet as of an earlier version.
			upTo := 0
			if q%3 == 2 {
				upTo = 1 + rng.IntN(ix.ids.len())
			}
			want := bruteForce(ix, query, limit, upTo)
			// Every other query takes the parallel path.
			parallelAbove, firstBlocks = 1<<30, 64
			if q%2 == 1 {
				parallelAbove, firstBlocks = 1, 1+q%3
			}
			// Other terms looked up by search, written out, or either.
			spreadAbove = []int{0, 32, 1 << 30}[(q/3)%3]
			version := AllVersions
			if upTo > 0 {
				version = uint64(upTo)
			}
			ids, scores, scored := ix.TopScored(query, limit, version)
			if len(ids) != len(want) {
				t.Fatalf("%q at %d: %d results, brute force %d", query, upTo, len(ids), len(want))
			}
			for i := range ids {
				if ids[i] != want[i].id && math.Abs(scores[i]-want[i].score) > 1e-4 {
					t.Fatalf("%d records, %q limit %d at %d: rank %d is %s (%.5f), brute force %s (%.5f)", ix.ids.len(), query, limit, upTo, i, ids[i], scores[i], want[i].id, want[i].score)
				}
			}
			if len(want) == limit && scored < ix.ids.len()/blockSize {
				pruned++
			}
		}
	}
	if pruned < 100 {
		t.Fatalf("only %d queries skipped any block: the test does not exercise pruning", pruned)
	}
}

type scored struct {
	id    string
	doc   int
	score float64
}

// bruteForce scores every record of versions up to upTo (all when 0) in
// full, with that version's statistics.
func bruteForce(ix *Index, query string, k, upTo int) []scored {
	n := ix.ids.len()
	if upTo > 0 {
		n = upTo
	}
	total := 0
	for _, l := range ix.docLen[:n] {
		total += int(l)
	}
	avg := float64(total) / float64(n)
	acc := map[uint32]float64{}
	seen := map[string]bool{}
	for _, t := range tokenize.Tokens(query) {
		if seen[t] {
			continue
		}
		seen[t] = true
		if ix.terms[t] == nil {
			continue
		}
		tp := ix.terms[t]
		df := 0.0
		for _, doc := range tp.docs {
			if int(doc) < n {
				df++
			}
		}
		idf := math.Log(1 + (float64(n)-df+0.5)/(df+0.5))
		for i, doc := range tp.docs {
			if int(doc) >= n {
				continue
			}
			f := float64(tp.tfs[i])
			acc[doc] += float64(float32(idf * f * (bm25K1 + 1) / (f + bm25K1*(1-bm25B+bm25B*float64(ix.docLen[doc])/avg))))
		}
	}
	var out []scored
	for d, s := range acc {
		out = append(out, scored{ix.ids.at(d), int(d), s})
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

func TestSelectBest(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for round := range 2000 {
		n := rng.IntN(300)
		cs := make([]candidate, n)
		for i := range cs {
			cs[i] = candidate{block: uint32(i), bound: float32(rng.IntN(1 + round%20))}
		}
		rng.Shuffle(n, func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
		want := slices.Clone(cs)
		sort.Slice(want, func(i, j int) bool {
			if want[i].bound != want[j].bound {
				return want[i].bound > want[j].bound
			}
			return want[i].block < want[j].block
		})
		k := 0
		if n > 0 {
			k = rng.IntN(n + 1)
		}
		selectBest(cs, k)
		if !slices.Equal(cs[:k], want[:k]) {
			t.Fatalf("n %d k %d: %v, want %v", n, k, cs[:k], want[:k])
		}
		rest := slices.Clone(cs[k:])
		sort.Slice(rest, func(i, j int) bool { return rest[i].block < rest[j].block })
		wantRest := slices.Clone(want[k:])
		sort.Slice(wantRest, func(i, j int) bool { return wantRest[i].block < wantRest[j].block })
		if !slices.Equal(rest, wantRest) {
			t.Fatalf("n %d k %d: the rest is not what was left", n, k)
		}
	}
}

// TestBuiltIndexEqualsGrownIndex builds an index from records given out of
// order and compares it with the index grown by appending them in order.
func TestBuiltIndexEqualsGrownIndex(t *testing.T) {
	zipf := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.1, 2, 999)
	rng := rand.New(rand.NewPCG(3, 4))
	grown := New()
	type rec struct {
		version     uint64
		id, content string
	}
	var recs []rec
	for i := range 3000 {
		var sb strings.Builder
		for range 1 + rng.IntN(60) {
			fmt.Fprintf(&sb, "W%d, ", zipf.Uint64())
		}
		r := rec{uint64(i + 1), fmt.Sprintf("id%d", i), sb.String()}
		recs = append(recs, r)
		if !grown.Add(r.version, r.id, r.content) {
			t.Fatal("in-order add refused")
		}
	}
	if grown.Add(5000, "late", "x") || grown.Add(3000, "again", "x") {
		t.Fatal("an add out of step was accepted")
	}
	rng.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	b := NewBuilder(uint64(len(recs)))
	workers := []*Tokenizer{b.Tokenizer(), b.Tokenizer(), b.Tokenizer()}
	for i, r := range recs {
		if err := workers[i%3].Add(r.version, r.id, r.content); err != nil {
			t.Fatal(err)
		}
	}
	built, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(built.terms, grown.terms) || !slices.Equal(built.docLen, grown.docLen) ||
		!reflect.DeepEqual(built.ids, grown.ids) || built.total != grown.total {
		t.Fatal("the built index differs from the grown one")
	}
	for _, q := range []string{"w1 w2", "w0", "w17 w400 w3"} {
		a, _ := built.Top(q, 10)
		g, _ := grown.Top(q, 10)
		if !slices.Equal(a, g) {
			t.Fatalf("%q: built %v, grown %v", q, a, g)
		}
	}

	b = NewBuilder(3)
	w := b.Tokenizer()
	if err := w.Add(4, "x", "x"); abi.CodeOf(err) != abi.CodeInternal {
		t.Fatalf("version past the datanet's: %v", err)
	}
	w.Add(1, "a", "a")
	if err := w.Add(1, "b", "b"); abi.CodeOf(err) != abi.CodeInternal {
		t.Fatalf("two records of one version: %v", err)
	}
	if _, err := b.Finish(); abi.CodeOf(err) != abi.CodeInternal {
		t.Fatalf("missing versions: %v", err)
	}
}
