package pageout

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// resident is the resident kilobytes of the process's mappings of path.
func resident(t *testing.T, path string) int {
	t.Helper()
	kb, err := Resident()
	if err != nil {
		t.Fatal(err)
	}
	return int(kb[path])
}

// mapWritten maps a new file of size bytes in dir, shared, writes every
// page with a pattern, and syncs it, as Badger writes a value log.
func mapWritten(t *testing.T, dir, name string, size int, seed byte) (string, []byte) {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(int64(size)); err != nil {
		t.Fatal(err)
	}
	b, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(b) })
	for i := range b {
		b[i] = seed + byte(i/4096)
	}
	if err := unix.Msync(b, unix.MS_SYNC); err != nil {
		t.Fatal(err)
	}
	return path, b
}

// pageableDir is a temporary directory by its real path (the name the
// kernel gives its files' mappings), skipping the test where its pages
// cannot be paged out.
func pageableDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err == nil && fs.Type == unix.TMPFS_MAGIC {
		t.Skip("the temporary directory is on tmpfs, whose pages the kernel cannot page out without swap")
	}
	return dir
}

func TestFilesReclaimsOnlyTheMatchingMappings(t *testing.T) {
	dir := pageableDir(t)
	const size = 8 << 20
	old, oldMem := mapWritten(t, dir, "000001.vlog", size, 1)
	cur, _ := mapWritten(t, dir, "000002.vlog", size, 2)
	if r := resident(t, old); r < size/1024/2 {
		t.Fatalf("the written mapping holds %d KB resident, want about %d: the test measures nothing", r, size/1024)
	}
	n, err := Files(func(p string) bool { return p == old })
	if errors.Is(err, unix.EINVAL) {
		t.Skip("this kernel takes no MADV_PAGEOUT (Linux 5.4 or later)")
	}
	if err != nil {
		t.Fatal(err)
	}
	if n != size {
		t.Fatalf("advised %d bytes, want %d", n, size)
	}
	if r := resident(t, old); r > size/1024/8 {
		t.Fatalf("after pageout the mapping still holds %d KB resident", r)
	}
	if r := resident(t, cur); r < size/1024/2 {
		t.Fatalf("the mapping not matched lost its pages: %d KB resident", r)
	}
	// Nothing the mapping holds changed: the pages read back from the file.
	for i := 0; i < size; i += 4096 {
		if want := 1 + byte(i/4096); oldMem[i] != want || oldMem[i+4095] != want {
			t.Fatalf("page %d reads %d, want %d", i/4096, oldMem[i], want)
		}
	}
}

func TestMappingsListsFilesWithTheirRanges(t *testing.T) {
	for line, want := range map[string]Mapping{
		"7f0000000000-7f0000100000 rw-s 00000000 fd:01 1234                       /d/a  b.vlog": {0x7f0000000000, 0x7f0000100000, "/d/a  b.vlog"},
		"7f0000000000-7f0000001000 r--s 00000000 fd:01 1234   /d/ x.vlog (deleted)":             {0x7f0000000000, 0x7f0000001000, "/d/ x.vlog (deleted)"},
		"7f0000000000-7f0000001000 rw-p 00000000 00:00 0                          [heap]":       {},
		"7f0000000000-7f0000001000 rw-p 00000000 00:00 0":                                       {},
		"garbage": {},
	} {
		got, ok := parseMapping(line)
		if ok != (want != Mapping{}) || got != want {
			t.Errorf("parseMapping(%q) = %+v, %v; want %+v", line, got, ok, want)
		}
	}

	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	path, _ := mapWritten(t, dir, "  with  spaces\t.vlog ", 1<<20, 0)
	maps, err := Mappings()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range maps {
		if m.Path == path {
			if m.End-m.Start != 1<<20 {
				t.Fatalf("mapping of %d bytes, want %d", m.End-m.Start, 1<<20)
			}
			return
		}
	}
	t.Fatalf("no mapping of %q among %d", path, len(maps))
}

