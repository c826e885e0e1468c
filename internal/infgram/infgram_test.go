package infgram

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var facts = []Record{
	{"sky", "The sky is blue because air scatters blue light more than red light."},
	{"water", "Water boils at 100 degrees Celsius at sea level."},
	{"bees", "Bees dance to tell the hive where flowers are."},
	{"ice", "Ice floats because it is less dense than water."},
}

func model(t testing.TB, records []Record) *Model {
	t.Helper()
	m, err := New(records)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Where the context's continuation is unique, generation follows the one
// record that holds it, and that record gets the whole share.
func TestAUniqueContinuationPaysItsRecord(t *testing.T) {
	m := model(t, facts)
	g := m.Generate("Water boils at", Params{MaxTokens: 8, Temperature: 1, Seed: 1})
	if g.Text != "100 degrees Celsius at sea level." {
		t.Fatalf("generated %q", g.Text)
	}
	if g.FinishReason != "end" || g.PromptTokens != 3 {
		t.Fatalf("finish %q, prompt tokens %d", g.FinishReason, g.PromptTokens)
	}
	for _, s := range g.Steps {
		if s.Count != s.Total || len(s.ByRecord) != 1 || s.ByRecord["water"] != s.Count {
			t.Fatalf("step %+v: not all from the water record", s)
		}
	}
	sh := g.Shares()
	if len(sh) != 1 || sh["water"].Cmp(big.NewRat(1, 1)) != 0 {
		t.Fatalf("shares %v", sh)
	}
}

// The distribution backs off to the longest suffix that occurs: an
// unknown word in the prompt is skipped past, not a dead end.
func TestBackoffToTheLongestSuffixThatOccurs(t *testing.T) {
	m := model(t, facts)
	d := m.Next(Tokens("zebras think that blue light"))
	if d.Suffix != 2 || d.Total != 1 || d.Next[0].Token != "more" {
		t.Fatalf("after \"blue light\": %+v", d)
	}
	d = m.Next(Tokens("zebras"))
	// Every token of the corpus, and every record's end.
	if d.Suffix != 0 || d.Total != len(Tokens(strings.Join(texts(facts), " ")))+len(facts) {
		t.Fatalf("after an unknown word: suffix %d, total %d", d.Suffix, d.Total)
	}
	// "blue" is followed by "because" (sky) and "light" (sky): two
	// continuations of one record.
	d = m.Next([]string{"blue"})
	if d.Suffix != 1 || d.Total != 2 || len(d.Next) != 2 {
		t.Fatalf("after blue: %+v", d)
	}
}

func texts(rs []Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Content)
	}
	return out
}

// Counts come from positions in records, so a continuation two records
// share is drawn in proportion to its counts and split between them.
func TestSharesFollowCountsAcrossRecords(t *testing.T) {
	m := model(t, []Record{
		{"a", "red apples and red apples"},
		{"b", "red apples"},
		{"c", "red cherries"},
	})
	d := m.Next([]string{"red"})
	if d.Total != 4 || d.Next[0].Token != "apples" || d.Next[0].Count != 3 || d.Next[0].ByRecord["a"] != 2 || d.Next[0].ByRecord["b"] != 1 {
		t.Fatalf("after red: %+v", d)
	}
	// Drawn over many seeds, apples comes about 3 times in 4.
	apples := 0
	for seed := range uint64(4000) {
		if g := m.Generate("red", Params{MaxTokens: 1, Temperature: 1, Seed: seed}); g.Text == "apples" {
			apples++
		}
	}
	if apples < 2800 || apples > 3200 {
		t.Fatalf("apples drawn %d times in 4000, want about 3000", apples)
	}
	g := m.Generate("red", Params{MaxTokens: 1, Temperature: 0})
	sh := g.Shares()
	if g.Text != "apples" || sh["a"].Cmp(big.NewRat(2, 3)) != 0 || sh["b"].Cmp(big.NewRat(1, 3)) != 0 {
		t.Fatalf("greedy %q, shares %v", g.Text, sh)
	}
}

// The same model, prompt and parameters give the same text and steps;
// another seed may not.
func TestGenerationIsReproducible(t *testing.T) {
	m := model(t, facts)
	// "at" goes on as "100" or "sea", "is" as "blue" or "less": the draws
	// branch.
	p := Params{MaxTokens: 40, Temperature: 1, Seed: 7}
	a, b := m.Generate("at", p), model(t, facts).Generate("at", p)
	if a.Text != b.Text || fmt.Sprint(a.Steps) != fmt.Sprint(b.Steps) {
		t.Fatalf("two runs differ:\n%q\n%q", a.Text, b.Text)
	}
	differs := false
	for seed := range uint64(20) {
		if m.Generate("at", Params{MaxTokens: 40, Temperature: 1, Seed: seed}).Text != a.Text {
			differs = true
		}
	}
	if !differs {
		t.Fatal("twenty seeds all gave the same text: the seed is ignored")
	}
}

