package registry_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/corpus"
	"github.com/tollgate-dev/tollgate/registry"
)

// corpusFixture is an on-disk registry with a datanet whose records repeat
// words, so that corpus_match finds spans in many of them.
type corpusFixture struct {
	t        *testing.T
	dir      string
	r        *registry.Registry
	rng      *rand.Rand
	contents []string // by version - 1
	ids      []string
	k        *ecdsa.PrivateKey
	name     string // the datanet's
}

func newCorpusFixture(t *testing.T) *corpusFixture {
	return newCorpusFixtureIn(t, t.TempDir(), "facts")
}

// newCorpusFixtureIn is newCorpusFixture with the registry in dir and the
// datanet named name.
func newCorpusFixtureIn(t *testing.T, dir, name string) *corpusFixture {
	f := &corpusFixture{t: t, dir: dir, name: name, rng: rand.New(rand.NewPCG(21, 22))}
	f.r = openDir(t, f.dir)
	t.Cleanup(func() { f.r.Close() })
	f.k = key(t)
	if _, err := newDatanet(t, f.r, f.k, registry.Datanet{Name: name}); err != nil {
		t.Fatal(err)
	}
	f.add(300)
	return f
}

var corpusVocab = strings.Fields("the sky is blue because light scatters off air and water red at sunset violet eyes")

func (f *corpusFixture) sentence(n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = corpusVocab[f.rng.IntN(len(corpusVocab))]
	}
	return strings.Join(w, " ")
}

// add appends n records.
func (f *corpusFixture) add(n int) {
	f.t.Helper()
	ctx := context.Background()
	key := f.k
	for range n {
		content := f.sentence(20+f.rng.IntN(60)) + fmt.Sprintf(" n%d", len(f.contents))
		sig, err := registry.Sign(key, registry.Domain{}.RecordDigest(f.name, content))
		if err != nil {
			f.t.Fatal(err)
		}
		rec, _, err := f.r.AddRecord(ctx, f.name, registry.Address(key), content, sig)
		if err != nil {
			f.t.Fatal(err)
		}
		f.contents, f.ids = append(f.contents, content), append(f.ids, rec.ID)
	}
}

// check matches texts against the registry and against every record
// indexed at once in memory, which must agree.
func (f *corpusFixture) check(what string) {
	f.t.Helper()
	want := registry.NewMemoryCorpus(f.ids, f.contents)
	for i := range 30 {
		text := f.sentence(30)
		if i%3 == 0 {
			c := f.contents[f.rng.IntN(len(f.contents))]
			text = c[:len(c)/2] + " " + text
		}
		got, err := f.r.CorpusMatch(context.Background(), f.name, text, 3)
		if err != nil {
			f.t.Fatal(err)
		}
		if w := want.Match(text, 3); !reflect.DeepEqual(got, w) && !(len(got) == 0 && len(w) == 0) {
			f.t.Fatalf("%s: %q:\nregistry %+v\nmemory   %+v", what, text, got, w)
		}
	}
}

func (f *corpusFixture) files() []string {
	f.t.Helper()
	registry.WaitCorpusJobs(f.r, f.name)
	dir := filepath.Join(f.dir, "corpus", hex.EncodeToString([]byte(f.name)))
	if len(f.name) > 100 {
		sum := sha256.Sum256([]byte(f.name))
		dir = filepath.Join(f.dir, "corpus", "sha256-"+hex.EncodeToString(sum[:]))
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, filepath.Join(dir, e.Name()))
	}
	return names
}

// filesRun checks that the files together hold versions 1 to some
// version, in order, and returns that version.
func (f *corpusFixture) filesRun() (last uint64) {
	f.t.Helper()
	for _, p := range f.files() {
		var a, b uint64
		fmt.Sscanf(filepath.Base(p), "%020d-%020d-", &a, &b)
		if a != last+1 || b < a {
			f.t.Fatalf("files %v do not run on from version 1", f.files())
		}
		last = b
	}
	return last
}

