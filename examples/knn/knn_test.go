package knn

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"
)

// utility is the k-NN utility of the examples of ranked whose positions
// are in set: the fraction of its k nearest that carry label.
func utility(ranked []Example, set []int, label string, k int) float64 {
	s := slices.Clone(set)
	slices.Sort(s) // positions in ranked: nearest first
	u := 0.0
	for _, i := range s[:min(k, len(s))] {
		if ranked[i].Label == label {
			u++
		}
	}
	return u / float64(k)
}

// bruteShapley is the definition: each example's marginal utility averaged
// over every order of the examples.
func bruteShapley(ranked []Example, label string, k int) []float64 {
	n := len(ranked)
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	s := make([]float64, n)
	count := 0
	var permute func(int)
	permute = func(j int) {
		if j == n {
			count++
			for p := range n {
				s[perm[p]] += utility(ranked, perm[:p+1], label, k) - utility(ranked, perm[:p], label, k)
			}
			return
		}
		for i := j; i < n; i++ {
			perm[j], perm[i] = perm[i], perm[j]
			permute(j + 1)
			perm[j], perm[i] = perm[i], perm[j]
		}
	}
	permute(0)
	for i := range s {
		s[i] /= float64(count)
	}
	return s
}

// The closed form equals the Shapley value by its definition, over all
// N! orders, to 1e-9, on every small case.
func TestShapleyEqualsBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	labels := []string{"cat", "dog", "eel"}
	cases := 0
	for n := 1; n <= 7; n++ {
		for k := 1; k <= 4; k++ {
			for range 6 {
				ranked := make([]Example, n)
				for i := range ranked {
					ranked[i] = Example{ID: fmt.Sprint(i), Label: labels[rng.IntN(len(labels))]}
				}
				label := labels[rng.IntN(len(labels))]
				got, want := Shapley(ranked, label, k), bruteShapley(ranked, label, k)
				sum := 0.0
				for i := range got {
					if math.Abs(got[i]-want[i]) > 1e-9 {
						t.Fatalf("n=%d k=%d %v label %s: closed form %v, by definition %v", n, k, ranked, label, got, want)
					}
					sum += got[i]
				}
				// Efficiency: the values sum to U(all) − U(∅).
				all := make([]int, n)
				for i := range all {
					all[i] = i
				}
				if u := utility(ranked, all, label, k); math.Abs(sum-u) > 1e-9 {
					t.Fatalf("values sum to %v, U(all) is %v", sum, u)
				}
				cases++
			}
		}
	}
	if cases != 7*4*6 {
		t.Fatalf("%d cases", cases)
	}
}

func TestClassifyAndRank(t *testing.T) {
	ex := []Example{
		{"a", "sky", "the sky is blue"},
		{"b", "sea", "the sea is deep and salty"},
		{"c", "sky", "blue sky at noon"},
		{"d", "sea", "salty deep sea water"},
	}
	q := Features("why is the sky blue")
	r := Rank(q, ex)
	if r[0].ID != "a" || Classify(r, 3) != "sky" {
		t.Fatalf("ranked %v, class %s", r, Classify(r, 3))
	}
	// The same ranking however the examples come.
	rev := slices.Clone(ex)
	slices.Reverse(rev)
	if fmt.Sprint(Rank(q, rev)) != fmt.Sprint(r) {
		t.Fatal("the ranking depends on the examples' order")
	}
	if _, ok := Parse("x", "no tab here"); ok {
		t.Fatal("a record without a label parsed")
	}
	if e, ok := Parse("x", "sky\tthe sky"); !ok || e.Label != "sky" || e.Text != "the sky" {
		t.Fatalf("parsed %+v %v", e, ok)
	}
}

// BenchmarkAttribution values every record of one prediction over 10k and
// 100k labelled records (vectors, ranking, closed form), reporting the
// 99th percentile of the time per prediction.
//
//	go test ./examples/knn -run '^$' -bench Attribution -benchtime 20x
func BenchmarkAttribution(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	words := make([]string, 2000)
	for i := range words {
		words[i] = fmt.Sprintf("w%d", i)
	}
	text := func() string {
		s := ""
		for range 8 + rng.IntN(24) {
			s += words[rng.IntN(len(words))] + " "
		}
		return s
	}
	for _, n := range []int{10_000, 100_000} {
		ex := make([]Example, n)
		for i := range ex {
			ex[i] = Example{ID: fmt.Sprintf("%08d", i), Label: fmt.Sprint("c", rng.IntN(5)), Text: text()}
		}
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			var times []time.Duration
			for b.Loop() {
				start := time.Now()
				q := Features(text())
				r := Rank(q, ex)
				Shapley(r, Classify(r, 5), 5)
				times = append(times, time.Since(start))
			}
			sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
			b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// Rank's distances are Distance(query, Features(text)), to the bit: the
// agent and the attribution plugin rank the same records the same way.
func TestRankUsesDistance(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	words := []string{"red", "green", "blue", "sky", "sea", "deep", "small", "dog", "cat", "barks"}
	phrase := func() string {
		s := ""
		for range 2 + rng.IntN(8) {
			s += words[rng.IntN(len(words))] + " "
		}
		return s
	}
	for range 50 {
		var ex []Example
		for i := range 30 {
			ex = append(ex, Example{ID: fmt.Sprintf("%02d", i), Label: "x", Text: phrase()})
		}
		q := Features(phrase())
		want := slices.Clone(ex)
		slices.SortStableFunc(want, func(a, b Example) int {
			da, db := Distance(q, Features(a.Text)), Distance(q, Features(b.Text))
			switch {
			case da < db:
				return -1
			case da > db:
				return 1
			}
			return strings.Compare(a.ID, b.ID)
		})
		if got := Rank(q, ex); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("Rank %v\nby Distance %v", got, want)
		}
	}
}

// The terms are the lowercased words and word pairs of the text, hashed
// with FNV-1a: the same buckets as hashing each word and "prev word" with
// hash/fnv.
func TestTermsAreHashedWordsAndPairs(t *testing.T) {
	ref := func(text string) []uint32 {
		words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		var out []uint32
		for i, w := range words {
			h := fnv.New32a()
			h.Write([]byte(w))
			out = append(out, h.Sum32()%Buckets)
			if i > 0 {
				h := fnv.New32a()
				h.Write([]byte(words[i-1] + " " + w))
				out = append(out, h.Sum32()%Buckets)
			}
		}
		return out
	}
	for _, text := range []string{"", "One", "The Sky, is BLUE!", "naïve café — Ünïcode 42x", "a\tb\nc  d", "\xff\xfeinvalid bytes ok"} {
		var got []uint32
		eachTerm(text, func(b uint32) { got = append(got, b) })
		if fmt.Sprint(got) != fmt.Sprint(ref(text)) {
			t.Fatalf("%q: %v, want %v", text, got, ref(text))
		}
	}
}
