package model_test

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/testkit"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/model"
	"github.com/tollgate-dev/tollgate/registry"
)

// datanet creates a datanet on a real registry and adds records, each
// signed by the contributor given with it.
func datanet(t testing.TB, reg *registry.Registry, name string, recs []string, by []*ecdsa.PrivateKey) registry.TrainingData {
	t.Helper()
	return datanetWith(t, reg, name, registry.Policy{Write: registry.WriteOpen}, recs, by)
}

// datanetWith is datanet under policy p.
func datanetWith(t testing.TB, reg *registry.Registry, name string, p registry.Policy, recs []string, by []*ecdsa.PrivateKey) registry.TrainingData {
	t.Helper()
	ctx := context.Background()
	owner := testkit.Key(t)
	d := registry.Datanet{Name: name, Owner: testkit.Addr(owner), PricePerRead: "1", Policy: p}
	sig, err := registry.Sign(owner, reg.Domain().DatanetDigest(d))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.CreateDatanet(ctx, d, sig); err != nil {
		t.Fatal(err)
	}
	for i, c := range recs {
		k := by[i%len(by)]
		sig, err := registry.Sign(k, reg.Domain().RecordDigest(name, c))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := reg.AddRecord(ctx, name, testkit.Addr(k), c, sig); err != nil {
			t.Fatal(err)
		}
	}
	got, err := reg.Datanet(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	return registry.TrainingData{Datanet: name, Version: got.Version, Root: got.Root}
}

// wordRecords is n records of words words each, drawn from w0..w(vocab-1)
// by a fixed seed.
func wordRecords(n, words, vocab int) []string {
	rng := rand.New(rand.NewPCG(3, 4))
	recs := make([]string, n)
	for i := range recs {
		var b strings.Builder
		for range words {
			fmt.Fprintf(&b, "w%d ", rng.IntN(vocab))
		}
		recs[i] = b.String()
	}
	return recs
}

func spec(training ...registry.TrainingData) *registry.ModelSpec {
	return &registry.ModelSpec{Backend: registry.BackendInfgram, Tokenizer: registry.TokenizerInfgram, PriceIn: "0", PriceOut: "0", Training: training}
}

func total(shares []ledger.TokenShare) *big.Rat {
	s := new(big.Rat)
	for _, sh := range shares {
		s.Add(s, sh.Tokens)
	}
	return s
}

// A model reads its training datanets at their pinned versions only: a
// record added later is not in it, and a generation that copies a record
// gives that record (and its contributor) every token.
func TestInfgramIsBuiltAtThePinnedVersion(t *testing.T) {
	reg := testkit.NewStores(t, testkit.Key(t)).Registry
	alice, bob := testkit.Key(t), testkit.Key(t)
	pinned := datanet(t, reg, "corpus", []string{
		"the quick brown fox jumps over the lazy dog",
		"a slow green turtle walks under the tall tree",
	}, []*ecdsa.PrivateKey{alice, bob})
	later := "the quick brown fox sleeps all day long"
	sig, _ := registry.Sign(bob, reg.Domain().RecordDigest("corpus", later))
	if _, _, err := reg.AddRecord(context.Background(), "corpus", testkit.Addr(bob), later, sig); err != nil {
		t.Fatal(err)
	}
	g, err := model.BuildInfgram(context.Background(), reg, spec(pinned))
	if err != nil {
		t.Fatal(err)
	}
	if g.Records() != 2 {
		t.Fatalf("the model holds %d records, want the 2 at version %d", g.Records(), pinned.Version)
	}
	res, err := g.Generate(context.Background(), model.Request{Prompt: "the quick brown", MaxTokens: 20})
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "fox jumps over the lazy dog" || res.Finish != "end" || res.TokensIn != 3 || res.TokensOut != 6 {
		t.Fatalf("generation %+v", res)
	}
	if len(res.Shares) != 1 || res.Shares[0].Contributor != testkit.Addr(alice) || res.Shares[0].Tokens.Cmp(big.NewRat(6, 1)) != 0 ||
		res.Shares[0].Record != registry.RecordID("the quick brown fox jumps over the lazy dog") {
		t.Fatalf("shares %+v", res.Shares)
	}
}

// Shares are exact fractions that never count more tokens than were
// generated; tokens drawn from more than MaxSources positions count for no
// record; and the same request gives the same text and shares.
func TestInfgramSharesAreExactAndBounded(t *testing.T) {
	reg := testkit.NewStores(t, testkit.Key(t)).Registry
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("a b c d e f g h i j")
	var recs []string
	for range 200 {
		var b strings.Builder
		for range 12 {
			b.WriteString(words[rng.IntN(len(words))] + " ")
		}
		recs = append(recs, b.String())
	}
	keys := []*ecdsa.PrivateKey{testkit.Key(t), testkit.Key(t), testkit.Key(t)}
	g, err := model.BuildInfgram(context.Background(), reg, spec(datanet(t, reg, "noise", recs, keys)))
	if err != nil {
		t.Fatal(err)
	}
	for seed := range uint64(20) {
		req := model.Request{Prompt: "a b", MaxTokens: 40, Temperature: 1, Seed: seed}
		r1, err := g.Generate(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		r2, _ := g.Generate(context.Background(), req)
		if r1.Text != r2.Text || fmt.Sprint(r1.Shares) != fmt.Sprint(r2.Shares) {
			t.Fatalf("seed %d: two runs differ", seed)
		}
		if sum := total(r1.Shares); sum.Cmp(big.NewRat(int64(r1.TokensOut), 1)) > 0 {
			t.Fatalf("seed %d: shares of %s tokens of %d", seed, sum.RatString(), r1.TokensOut)
		}
		if len(r1.Shares) > model.MaxSources*max(r1.TokensOut, 1) {
			t.Fatalf("seed %d: %d records share %d tokens", seed, len(r1.Shares), r1.TokensOut)
		}
	}
}

// The same content in two training datanets is one record, paid once,
// where it was first seen: copying a record does not split its pay.
func TestCopiesAreOneRecord(t *testing.T) {
	reg := testkit.NewStores(t, testkit.Key(t)).Registry
	alice, mallory := testkit.Key(t), testkit.Key(t)
	a := datanet(t, reg, "original", []string{"the quick brown fox jumps over the lazy dog"}, []*ecdsa.PrivateKey{alice})
	b := datanet(t, reg, "copies", []string{"the quick brown fox jumps over the lazy dog", "unrelated words here"}, []*ecdsa.PrivateKey{mallory})
	g, err := model.BuildInfgram(context.Background(), reg, spec(a, b))
	if err != nil {
		t.Fatal(err)
	}
	if g.Records() != 2 {
		t.Fatalf("%d records, want the copy counted once", g.Records())
	}
	res, _ := g.Generate(context.Background(), model.Request{Prompt: "the quick", MaxTokens: 10})
	if len(res.Shares) != 1 || res.Shares[0].Datanet != "original" || res.Shares[0].Contributor != testkit.Addr(alice) {
		t.Fatalf("shares %+v", res.Shares)
	}
}

// A server's output is traced to the training records holding its
// spans: each record owed tokens × its words of the spans / the words of
// the text, a span's words split evenly over the records holding it.
func TestTraceSplitsReproducedSpans(t *testing.T) {
	reg := testkit.NewStores(t, testkit.Key(t)).Registry
	alice, bob := testkit.Key(t), testkit.Key(t)
	td := datanet(t, reg, "corpus", []string{
		"water boils at one hundred degrees at sea level",
		"ice floats because water expands when it freezes",
		"ice floats because water expands when it freezes, said the teacher",
	}, []*ecdsa.PrivateKey{alice, bob})
	m := reg.At(map[string]uint64{"corpus": td.Version})
	// 16 words: 8 from alice's first record, 8 held by two records.
	text := "water boils at one hundred degrees at sea. ice floats because water expands when it freezes"
	shares, err := model.Trace(context.Background(), m, []registry.TrainingData{td}, text, 20)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range shares {
		got[s.Record[:8]] = s.Tokens.RatString()
	}
	want := map[string]string{
		registry.RecordID("water boils at one hundred degrees at sea level")[:8]:                    "10",
		registry.RecordID("ice floats because water expands when it freezes")[:8]:                   "5",
		registry.RecordID("ice floats because water expands when it freezes, said the teacher")[:8]: "5",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("shares %v, want %v", got, want)
	}
	if none, _ := model.Trace(context.Background(), m, []registry.TrainingData{td}, "nothing here matches at all today", 9); len(none) != 0 {
		t.Fatalf("an answer reproducing nothing is attributed: %+v", none)
	}
}

// A model on a server the node does not have is refused with
// model_failed, by name, when it is first called.
func TestCacheRefusesAnUnknownServer(t *testing.T) {
	reg := testkit.NewStores(t, testkit.Key(t)).Registry
	c := model.NewCache(model.RegistrySource(reg), nil, 0)
	p := &registry.Plugin{Manifest: registry.Manifest{Name: "a/m", Version: "1.0.0", Kind: abi.KindModel,
		Model: &registry.ModelSpec{Backend: registry.BackendOpenAI, Server: "gone", Remote: "x", Tokenizer: registry.TokenizerServer}}}
	if _, err := c.Backend(context.Background(), p); abi.CodeOf(err) != abi.CodeModelFailed || !strings.Contains(err.Error(), `"gone"`) {
		t.Fatalf("a model on an unknown server: %v", err)
	}
}

// BenchmarkInfgramShares is the embedded backend's time per generated
// token, attribution included (each token's records, summed as exact
// fractions), over 2,000 records; internal/infgram's BenchmarkGenerate256
// is the generation alone.
func BenchmarkInfgramShares(b *testing.B) {
	reg := testkit.NewStores(b, testkit.Key(b)).Registry
	recs := wordRecords(2000, 30, 500)
	g, err := model.BuildInfgram(context.Background(), reg, spec(datanet(b, reg, "bench", recs, []*ecdsa.PrivateKey{testkit.Key(b)})))
	if err != nil {
		b.Fatal(err)
	}
	tokens := 0
	for i := 0; b.Loop(); i++ {
		r, _ := g.Generate(context.Background(), model.Request{Prompt: "w1 w2", MaxTokens: 64, Temperature: 1, Seed: uint64(i)})
		tokens += r.TokensOut
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(tokens), "µs/token")
}

// recordsOnly is a source of training records that keeps no files.
type recordsOnly struct{ r *registry.Registry }

func (s recordsOnly) RecordsAt(ctx context.Context, datanet string, at, after uint64, limit int) ([]registry.Record, uint64, error) {
	return s.r.RecordsAt(ctx, datanet, at, after, limit)
}

// A registry on disk keeps a built model as files named by its training
// data's roots: the next build maps them instead of building again, files
// found damaged are built again, and every one of them generates what a
// model built in memory does, shares included.
func TestInfgramFilesAreReused(t *testing.T) {
	reg := testkit.NewStores(t, testkit.Key(t)).Registry
	recs := wordRecords(300, 15, 40)
	sp := spec(datanet(t, reg, "corpus", recs, []*ecdsa.PrivateKey{testkit.Key(t), testkit.Key(t)}))
	ctx := context.Background()
	req := model.Request{Prompt: "w1 w2", MaxTokens: 40, Temperature: 1, Seed: 9}
	mem, err := model.BuildInfgram(ctx, recordsOnly{reg}, sp)
	if err != nil {
		t.Fatal(err)
	}
	want, err := mem.Generate(ctx, req)
	if err != nil || len(want.Shares) == 0 {
		t.Fatalf("%+v %v", want, err)
	}
	generate := func(what string) {
		t.Helper()
		g, err := model.BuildInfgram(ctx, reg, sp)
		if err != nil {
			t.Fatal(err)
		}
		got, err := g.Generate(ctx, req)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: %+v %v\nwant %+v", what, got, err, want)
		}
	}
	generate("first build")
	dirs, _ := filepath.Glob(filepath.Join(reg.ModelFiles(), "*"))
	if len(dirs) != 1 {
		t.Fatalf("model files %v", dirs)
	}
	vocab := filepath.Join(dirs[0], "vocab")
	st0, err := os.Stat(vocab)
	if err != nil {
		t.Fatal(err)
	}
	generate("mapped again")
	if st1, err := os.Stat(vocab); err != nil || !os.SameFile(st0, st1) {
		t.Fatalf("the files were built again: %v", err)
	}
	seg := filepath.Join(dirs[0], "00000000.seg")
	b, _ := os.ReadFile(seg)
	b[len(b)/2] ^= 1
	os.WriteFile(seg, b, 0o600)
	generate("after damage")
	if st2, err := os.Stat(vocab); err != nil || os.SameFile(st0, st2) {
		t.Fatalf("damaged files were kept: %v", err)
	}
	generate("rebuilt, mapped again")
}

// A model directory whose deletion was cut short (its vocabulary gone) is
// built again, not left to fail every build; builds of the same model at
// once all succeed, over one directory.
func TestInfgramFilesRecoverAndRace(t *testing.T) {
	reg := testkit.NewStores(t, testkit.Key(t)).Registry
	recs := []string{"the quick brown fox jumps over the lazy dog", "a slow green turtle walks under the tall tree"}
	sp := spec(datanet(t, reg, "corpus", recs, []*ecdsa.PrivateKey{testkit.Key(t)}))
	ctx := context.Background()
	req := model.Request{Prompt: "the quick", MaxTokens: 10}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			g, err := model.BuildInfgram(ctx, reg, sp)
			if err == nil {
				var res model.Result
				if res, err = g.Generate(ctx, req); err == nil && res.Text != "brown fox jumps over the lazy dog" {
					err = fmt.Errorf("generated %q", res.Text)
				}
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatalf("a build at once with others: %v", err)
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(reg.ModelFiles(), "*"))
	if len(dirs) != 1 {
		t.Fatalf("model files %v", dirs)
	}
	if err := os.Remove(filepath.Join(dirs[0], "vocab")); err != nil {
		t.Fatal(err)
	}
	g, err := model.BuildInfgram(ctx, reg, sp)
	if err != nil {
		t.Fatalf("after a deletion cut short: %v", err)
	}
	if res, err := g.Generate(ctx, req); err != nil || res.Text != "brown fox jumps over the lazy dog" {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := os.Stat(filepath.Join(dirs[0], "vocab")); err != nil {
		t.Fatalf("not rebuilt: %v", err)
	}
}

// Model files no published model would map (a training set no manifest
// names, or another build's) are deleted by SweepFiles; a published
// model's are kept, and so is a build in progress.
func TestSweepFilesKeepsOnlyPublishedModels(t *testing.T) {
	reg := testkit.NewStores(t, testkit.Key(t)).Registry
	ctx := context.Background()
	pinned := datanetWith(t, reg, "corpus", registry.Policy{Write: registry.WriteOpen, Models: []string{"acme/tiny"}},
		[]string{"the quick brown fox jumps over the lazy dog"}, []*ecdsa.PrivateKey{testkit.Key(t)})
	publisher := testkit.Key(t)
	m := registry.Manifest{Name: "acme/tiny", Version: "1.0.0", Kind: abi.KindModel, Publisher: testkit.Addr(publisher), Model: spec(pinned)}
	sig, err := registry.Sign(publisher, reg.Domain().ManifestDigest(m))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Publish(ctx, m, sig, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := model.BuildInfgram(ctx, reg, m.Model); err != nil {
		t.Fatal(err)
	}
	used, _ := filepath.Glob(filepath.Join(reg.ModelFiles(), "*"))
	if len(used) != 1 {
		t.Fatalf("model files %v", used)
	}
	for _, stray := range []string{"0123abcd", "feed.42.tmp"} {
		os.MkdirAll(filepath.Join(reg.ModelFiles(), stray), 0o700)
	}
	removed, err := model.SweepFiles(ctx, reg)
	if err != nil || removed != 1 {
		t.Fatalf("removed %d, %v", removed, err)
	}
	left, _ := filepath.Glob(filepath.Join(reg.ModelFiles(), "*"))
	if len(left) != 2 || !slices.Contains(left, used[0]) || !slices.Contains(left, filepath.Join(reg.ModelFiles(), "feed.42.tmp")) {
		t.Fatalf("left %v", left)
	}
}