func (f *corpusFixture) reopen() {
	f.t.Helper()
	if err := f.r.Close(); err != nil {
		f.t.Fatal(err)
	}
	f.r = openDir(f.t, f.dir)
}

// The corpus index of an on-disk registry is kept in segment files: a
// restart maps them again instead of indexing the records anew, appends
// are written out and merged once they add up, and every match agrees
// with the records indexed at once in memory.
func TestCorpusIndexFiles(t *testing.T) {
	defer registry.SetPersistCorpusBytes(8 << 10)()
	f := newCorpusFixture(t)
	f.check("first build")
	files := f.files()
	if len(files) != 1 || !strings.HasPrefix(filepath.Base(files[0]), fmt.Sprintf("%020d-%020d-", 1, 300)) {
		t.Fatalf("after the first match: %v", files)
	}
	st0, _ := os.Stat(files[0])

	f.reopen()
	f.check("after a restart")
	st1, err := os.Stat(files[0])
	if err != nil || !os.SameFile(st0, st1) || st1.ModTime() != st0.ModTime() {
		t.Fatalf("the segment file was not reused: %v", err)
	}

	// Appends: in memory until 8 KiB of them, then a file, merged with the
	// one before while about its size.
	for range 12 {
		f.add(15)
		f.check("after appends")
	}
	files = f.files()
	var held uint64
	fmt.Sscanf(filepath.Base(files[len(files)-1]), "%020d-%020d-", new(uint64), &held)
	if held <= 300 || len(f.contents)-int(held) > 40 {
		t.Fatalf("of %d versions, files hold up to %d: %v", len(f.contents), held, files)
	}
	f.reopen()
	f.check("after appends and a restart")
	f.filesRun()
}

// A damaged segment file, a stray one, an overlapping one and one a
// writer left half done are all dropped at the next start, the damaged
// one's versions indexed again from the records; matches are unchanged.
func TestCorpusIndexFilesDamaged(t *testing.T) {
	f := newCorpusFixture(t)
	f.check("first build")
	files := f.files()
	if len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	dir := filepath.Dir(files[0])
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(files[0], b, 0o600); err != nil {
		t.Fatal(err)
	}
	root := strings.Split(strings.TrimSuffix(filepath.Base(files[0]), ".seg"), "-")[2]
	stray := []string{"x.seg", filepath.Base(files[0]) + ".123.tmp", fmt.Sprintf("%020d-%020d-%s.seg", 2, 5, root), "notes.txt"}
	for _, name := range stray {
		os.WriteFile(filepath.Join(dir, name), []byte("junk"), 0o600)
	}
	f.reopen()
	f.check("after damage")
	got := f.files()
	if len(got) != 1 || got[0] != files[0] {
		t.Fatalf("after damage the files are %v, want only the rebuilt %s", got, files[0])
	}
	if b2, _ := os.ReadFile(files[0]); slices.Equal(b, b2) {
		t.Fatal("the damaged file was kept")
	}
}

// Files of versions the datanet does not hold, or of other records at its
// versions (its store restored from an older backup), are dropped, not
// matched.
func TestCorpusIndexFilesAheadOfTheDatanet(t *testing.T) {
	f := newCorpusFixture(t)
	f.check("first build")
	files := f.files()
	dir := filepath.Dir(files[0])
	root := strings.Split(strings.TrimSuffix(filepath.Base(files[0]), ".seg"), "-")[2]
	// A file naming versions it does not hold.
	b, _ := os.ReadFile(files[0])
	os.WriteFile(filepath.Join(dir, fmt.Sprintf("%020d-%020d-%s.seg", 1, 299, root)), b, 0o600)
	// Whole, good files of another store's records: one holding a version
	// the datanet does not have, and one of other records at its versions
	// (as a store restored from an older backup and appended to again).
	os.Remove(files[0])
	ids, contents := slices.Clone(f.ids), slices.Clone(f.contents)
	contents[7] = "words only the old store held"
	if err := corpus.WriteSegment(filepath.Join(dir, fmt.Sprintf("%020d-%020d-%s.seg", 1, 301, root)), corpus.WordStarts, 1, append(ids, "x"), append(contents, "a later record")); err != nil {
		t.Fatal(err)
	}
	if err := corpus.WriteSegment(filepath.Join(dir, fmt.Sprintf("%020d-%020d-%s.seg", 1, 300, strings.Repeat("ab", 32))), corpus.WordStarts, 1, ids, contents); err != nil {
		t.Fatal(err)
	}
	f.reopen()
	f.check("with files ahead of the datanet")
	if got, _ := f.r.CorpusMatch(context.Background(), "facts", "words only the old store held", 2); len(got) != 0 {
		t.Fatalf("matched a file ahead of the datanet: %+v", got)
	}
	if got := f.files(); len(got) != 1 || got[0] != files[0] {
		t.Fatalf("files %v", got)
	}
}

