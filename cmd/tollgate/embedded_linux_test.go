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
	for _, b := range embeddedModules() {
		sums = append(sums, sha256.Sum256(b)) // reads every page
		if present(b) == 0 {
			t.Fatalf("a module of %d bytes has no page in memory after it was read", len(b))
		}
	}
	releaseEmbedded()
	// All are looked at before any is read again: a read may map back a
	// large folio of the file holding pages of the next.
	for i, b := range embeddedModules() {
		if n := present(b); n != 0 {
			t.Fatalf("module %d: %d pages still in memory after release", i, n)
		}
	}
	for i, b := range embeddedModules() {
		if got := sha256.Sum256(b); !bytes.Equal(got[:], sums[i][:]) {
			t.Fatalf("module %d reads other bytes after release", i)
		}
	}
}