// Another process builds the same model and generates the same text: the
// draw depends on nothing but the records, prompt and parameters.
func TestGenerationIsReproducibleAcrossProcesses(t *testing.T) {
	if os.Getenv("INFGRAM_CHILD") != "" {
		fmt.Print(model(t, facts).Generate("at", Params{MaxTokens: 40, Temperature: 1, Seed: 11}).Text)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestGenerationIsReproducibleAcrossProcesses$")
	cmd.Env = append(os.Environ(), "INFGRAM_CHILD=1")
	child, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	want := model(t, facts).Generate("at", Params{MaxTokens: 40, Temperature: 1, Seed: 11}).Text
	if !strings.HasPrefix(string(child), want) {
		t.Fatalf("the child process generated %q, this one %q", child, want)
	}
}

// Stop strings end generation; the token count bounds it.
func TestStopAndMaxTokens(t *testing.T) {
	m := model(t, facts)
	if g := m.Generate("The sky is", Params{MaxTokens: 30, Temperature: 0, Stop: []string{"air"}}); g.FinishReason != "stop" || !strings.HasSuffix(g.Text, "air") {
		t.Fatalf("stop: %q %s", g.Text, g.FinishReason)
	}
	if g := m.Generate("The sky is", Params{MaxTokens: 2, Temperature: 0}); g.FinishReason != "length" || len(g.Steps) != 2 {
		t.Fatalf("max tokens: %q %s", g.Text, g.FinishReason)
	}
}

// Shares of any generation sum to exactly one, and Split divides a pool
// into integers that sum to it exactly.
func TestSharesAndSplitAreExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("a b c d e f g h the of and to in")
	var recs []Record
	for i := range 30 {
		var w []string
		for range 5 + rng.IntN(30) {
			w = append(w, words[rng.IntN(len(words))])
		}
		recs = append(recs, Record{fmt.Sprint("r", i), strings.Join(w, " ")})
	}
	m := model(t, recs)
	for seed := range uint64(50) {
		g := m.Generate("the", Params{MaxTokens: 30, Temperature: 1, Seed: seed})
		sum := new(big.Rat)
		for _, s := range g.Shares() {
			sum.Add(sum, s)
		}
		if len(g.Steps) > 0 && sum.Cmp(big.NewRat(1, 1)) != 0 {
			t.Fatalf("seed %d: shares sum to %s", seed, sum)
		}
		pool := big.NewInt(int64(1_000_003 + seed))
		total := new(big.Int)
		for _, p := range Split(pool, g.Shares()) {
			if p.Sign() < 0 {
				t.Fatalf("a negative part %s", p)
			}
			total.Add(total, p)
		}
		if len(g.Steps) > 0 && total.Cmp(pool) != 0 {
			t.Fatalf("seed %d: parts sum to %s of %s", seed, total, pool)
		}
	}
}

func TestTokensAndJoin(t *testing.T) {
	toks := Tokens("Water boils (at sea level), at 100°C.")
	want := []string{"Water", "boils", "(", "at", "sea", "level", ")", ",", "at", "100", "°", "C", "."}
	if fmt.Sprint(toks) != fmt.Sprint(want) {
		t.Fatalf("tokens %q", toks)
	}
	if got := Join(toks); got != "Water boils (at sea level), at 100 ° C." {
		t.Fatalf("joined %q", got)
	}
}

// zipfCorpus is records of words drawn from a Zipf distribution over a
// vocabulary, about mb megabytes of text in all.
func zipfCorpus(mb int) []Record {
	rng := rand.New(rand.NewPCG(3, 4))
	z := rand.NewZipf(rand.New(rand.NewPCG(5, 6)), 1.1, 1, 50_000)
	var recs []Record
	size := 0
	for i := 0; size < mb<<20; i++ {
		var b strings.Builder
		for range 20 + rng.IntN(200) {
			fmt.Fprintf(&b, "w%d ", z.Uint64())
		}
		recs = append(recs, Record{fmt.Sprint("r", i), b.String()})
		size += b.Len()
	}
	return recs
}

// BenchmarkGenerate256 generates 256-token answers from a model over
// $INFGRAM_MB (default 10) megabytes of Zipf-distributed words, reporting
// tokens per second, the 99th percentile per answer, and the seconds and
// heap the model took to build.
//
//	INFGRAM_MB=100 go test ./internal/infgram -run '^$' -bench Generate -benchtime 50x
func BenchmarkGenerate256(b *testing.B) {
	mb := 10
	if v, err := strconv.Atoi(os.Getenv("INFGRAM_MB")); err == nil && v > 0 {
		mb = v
	}
	recs := zipfCorpus(mb)
	var before, after goruntime.MemStats
	goruntime.GC()
	goruntime.ReadMemStats(&before)
	start := time.Now()
	m := model(b, recs)
	built := time.Since(start)
	goruntime.GC()
	goruntime.ReadMemStats(&after)
	b.ResetTimer()
	tokens := 0
	var times []time.Duration
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		g := m.Generate("w1 w2 w3", Params{MaxTokens: 256, Temperature: 1, Seed: uint64(i)})
		times = append(times, time.Since(t0))
		tokens += len(g.Steps)
	}
	slices.Sort(times)
	b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tokens/s")
	b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, "p99-ms/answer")
	b.ReportMetric(built.Seconds(), "build-s")
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "model-MB")
}

// Generation is bounded however the corpus repeats: MaxBytes ends it as
// "length" before the text outgrows it, the same way on every run, and
// Continue stops it as "canceled".
func TestGenerationIsBounded(t *testing.T) {
	word := strings.Repeat("w", 1000)
	m := model(t, []Record{{"r", strings.Repeat(word+" ", 50)}})
	g := m.Generate(word, Params{MaxTokens: 1000, MaxBytes: 10_500})
	if g.FinishReason != "length" || len(g.Text) > 10_500 || len(g.Steps) != 10 {
		t.Fatalf("finish %q, %d bytes, %d tokens", g.FinishReason, len(g.Text), len(g.Steps))
	}
	calls := 0
	g = m.Generate(word, Params{MaxTokens: 1000, Continue: func() bool { calls++; return calls < 2 }})
	if g.FinishReason != "canceled" || len(g.Steps) != 16 {
		t.Fatalf("finish %q after %d tokens", g.FinishReason, len(g.Steps))
	}
}
