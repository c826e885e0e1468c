package main

import (
	"bytes"
	"crypto/sha256"
	"os"
	"testing"
	"unsafe"

	"github.com/tollgate-dev/tollgate/internal/pagemap"
)

// The embedded modules' pages leave the process once released, and read
// back the same bytes.
func TestReleasedModulesLeaveMemoryAndReadTheSame(t *testing.T) {
	page := os.Getpagesize()
	present := func(b []byte) (n int) {
		p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
		first := (p + uintptr(page) - 1) &^ uintptr(page-1)
		pages := int((p + uintptr(len(b)) - first) / uintptr(page))
		if pages <= 0 {
			return 0
		}
		entries := make([]byte, pages*pagemap.EntrySize)
		if err := pagemap.Read(first, entries); err != nil {
			t.Skipf("no page map: %v", err)
		}
		for i := range pages {
			if pagemap.At(entries, i).Present() {
				n++
			}
		}
		return n
	}
	var sums [][32]byte
	before := 0
	for _, b := range embeddedModules() {
		sums = append(sums, sha256.Sum256(b)) // reads every page
		before += present(b)
	}
	if before < 1000 {
		t.Fatalf("the modules have %d pages in memory after they were read", before)
	}
	releaseEmbedded()
	// All are looked at before any is read again: a read may map back a
	// large folio of the file holding pages of the next. A goroutine of
	// another test reading the executable's data beside a module may do
	// so too, so a few pages are allowed back.
	after := 0
	for _, b := range embeddedModules() {
		after += present(b)
	}
	if after > before/10 {
		t.Fatalf("%d of %d pages still in memory after release", after, before)
	}
	for i, b := range embeddedModules() {
		if got := sha256.Sum256(b); !bytes.Equal(got[:], sums[i][:]) {
			t.Fatalf("module %d reads other bytes after release", i)
		}
	}
}
