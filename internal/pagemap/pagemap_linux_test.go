package pagemap

import (
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestReadTellsOwnPagesFromFilePagesAndAbsentOnes(t *testing.T) {
	page := os.Getpagesize()
	anon, err := unix.Mmap(-1, 0, 3*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(anon)
	anon[page] = 1 // the middle page only

	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, make([]byte, page), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	shared, err := unix.Mmap(int(f.Fd()), 0, page, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(shared)
	sink = shared[0] // map it in

	entries := make([]byte, 3*EntrySize)
	if err := Read(uintptr(unsafe.Pointer(&anon[0])), entries); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{false, true, false} {
		if e := At(entries, i); e.Present() != want || e.File() || e.Swapped() {
			t.Errorf("anonymous page %d: present %v file %v swapped %v, want present %v only", i, e.Present(), e.File(), e.Swapped(), want)
		}
	}
	one := make([]byte, EntrySize)
	if err := Read(uintptr(unsafe.Pointer(&shared[0])), one); err != nil {
		t.Fatal(err)
	}
	if e := At(one, 0); !e.Present() || !e.File() {
		t.Errorf("a read page of a file: present %v file %v, want both", e.Present(), e.File())
	}
}

var sink byte
