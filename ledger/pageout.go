package ledger

import (
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/internal/pageout"
)

// PageoutInterval is how often a writable ledger gives the kernel back the
// pages of its value-log files that Badger no longer writes.
//
// Badger keeps every value-log file mapped, and a page it wrote stays in
// the process's resident set until the kernel reclaims it, which on a
// machine with free memory it never does: under load a node's resident
// memory grew by every receipt it wrote, 64 MB a file. Only the newest
// file is written; the others are read when a receipt is looked up, and
// such a read finds the page in the page cache or on disk.
const PageoutInterval = 10 * time.Second

// pageoutLoop runs pageoutOldLogs every interval until the ledger closes.
// A failure is logged once: a kernel without MADV_PAGEOUT refuses every
// time, and the books are never at stake.
func (l *Ledger) pageoutLoop(dir string, interval time.Duration) {
	defer close(l.pagedOut)
	t := time.NewTicker(interval)
	defer t.Stop()
	warned := false
	for {
		select {
		case <-l.quit:
			return
		case <-t.C:
			if _, err := pageoutOldLogs(dir); err != nil && !warned {
				l.logger.Warn("ledger: paging out value logs", "err", err)
				warned = true
			}
		}
	}
}

// pageoutOldLogs advises the kernel to reclaim the mapped pages of every
// value-log file in dir but the newest, returning the bytes advised.
func pageoutOldLogs(dir string) (int64, error) {
	maps, err := pageout.Mappings()
	if err != nil {
		return 0, err
	}
	newest := -1
	for _, m := range maps {
		if fid, ok := valueLogID(dir, m.Path); ok && fid > newest {
			newest = fid
		}
	}
	return pageout.Advise(maps, func(path string) bool {
		fid, ok := valueLogID(dir, path)
		return ok && fid < newest
	})
}

// valueLogID is the number of the value-log file at path, if path is one
// of dir's (Badger names them 000001.vlog, 000002.vlog, …).
func valueLogID(dir, path string) (int, bool) {
	if filepath.Dir(path) != dir {
		return 0, false
	}
	name, ok := strings.CutSuffix(filepath.Base(path), ".vlog")
	if !ok {
		return 0, false
	}
	fid, err := strconv.Atoi(name)
	return fid, err == nil && fid >= 0
}
