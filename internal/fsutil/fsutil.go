// Package fsutil writes small files so that a crash leaves either the old
// file or the whole new one, synced to disk, and maps files to be read in
// place.
package fsutil

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"golang.org/x/sys/unix"
)

// WriteFileAtomic writes b to path, replacing any file there: the bytes go
// to a temporary file, which is synced, renamed over path, and the rename
// synced in its directory.
func WriteFileAtomic(path string, b []byte, mode os.FileMode) error {
	tmp, err := writeTemp(path, b, mode)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

// CreateFileAtomic is WriteFileAtomic that never replaces a file: if path
// exists it fails with an error satisfying errors.Is(err, os.ErrExist).
func CreateFileAtomic(path string, b []byte, mode os.FileMode) error {
	tmp, err := writeTemp(path, b, mode)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func writeTemp(path string, b []byte, mode os.FileMode) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	fail := func(err error) (string, error) {
		f.Close()
		os.Remove(tmp)
		return "", err
	}
	if err := f.Chmod(mode); err != nil {
		return fail(err)
	}
	if _, err := f.Write(b); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// SyncDir syncs dir, so that the renames and creations in it are on disk.
func SyncDir(dir string) error { return syncDir(dir) }

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// MapReadOnly maps the whole file at path, shared and read-only, as index
// files are read in place; an empty file maps to nil. An error says the
// file could not be opened or mapped (not found, no descriptors, no
// address space), never what it holds.
func MapReadOnly(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() == 0 {
		return nil, nil
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", path, err)
	}
	return m, nil
}

// ForLookups readies m, all or part of a shared read-only file mapping
// just read whole (checked, or merged from), to be read at random: its
// pages leave the process, staying in the page cache (a read maps them
// again from there, or reads them from the file), and a read that misses
// the page cache reads the page it needs, without the read-around the
// kernel does for a mapping by default (up to the device's read_ahead_kb,
// which on some machines is megabytes). A lookup in an index touches a
// few scattered pages; with read-around, each miss read megabytes, and in
// a node with less memory than its indexes the pages read around evicted
// the ones the next lookup needed. Nothing a reader sees changes. Never
// pass it other memory: MADV_DONTNEED zeroes anonymous pages.
func ForLookups(m []byte) {
	advise(m, unix.MADV_DONTNEED)
	advise(m, unix.MADV_RANDOM)
}

// ForScans readies m (all or part of a file mapping) to be read in order,
// as a merge reads it whole, with the kernel's read-ahead; ForLookups
// undoes it.
func ForScans(m []byte) {
	advise(m, unix.MADV_SEQUENTIAL)
}

// advise gives the kernel advice on the pages of m, which is all or part
// of a read-only file mapping: from the page it starts in.
func advise(m []byte, advice int) {
	if len(m) == 0 {
		return
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(m)))
	start := p &^ uintptr(os.Getpagesize()-1)
	unix.Syscall(unix.SYS_MADVISE, start, p+uintptr(len(m))-start, uintptr(advice))
}

// WriteHashed writes the file at path whole or not at all, as index files
// are written: body writes everything after the first headerBytes bytes
// to w, which also hashes it (xxhash64); header then returns the header
// for that hash, headerBytes long. The file is written beside path,
// synced, renamed over it, and the rename synced in its directory.
func WriteHashed(path string, headerBytes int, body func(w *bufio.Writer) error, header func(bodySum uint64) []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Seek(int64(headerBytes), io.SeekStart); err != nil {
		return err
	}
	sum := xxhash.New()
	w := bufio.NewWriterSize(io.MultiWriter(tmp, sum), 1<<20)
	if err := body(w); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	h := header(sum.Sum64())
	if len(h) != headerBytes {
		return fmt.Errorf("fsutil: a header of %d bytes, want %d", len(h), headerBytes)
	}
	if _, err := tmp.WriteAt(h, 0); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// RealDir is dir as the kernel names the files in it (in /proc/self/maps,
// say): absolute, with no symbolic links.
func RealDir(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	return filepath.Clean(dir)
}