// A mapping unmapped between reading the map and advising it (Badger
// deleting a value log meanwhile) is skipped, not an error that would stop
// every later pageout.
func TestAMappingGoneSinceTheMapWasReadIsSkipped(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "000001.vlog")
	if err := os.WriteFile(path, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mem, err := unix.Mmap(int(f.Fd()), 0, 1<<20, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	maps, err := Mappings()
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Munmap(mem); err != nil {
		t.Fatal(err)
	}
	_, err = Advise(maps, func(p string) bool { return p == path })
	if errors.Is(err, unix.EINVAL) {
		t.Skip("this kernel takes no MADV_PAGEOUT (Linux 5.4 or later)")
	}
	if err != nil {
		t.Fatalf("advising a mapping gone since: %v", err)
	}
	found := false
	for _, m := range maps {
		found = found || m.Path == path
	}
	if !found {
		t.Fatal("the mapping was not in the map read before: the test measures nothing")
	}
}

// TestAccessAdvisesOnlyTheMatchingMappings: Access sets and clears the
// random-read advice (smaps' "rr") on the files it matches, leaves the
// others' as they were, and keeps what the pages hold.
func TestAccessAdvisesOnlyTheMatchingMappings(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a, ab := mapWritten(t, dir, "a", 8*4096, 1)
	b, _ := mapWritten(t, dir, "b", 8*4096, 2)
	if ReadAtRandom(a) == nil || ReadAtRandom(filepath.Join(dir, "none")) == nil {
		t.Fatal("a new mapping, or none, reported as read at random")
	}
	if _, err := Access(true, func(p string) bool { return p == a }); err != nil {
		t.Fatal(err)
	}
	if err := ReadAtRandom(a); err != nil {
		t.Fatal(err)
	}
	if ReadAtRandom(b) == nil {
		t.Fatal("a file not matched was advised")
	}
	if _, err := Access(false, func(p string) bool { return p == a }); err != nil {
		t.Fatal(err)
	}
	if ReadAtRandom(a) == nil {
		t.Fatal("the advice was not cleared")
	}
	if ab[5*4096] != 1+5 {
		t.Fatalf("page 5 holds %d after the advice", ab[5*4096])
	}
}

// A log's mapping written from its start gives back what lies behind the
// bytes it keeps, keeps those and the pages past its head, and reads back
// unchanged.
func TestBehindKeepsALogsHead(t *testing.T) {
	dir := pageableDir(t)
	const written, mapped, keep = 8 << 20, 32 << 20, 1 << 20
	// A log file as Badger makes one: longer than what it holds, mapped
	// whole, written from its start, synced.
	path := filepath.Join(dir, "000001.vlog")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(mapped); err != nil {
		t.Fatal(err)
	}
	log, err := unix.Mmap(int(f.Fd()), 0, mapped, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(log)
	for i := range written {
		log[i] = 1 + byte(i/4096)
	}
	if err := unix.Msync(log, unix.MS_SYNC); err != nil {
		t.Fatal(err)
	}
	kb, err := Resident()
	if err != nil {
		t.Fatal(err)
	}
	before := int(kb[path])
	if before < written/1024 {
		t.Fatalf("the mapping holds %d KB resident, want about %d: the test measures nothing", before, written/1024)
	}
	maps, err := Mappings()
	if err != nil {
		t.Fatal(err)
	}
	n, err := Behind(maps, keep, func(p string) bool { return p == path })
	if errors.Is(err, unix.EINVAL) {
		t.Skip("this kernel takes no MADV_PAGEOUT (Linux 5.4 or later)")
	}
	if err != nil {
		t.Fatal(err)
	}
	// The mapping is advised up to keep bytes before its last page in
	// the page cache, the last written.
	if n != written-keep {
		t.Fatalf("advised %d bytes, want %d", n, written-keep)
	}
	kb, err = Resident()
	if err != nil {
		t.Fatal(err)
	}
	if after := int(kb[path]); after > keep/1024+256 || after < keep/1024 {
		t.Fatalf("after the advice the mapping holds %d KB resident (%d before), want about %d", after, before, keep/1024)
	}
	var vec [1]byte
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&log[written-4096])), 4096, uintptr(unsafe.Pointer(&vec[0]))); errno != 0 || vec[0]&1 == 0 {
		t.Fatalf("the log's last written page left the page cache (%v)", errno)
	}
	for i := 0; i < written; i += 4096 {
		if want := 1 + byte(i/4096); log[i] != want || log[i+4095] != want {
			t.Fatalf("page %d reads %d and %d, want %d", i/4096, log[i], log[i+4095], want)
		}
	}
	if n, err := Behind(maps, keep, func(string) bool { return false }); n != 0 || err != nil {
		t.Fatalf("no mapping matched, yet %d bytes advised (%v)", n, err)
	}
}
