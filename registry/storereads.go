package registry

import (
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/internal/fsutil"
	"github.com/tollgate-dev/tollgate/internal/pageout"
)

// storeAdviceInterval is how often an on-disk registry tells the kernel
// again how its store's files are read, so that files Badger opened since
// (a new value-log file, a compacted table) are read the same way.
var storeAdviceInterval = 10 * time.Second

// storeReads tells the kernel how the Badger files of an on-disk registry
// are read. Badger keeps its value-log files and tables mapped, and a
// miss in a mapping reads around the page by default: up to the device's
// read_ahead_kb, which on some machines is megabytes. A search reads its
// results' records by id, a few pages scattered over gigabytes of value
// log; with read-around each read megabytes, and a node with less memory
// than its datanets spent its time reading pages it evicted before use.
// So the files are read at random, a page a miss, except while an index
// build reads records in version order (in value-log order too), which
// read-ahead serves.
type storeReads struct {
	dir     string // the store's directory, symlinks resolved
	mu      sync.Mutex
	scans   int // builds reading records in order
	stopped chan struct{}
}

// newStoreReads advises the files of the Badger store in dir, and again
// every storeAdviceInterval until done is closed.
func newStoreReads(dir string, done <-chan struct{}) *storeReads {
	s := &storeReads{dir: fsutil.RealDir(dir), stopped: make(chan struct{})}
	s.advise()
	go func() {
		defer close(s.stopped)
		t := time.NewTicker(storeAdviceInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				s.advise()
			}
		}
	}()
	return s
}

// advise tells the kernel how the store's files are read now.
func (s *storeReads) advise() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.adviseLocked()
}

func (s *storeReads) adviseLocked() {
	pageout.Access(s.scans == 0, func(path string) bool { return s.valueLog(path) || s.table(path) })
}

// valueLog and table report whether path is one of the store's value-log
// files or tables.
func (s *storeReads) valueLog(path string) bool {
	return filepath.Dir(path) == s.dir && strings.HasSuffix(path, ".vlog")
}

func (s *storeReads) table(path string) bool {
	return filepath.Dir(path) == s.dir && strings.HasSuffix(path, ".sst")
}

// pageOut advises the kernel to reclaim the pages of the store's
// value-log files that a build read through Badger's mappings (see
// pageout: the advice never changes what memory holds, whoever maps the
// range by then): records read once to index them would otherwise count
// as the node's memory until the kernel wants it. They leave the page
// cache too, so the first searches after a build read their records from
// disk.
func (s *storeReads) pageOut() {
	if s != nil {
		pageout.Files(s.valueLog)
	}
}

// scan has the store's files read ahead until the returned func is
// called: a build reads records in order meanwhile.
func (s *storeReads) scan() (done func()) {
	if s == nil {
		return func() {}
	}
	s.mu.Lock()
	s.scans++
	if s.scans == 1 {
		s.adviseLocked()
	}
	s.mu.Unlock()
	return sync.OnceFunc(func() {
		s.mu.Lock()
		s.scans--
		if s.scans == 0 {
			s.adviseLocked()
		}
		s.mu.Unlock()
	})
}