// With segments smaller than a datanet, the first build writes several
// files, each within the bound, and appends merge only up to it.
func TestCorpusIndexFilesAreBounded(t *testing.T) {
	defer registry.SetPersistCorpusBytes(8 << 10)()
	defer registry.SetMaxSegmentBytes(32 << 10)()
	f := newCorpusFixture(t)
	f.check("first build")
	if n := len(f.files()); n < 3 {
		t.Fatalf("a datanet of %d records in %d files", len(f.contents), n)
	}
	for range 10 {
		f.add(40)
		f.check("after appends")
	}
	f.reopen()
	f.check("after a restart")
	last := f.filesRun()
	for _, p := range f.files() {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		// A file is its corpus plus tables; the corpus is at most 32 KiB.
		if st.Size() > 32<<10*6 {
			t.Fatalf("%s is %d bytes", p, st.Size())
		}
	}
	if len(f.contents)-int(last) > 60 {
		t.Fatalf("of %d versions files hold %d", len(f.contents), last)
	}
}

// Files merge from their arrays past the size a build may reach, up to the
// merged bound, and match as the records indexed at once.
func TestCorpusIndexFilesMergePastABuild(t *testing.T) {
	defer registry.SetPersistCorpusBytes(8 << 10)()
	defer registry.SetMaxSegmentBytes(32 << 10)()
	defer registry.SetMaxMergedBytes(128 << 10)()
	f := newCorpusFixture(t)
	f.check("first build")
	for range 16 {
		f.add(40)
		f.check("after appends")
	}
	f.filesRun()
	f.reopen()
	f.check("after a restart")
	largest := 0
	for _, p := range f.files() {
		seg, err := corpus.OpenSegment(p)
		if err != nil {
			t.Fatal(err)
		}
		if seg.Size() > 128<<10 {
			t.Fatalf("%s holds %d bytes", p, seg.Size())
		}
		largest = max(largest, seg.Size())
	}
	if largest <= 32<<10 {
		t.Fatalf("no file was merged past a build: the largest holds %d bytes", largest)
	}
}

// A datanet whose name in hex would be too long a file name keeps its
// files in a directory named by the name's hash.
func TestCorpusIndexFilesOfALongName(t *testing.T) {
	defer registry.SetPersistCorpusBytes(8 << 10)()
	name := strings.Repeat("a", 64) + "/" + strings.Repeat("b", 64)
	f := newCorpusFixtureIn(t, t.TempDir(), name)
	f.check("first build")
	if got := f.files(); len(got) != 1 {
		t.Fatalf("files %v", got)
	}
	f.add(60)
	f.check("after appends")
	f.reopen()
	f.check("after a restart")
}

// A disk the index cannot write to (here its directory is a file) costs
// memory, not answers: the first build and appends are indexed in memory
// and every match still agrees.
func TestCorpusIndexWithoutItsFiles(t *testing.T) {
	defer registry.SetPersistCorpusBytes(8 << 10)()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "corpus"), []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := newCorpusFixtureIn(t, dir, "facts")
	f.check("first build")
	for range 6 {
		f.add(30)
		f.check("after appends")
	}
	f.reopen()
	f.check("after a restart")
	if got := f.files(); len(got) != 0 {
		t.Fatalf("files %v", got)
	}
}

