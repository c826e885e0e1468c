package ledger

import (
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/internal/pageout"
)

// PageoutInterval is how often a writable ledger gives the kernel back the
// pages of its value-log files.
//
// Badger keeps every value-log file mapped, and a page it wrote stays in
// the process's resident set until the kernel reclaims it, which on a
// machine with free memory it never does: under load a node's resident
// memory grew by every receipt it wrote, 64 MB a file. Only the newest
// file is written, from its start; it keeps its last KeepWritten bytes,
// where the next writes land and the likeliest reads fall. The rest, and
// every older file, is read when a receipt is looked up, and such a read
// finds the page in the page cache or on disk. At a few megabytes of
// receipts a second, a pass every two seconds bounds what the value log
// holds resident to about ten.
const PageoutInterval = 2 * time.Second

// KeepWritten is how much of the value-log file being written, before its
// last written page, a pageout leaves resident.
const KeepWritten = 1 << 20

// pageoutLoop runs pageoutLogs every interval until the ledger closes.
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
			if _, err := pageoutLogs(dir); err != nil && !warned {
				l.logger.Warn("ledger: paging out value logs", "err", err)
				warned = true
			}
		}
	}
}

// pageoutLogs advises the kernel to reclaim the mapped pages of every
// value-log file in dir but the newest, and of the newest those more than
// KeepWritten before its last written page, returning the bytes advised.
func pageoutLogs(dir string) (int64, error) {
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
	old, err := pageout.Advise(maps, func(path string) bool {
		fid, ok := valueLogID(dir, path)
		return ok && fid < newest
	})
	if err != nil {
		return old, err
	}
	written, err := pageout.Behind(maps, KeepWritten, func(path string) bool {
		fid, ok := valueLogID(dir, path)
		return ok && fid == newest
	})
	return old + written, err
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
