package registry_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/bm25"
	"github.com/tollgate-dev/tollgate/registry"
)

// checkSearch ranks queries in the registry and in one index over every
// record built at once in memory, which must agree exactly: the same
// records in the same order with the same scores.
func (f *corpusFixture) checkSearch(what string) {
	f.t.Helper()
	want := bm25.New()
	for i := range f.contents {
		want.Add(uint64(i+1), f.ids[i], f.contents[i])
	}
	for i := range 40 {
		query := f.sentence(1 + i%4)
		if i%5 == 0 {
			query += " n" + string(rune('1'+i%9))
		}
		limit := 1 + i%12
		got, err := f.r.Search(context.Background(), f.name, query, limit)
		if err != nil {
			f.t.Fatal(err)
		}
		ids, scores := want.Top(query, limit)
		var gotIDs []string
		var gotScores []float64
		for _, rec := range got {
			gotIDs, gotScores = append(gotIDs, rec.ID), append(gotScores, rec.Score)
		}
		if !slices.Equal(gotIDs, ids) || !slices.Equal(gotScores, scores) {
			f.t.Fatalf("%s: %q limit %d (parts %v):\nregistry %v %v\nmemory   %v %v", what, query, limit, registry.SearchIndexParts(f.r, f.name), gotIDs, gotScores, ids, scores)
		}
	}
}

func (f *corpusFixture) searchFiles() []string {
	f.t.Helper()
	registry.WaitSearchJobs(f.r, f.name)
	dir := filepath.Join(f.dir, "search", hex.EncodeToString([]byte(f.name)))
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, filepath.Join(dir, e.Name()))
	}
	return names
}

// partsOf returns the index's parts once no job writes them.
func (f *corpusFixture) partsOf() []string {
	registry.WaitSearchJobs(f.r, f.name)
	return registry.SearchIndexParts(f.r, f.name)
}

// A registry keeps a datanet's search index in files: a build writes
// whole files of bounded size, appends fill a tail in memory that is
// written and merged in the background, and a restart maps the files
// again rather than indexing their records. Every search agrees with one
// index built at once in memory.
func TestSearchIndexFiles(t *testing.T) {
	defer registry.SetSearchFiles(128, 512)()
	f := newCorpusFixture(t)
	f.add(1200) // 1,500 records: two files of 512 and a tail
	f.checkSearch("first build")
	if got, want := f.partsOf(), []string{"file 1-512", "file 513-1024", "memory 1025-1500"}; !slices.Equal(got, want) {
		t.Fatalf("parts %v, want %v", got, want)
	}
	// The tail is frozen at 128 records or more, ending a block; frozen
	// parts are written, and merged up to 512 records.
	f.add(700)
	f.checkSearch("after appends")
	parts := f.partsOf()
	var files []string
	for i, p := range parts {
		var kind string
		var first, last int
		fmt.Sscanf(p, "%s %d-%d", &kind, &first, &last)
		switch {
		case i == len(parts)-1:
			if kind != "memory" || last != 2200 {
				t.Fatalf("parts %v end in %q", parts, p)
			}
		case kind != "file" || last-first+1 > 512 || last%128 != 0:
			t.Fatalf("parts %v: %q is not a file of whole blocks up to 512 records", parts, p)
		default:
			files = append(files, p)
		}
	}
	if len(files) < 3 || len(files) > 11 {
		t.Fatalf("parts %v: the two files of the build, and 1-9 files of appends", parts)
	}
	if got := f.searchFiles(); len(got) != len(files) {
		t.Fatalf("files on disk %v, parts %v", got, parts)
	}
	f.reopen()
	f.checkSearch("after a restart")
	if got := f.partsOf(); !slices.Equal(got[:len(got)-1], files) {
		t.Fatalf("after a restart, parts %v, want the files %v and a tail", got, files)
	}
	// A read-only registry maps the files too, and writes none.
	onDisk := f.searchFiles()
	f.r.Close()
	var err error
	if f.r, err = registry.Open(f.dir, registry.Options{ReadOnly: true}); err != nil {
		t.Fatal(err)
	}
	f.checkSearch("read-only")
	if got := f.partsOf(); !slices.Equal(got[:len(got)-1], files) {
		t.Fatalf("read-only, parts %v, want the files %v and a tail", got, files)
	}
	if got := f.searchFiles(); !slices.Equal(got, onDisk) {
		t.Fatalf("read-only, files %v, were %v", got, onDisk)
	}
}

