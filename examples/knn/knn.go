// Package knn is the shared core of the k-nearest-neighbour example: the
// classifier agent (agents/knn) and its attribution plugin
// (attribution/knnshapley), which values each training record a
// prediction used by its exact Data Shapley value (Jia et al., "Efficient
// Task-Specific Data Valuation for Nearest Neighbor Algorithms", VLDB
// 2019) in closed form: O(N log N) for N records, where the definition
// sums over N! orderings.
//
// A labelled record is "label<TAB>text". A text becomes a vector of hashed
// word unigrams and bigrams, L2-normalised; records are ranked by cosine
// distance to the query, ties broken by record id, so the ranking and
// everything computed from it is the same on every machine.
package knn

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Buckets is the size of the hashed feature space.
const Buckets = 1 << 18

// Feature is one coordinate of a sparse vector.
type Feature struct {
	Bucket uint32  `json:"b"`
	Weight float64 `json:"w"`
}

// Vector is a sparse vector, sorted by bucket.
type Vector []Feature

// Features is text's vector: counts of its lowercased words and word pairs,
// hashed into Buckets, scaled to unit length.
func Features(text string) Vector {
	counts := map[uint32]float64{}
	eachTerm(text, func(b uint32) { counts[b]++ })
	v := make(Vector, 0, len(counts))
	norm := 0.0
	for b, c := range counts {
		v = append(v, Feature{b, c})
	}
	slices.SortFunc(v, func(a, b Feature) int { return cmp.Compare(a.Bucket, b.Bucket) })
	for _, f := range v {
		norm += f.Weight * f.Weight
	}
	norm = math.Sqrt(norm)
	for i := range v {
		v[i].Weight /= norm
	}
	return v
}

// eachTerm calls fn with the bucket of each word and word pair of text
// (words lowercased, pairs joined by a space), without allocating per word.
func eachTerm(text string, fn func(uint32)) {
	var prev, cur []byte
	flush := func() {
		if len(cur) == 0 {
			return
		}
		fn(fnv32a(offset32, cur) % Buckets)
		if len(prev) > 0 {
			h := fnv32a(offset32, prev)
			h = fnv32a(h, []byte{' '})
			fn(fnv32a(h, cur) % Buckets)
		}
		prev, cur = append(prev[:0], cur...), cur[:0]
	}
	for _, r := range text {
		if l := unicode.ToLower(r); unicode.IsLetter(l) || unicode.IsDigit(l) {
			cur = utf8.AppendRune(cur, l)
		} else {
			flush()
		}
	}
	flush()
}

const offset32 = 2166136261

// fnv32a continues the 32-bit FNV-1a hash h over b.
func fnv32a(h uint32, b []byte) uint32 {
	for _, c := range b {
		h ^= uint32(c)
		h *= 16777619
	}
	return h
}

// Distance is 1 − the cosine of a and b (both unit length).
func Distance(a, b Vector) float64 {
	dot := 0.0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i].Bucket < b[j].Bucket:
			i++
		case a[i].Bucket > b[j].Bucket:
			j++
		default:
			dot += a[i].Weight * b[j].Weight
			i++
			j++
		}
	}
	return 1 - dot
}

// Example is a labelled training record.
type Example struct {
	ID    string
	Label string
	Text  string
}

// Parse reads a record's content as "label<TAB>text"; ok is false for a
// record in another form, which is no training example.
func Parse(id, content string) (Example, bool) {
	label, text, ok := strings.Cut(content, "\t")
	label = strings.TrimSpace(label)
	if !ok || label == "" {
		return Example{}, false
	}
	return Example{ID: id, Label: label, Text: text}, true
}

// Rank orders examples nearest to query first, ties by id. The distance
// is Distance(query, Features(text)), computed without building each
// example's vector.
func Rank(query Vector, examples []Example) []Example {
	type ranked struct {
		e Example
		d float64
	}
	q := make(map[uint32]float64, len(query))
	for _, f := range query {
		q[f.Bucket] = f.Weight
	}
	counts := map[uint32]float64{}
	rs := make([]ranked, len(examples))
	for i, e := range examples {
		clear(counts)
		eachTerm(e.Text, func(b uint32) { counts[b]++ })
		// Summed in bucket order, as Distance sums, so the two agree to
		// the last bit.
		buckets := make([]uint32, 0, len(counts))
		for b := range counts {
			buckets = append(buckets, b)
		}
		slices.Sort(buckets)
		norm, dot := 0.0, 0.0
		for _, b := range buckets {
			norm += counts[b] * counts[b]
		}
		norm = math.Sqrt(norm)
		for _, b := range buckets {
			if w, ok := q[b]; ok {
				dot += w * (counts[b] / norm)
			}
		}
		rs[i] = ranked{e, 1 - dot}
	}
	slices.SortStableFunc(rs, func(a, b ranked) int {
		if c := cmp.Compare(a.d, b.d); c != 0 {
			return c
		}
		return cmp.Compare(a.e.ID, b.e.ID)
	})
	out := make([]Example, len(rs))
	for i, r := range rs {
		out[i] = r.e
	}
	return out
}

// Classify is the majority label of the k nearest of ranked (nearest
// first); a tie goes to the label whose nearest example is nearer.
func Classify(ranked []Example, k int) string {
	votes := map[string]int{}
	best := ""
	for _, e := range ranked[:min(k, len(ranked))] {
		votes[e.Label]++
		if best == "" || votes[e.Label] > votes[best] {
			best = e.Label
		}
	}
	return best
}

// Shapley returns the Shapley value of each of ranked's examples (nearest
// first) for the utility of a k-NN classifier on one query whose label is
// label: U(S) = (1/k)·Σ over the min(k, |S|) nearest examples of S of
// [their label is label]. By Jia et al.'s Theorem 1, with a_i = [ranked[i]
// has label] and N = len(ranked), counting from 1:
//
//	s_N = a_N / k · min(k, N) / N     (a_N / N when N ≥ k)
//	s_i = s_(i+1) + (a_i − a_(i+1)) / k · min(k, i) / i
//
// (The farthest example changes U(S) only while S holds fewer than k
// examples, which in a random order happens with chance min(k, N)/N.)
//
// The values sum to U(all) − U(∅), the fraction of the k nearest that
// carry label.
func Shapley(ranked []Example, label string, k int) []float64 {
	n := len(ranked)
	s := make([]float64, n)
	if n == 0 || k < 1 {
		return s
	}
	a := func(i int) float64 { // i counts from 1
		if ranked[i-1].Label == label {
			return 1
		}
		return 0
	}
	s[n-1] = a(n) / float64(k) * float64(min(k, n)) / float64(n)
	for i := n - 1; i >= 1; i-- {
		s[i-1] = s[i] + (a(i)-a(i+1))/float64(k)*float64(min(k, i))/float64(i)
	}
	return s
}

// Prediction is what the agent answers: the label, the k it voted with,
// and the query's vector, which the attribution plugin ranks the records
// against (the query's text stays the caller's).
type Prediction struct {
	Label string `json:"label"`
	K     int    `json:"k"`
	Query Vector `json:"query"`
}
