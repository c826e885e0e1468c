package registry_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/pageout"
	"github.com/tollgate-dev/tollgate/registry"
)

// TestStoreFilesAreReadAtRandom: an on-disk registry has the kernel read
// its Badger files a page a miss (a search reads scattered records), but
// with read-ahead while a build reads records in order; and advises files
// mapped since (here: one whose advice was reset) within the interval.
func TestStoreFilesAreReadAtRandom(t *testing.T) {
	defer registry.SetStoreAdviceInterval(20 * time.Millisecond)()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := openDir(t, dir)
	defer r.Close()
	isStore := func(path string) bool { return filepath.Dir(path) == dir && strings.HasSuffix(path, ".vlog") }
	random := func() (all bool) {
		t.Helper()
		rr, err := pageout.RandomReads()
		if err != nil || rr == nil {
			t.Skip("no /proc/self/smaps")
		}
		n := 0
		for path, r := range rr {
			if isStore(path) {
				n++
				if !r {
					return false
				}
			}
		}
		if n == 0 {
			t.Fatal("no value-log file mapped")
		}
		return true
	}
	if !random() {
		t.Fatal("value log not read at random after open")
	}
	done := registry.ScanStore(r)
	inner := registry.ScanStore(r)
	inner()
	if random() {
		t.Fatal("value log read at random while a build reads in order")
	}
	done()
	done() // once only: the first build's end counts once
	if !random() {
		t.Fatal("value log not read at random after the builds")
	}
	registry.ResetStoreAdvice(r, func() {
		if random() {
			t.Fatal("advice not reset")
		}
	})
	deadline := time.Now().Add(5 * time.Second)
	for !random() {
		if time.Now().After(deadline) {
			t.Fatal("a file mapped since was not advised again")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