// A damaged file is found when the index is next built, deleted, and its
// versions indexed again from the records; a stray file and one a write
// cut short left are deleted.
func TestSearchIndexFilesDamaged(t *testing.T) {
	defer registry.SetSearchFiles(256, 512)()
	f := newCorpusFixture(t)
	f.add(1000)
	f.checkSearch("first build")
	files := f.searchFiles()
	if len(files) != 2 {
		t.Fatalf("files %v", files)
	}
	f.r.Close()
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x40
	os.WriteFile(files[0], b, 0o600)
	dir := filepath.Dir(files[0])
	os.WriteFile(filepath.Join(dir, "stray"), []byte("x"), 0o600)
	os.WriteFile(files[0]+".123.tmp", []byte("half a file"), 0o600)
	f.r = openDir(t, f.dir)
	f.checkSearch("after the damage")
	got := f.searchFiles()
	if len(got) != 2 || got[0] != files[0] || got[1] != files[1] {
		t.Fatalf("files %v, want %v rewritten", got, files)
	}
	if b2, _ := os.ReadFile(files[0]); slices.Equal(b2, b) {
		t.Fatal("the damaged file was kept")
	}
}

// A disk the index cannot write to (here its directory is a file) costs
// memory, not answers; and writing is tried again as the tail grows, not
// at every append.
func TestSearchIndexWithoutItsFiles(t *testing.T) {
	defer registry.SetSearchFiles(128, 512)()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "search"), []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := newCorpusFixtureIn(t, dir, "facts")
	f.r.Close()
	var logs lockedBuffer
	var err error
	if f.r, err = registry.Open(dir, registry.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))}); err != nil {
		t.Fatal(err)
	}
	f.add(900)
	f.checkSearch("first build")
	for range 3 {
		f.add(300)
		registry.WaitSearchJobs(f.r, f.name)
		f.checkSearch("after appends")
	}
	// 900 appends, one at a time, after a first failure at 128: tried at
	// 256, 512 and 1,024 records more.
	if n := strings.Count(logs.String(), "search index: writing a file"); n < 1 || n > 5 {
		t.Fatalf("%d failed writes logged for 900 appends:\n%s", n, logs.String())
	}
	for _, p := range f.partsOf() {
		if strings.HasPrefix(p, "file") {
			t.Fatalf("parts %v", f.partsOf())
		}
	}
	f.reopen()
	f.checkSearch("after a restart")
}

// Searches go on while appends are written to files and merged in the
// background.
func TestSearchIndexFilesWhileSearching(t *testing.T) {
	defer registry.SetSearchFiles(128, 256)()
	f := newCorpusFixture(t)
	f.checkSearch("first build")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 300 {
			if _, err := f.r.Search(context.Background(), f.name, "the sky is blue", 5); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range 12 {
		f.add(60)
	}
	<-done
	f.checkSearch("after appends")
	if parts := f.partsOf(); !strings.HasPrefix(parts[0], "file 1-") {
		t.Fatalf("parts %v", parts)
	}
	f.reopen()
	f.checkSearch("after a restart")
}

// A node killed (SIGKILL) while it writes its search files leaves a
// registry that opens, finds what it can use, and answers every search as
// one index built at once would.
func TestSearchIndexBuildKilled(t *testing.T) {
	if dir := os.Getenv("TOLLGATE_SEARCH_KILL_DIR"); dir != "" {
		// The child: build the index in files, slowly, until killed.
		defer registry.SetSearchFiles(128, 128)()
		r := openDir(t, dir)
		r.Search(context.Background(), "facts", "sky", 1)
		time.Sleep(time.Minute)
		return
	}
	dir := t.TempDir()
	f := newCorpusFixtureIn(t, dir, "facts")
	f.add(4000)
	f.r.Close()
	searchDir := filepath.Join(dir, "search", hex.EncodeToString([]byte("facts")))
	for attempt := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestSearchIndexBuildKilled$")
		cmd.Env = append(os.Environ(), "TOLLGATE_SEARCH_KILL_DIR="+dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill it once it has written some files, before it has all.
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			entries, _ := os.ReadDir(searchDir)
			if len(entries) >= 3+5*attempt {
				break
			}
			time.Sleep(time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if entries, _ := os.ReadDir(searchDir); len(entries) == 0 {
			t.Fatal("the child wrote no file before it was killed")
		}
	}
	f.r = openDir(t, dir)
	f.checkSearch("after the kills")
	for _, p := range f.searchFiles() {
		if strings.HasSuffix(p, ".tmp") {
			t.Fatalf("a file cut short is still there: %s", p)
		}
	}
}

// lockedBuffer is a log destination safe for a registry's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