// Matches go on while appends are written to files and merged in the
// background, and agree with the records indexed at once afterwards.
func TestCorpusIndexFilesWhileMatching(t *testing.T) {
	defer registry.SetPersistCorpusBytes(4 << 10)()
	defer registry.SetMaxSegmentBytes(32 << 10)()
	f := newCorpusFixture(t)
	f.check("first build")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 300 {
			if _, err := f.r.CorpusMatch(context.Background(), f.name, "the sky is blue because light scatters", 3); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range 12 {
		f.add(25)
	}
	<-done
	f.check("after appends")
	f.filesRun()
	f.reopen()
	f.check("after a restart")
}

// A model build cut short by a crash leaves a directory beside its name;
// the registry deletes it when it opens.
func TestModelBuildsCutShortAreSwept(t *testing.T) {
	dir := t.TempDir()
	r := openDir(t, dir)
	left := filepath.Join(r.ModelFiles(), "abc.123.tmp")
	if err := os.MkdirAll(left, 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(left, "00000000.seg"), []byte("half"), 0o600)
	kept := filepath.Join(r.ModelFiles(), "abc")
	os.MkdirAll(kept, 0o700)
	r.Close()
	r = openDir(t, dir)
	defer r.Close()
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Fatalf("the build cut short is still there: %v", err)
	}
	if _, err := os.Stat(kept); err != nil {
		t.Fatalf("a model's directory was deleted: %v", err)
	}
}

// A span in more than MaxSpanRecords records names none, the same before
// and after its files merge; a match whose spans would meet more records
// than maxMatchRecords is refused with CodeRecordLimit, over files and over
// segments in memory, rather than gathering them; a match that ends its
// context gives up with the context's code. Under the bound it answers as
// before.
func TestCorpusMatchIsBounded(t *testing.T) {
	defer registry.SetPersistCorpusBytes(8 << 10)()
	f := newCorpusFixture(t)
	ctx := context.Background()
	want, err := f.r.CorpusMatch(ctx, f.name, "the zz1 sky zz2 blue", 1)
	if err != nil || len(want) == 0 {
		t.Fatalf("%+v %v", want, err)
	}
	named, common := 0, 0
	for _, s := range want {
		named += len(s.Records)
		if len(s.Records) > registry.MaxSpanRecords {
			t.Fatalf("a span names %d records", len(s.Records))
		}
		if len(s.Records) == 0 {
			common++
			named += registry.MaxSpanRecords + 1 // met, not named
		}
	}
	if len(f.files()) == 0 || common == 0 || len(want[0].Records) != 0 || named < 300 {
		t.Fatalf("%d files; %d spans common to many; the spans meet %d records, the first names %d", len(f.files()), common, named, len(want[0].Records))
	}
	f.add(5) // some records in memory too
	for _, limit := range []int{1, named / 2} {
		restore := registry.SetMaxMatchRecords(limit)
		_, err := f.r.CorpusMatch(ctx, f.name, "the zz1 sky zz2 blue", 1)
		restore()
		if abi.CodeOf(err) != abi.CodeRecordLimit {
			t.Fatalf("limit %d: %v", limit, err)
		}
	}
	restore := registry.SetMaxMatchRecords(named + 5*4)
	got, err := f.r.CorpusMatch(ctx, f.name, "the zz1 sky zz2 blue", 1)
	restore()
	if err != nil || len(got) != len(want) {
		t.Fatalf("under the bound: %d spans (%v), want %d", len(got), err, len(want))
	}
	f.filesRun()
	f.reopen()
	if again, err := f.r.CorpusMatch(ctx, f.name, "the zz1 sky zz2 blue", 1); err != nil || !reflect.DeepEqual(again, got) {
		t.Fatalf("after the files ran and the registry reopened: %+v (%v), want %+v", again, err, got)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := f.r.CorpusMatch(canceled, f.name, f.sentence(200), 1); abi.CodeOf(err) != abi.CodeCanceled {
		t.Fatalf("canceled: %v", err)
	}
}
