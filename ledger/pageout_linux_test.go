package ledger

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/fsutil"
	"github.com/tollgate-dev/tollgate/internal/kv"

	"golang.org/x/sys/unix"

	"github.com/tollgate-dev/tollgate/internal/pageout"
)

// residentLogs is the resident kilobytes of each value-log file in dir
// the process maps, by file number.
func residentLogs(t *testing.T, dir string) map[int]int {
	t.Helper()
	kb, err := pageout.Resident()
	if err != nil {
		t.Skip("no /proc/self/smaps here")
	}
	out := map[int]int{}
	for path, n := range kb {
		if fid, ok := valueLogID(dir, path); ok {
			out[fid] += int(n)
		}
	}
	return out
}

// pageableDir is a temporary directory by its real path, skipping the test
// where its pages cannot be paged out.
func pageableDir(t *testing.T) string {
	t.Helper()
	dir := fsutil.RealDir(t.TempDir())
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err == nil && fs.Type == unix.TMPFS_MAGIC {
		t.Skip("the temporary directory is on tmpfs, whose pages the kernel cannot page out without swap")
	}
	return dir
}

// writeValues commits n random 64 KB values, each synced, and returns them
// by key.
func writeValues(t *testing.T, l *Ledger, n int) map[string][]byte {
	t.Helper()
	values := map[string][]byte{}
	for i := range n {
		key := fmt.Sprintf("test/value/%03d", i)
		v := make([]byte, 64<<10)
		rand.Read(v)
		values[key] = v
		if err := l.write(context.Background(), func(txn kv.Txn) error { return txn.Set([]byte(key), v) }); err != nil {
			t.Fatal(err)
		}
	}
	return values
}

// Value-log files Badger no longer writes are paged out; the one it writes
// keeps its pages (files of 1 MB here: less than KeepWritten), and every
// value still reads back.
func TestOldValueLogsArePagedOut(t *testing.T) {
	onePass(t)
	dir := pageableDir(t)
	// The loop is off: the test advises when it has measured.
	l, err := Open(dir, Options{valueLogFileSize: 1 << 20, pageoutEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	values := writeValues(t, l, 60)
	before := residentLogs(t, dir)
	newest, oldKB := -1, 0
	for fid := range before {
		newest = max(newest, fid)
	}
	for fid, kb := range before {
		if fid != newest {
			oldKB += kb
		}
	}
	if len(before) < 3 || oldKB < 1024 {
		t.Fatalf("value logs resident before: %v (KB by file): the test needs at least three files and a megabyte of old pages", before)
	}
	n, err := pageoutLogs(dir)
	if errors.Is(err, unix.EINVAL) {
		t.Skip("this kernel takes no MADV_PAGEOUT (Linux 5.4 or later)")
	}
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no value log was advised")
	}
	after := residentLogs(t, dir)
	left := 0
	for fid, kb := range after {
		if fid != newest {
			left += kb
		}
	}
	if left > oldKB/8 {
		t.Fatalf("old value logs hold %d KB resident after pageout (%d before): %v", left, oldKB, after)
	}
	if after[newest] < before[newest]/2 {
		t.Fatalf("the value log being written lost its pages: %d KB, %d before", after[newest], before[newest])
	}
	for key, want := range values {
		err := l.db.View(func(txn kv.Txn) error {
			item, err := txn.Get([]byte(key))
			if err != nil {
				return err
			}
			got, err := bytes.Clone(item), error(nil)
			if err == nil && !bytes.Equal(got, want) {
				err = fmt.Errorf("%s reads back different bytes", key)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// The value-log file being written gives back all but its newest
// KeepWritten bytes; what it gave back reads the same, and writes go on.
func TestTheValueLogBeingWrittenKeepsItsNewestBytes(t *testing.T) {
	onePass(t)
	dir := pageableDir(t)
	l, err := Open(dir, Options{valueLogFileSize: 64 << 20, pageoutEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	values := writeValues(t, l, 64) // 4 MB, all in one file
	before := residentLogs(t, dir)
	if len(before) != 1 {
		t.Fatalf("value logs resident: %v (KB by file), want one file", before)
	}
	var newest, kb int
	for fid, n := range before {
		newest, kb = fid, n
	}
	if kb < 3<<10 {
		t.Fatalf("the value log holds %d KB resident: the test needs its 4 MB", kb)
	}
	n, err := pageoutLogs(dir)
	if errors.Is(err, unix.EINVAL) {
		t.Skip("this kernel takes no MADV_PAGEOUT (Linux 5.4 or later)")
	}
	if err != nil {
		t.Fatal(err)
	}
	if n < 2<<20 {
		t.Fatalf("advised %d bytes of a value log of %d KB", n, kb)
	}
	if after := residentLogs(t, dir)[newest]; after > KeepWritten/1024+256 || after < KeepWritten/1024/2 {
		t.Fatalf("the value log being written holds %d KB resident after pageout (%d before), want about %d",
			after, kb, KeepWritten/1024)
	}
	for key, v := range writeValues(t, l, 8) { // rewrites the first eight
		values[key] = v
	}
	for key, want := range values {
		err := l.db.View(func(txn kv.Txn) error {
			got, err := txn.Get([]byte(key))
			if err == nil && !bytes.Equal(got, want) {
				err = fmt.Errorf("%s reads back different bytes", key)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// The loop a ledger runs finds its value logs when it was opened by a
// relative path through a symbolic link, as the kernel names them by the
// real path.
func TestTheLedgerPagesOutOnItsOwn(t *testing.T) {
	onePass(t)
	real := pageableDir(t)
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Dir(link))
	l, err := Open("link", Options{valueLogFileSize: 1 << 20, pageoutEvery: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	writeValues(t, l, 60)
	newest := -1
	for fid := range residentLogs(t, real) {
		newest = max(newest, fid)
	}
	if newest < 3 {
		t.Fatalf("value logs up to %d: the test needs at least three files", newest)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := 0
		for fid, kb := range residentLogs(t, real) {
			if fid < newest {
				left += kb
			}
		}
		if left < 256 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("old value logs still hold %d KB resident 10 s on", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}
