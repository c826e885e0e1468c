package pagemap

import (
	"encoding/binary"
	"os"
	"sync"
)

// Entry is one page's entry in the page map.
type Entry uint64

// Present reports whether the page is in memory.
func (e Entry) Present() bool { return e&(1<<63) != 0 }

// Swapped reports whether the page is in swap.
func (e Entry) Swapped() bool { return e&(1<<62) != 0 }

// File reports whether the page is a page of a file or of shared
// anonymous memory: not a copy the process holds of its own.
func (e Entry) File() bool { return e&(1<<61) != 0 }

// EntrySize is the bytes of one page's entry.
const EntrySize = 8

var file = sync.OnceValues(func() (*os.File, error) { return os.Open("/proc/self/pagemap") })

// Read fills entries with the entries of the len(entries)/EntrySize pages
// starting at the page that holds addr.
func Read(addr uintptr, entries []byte) error {
	f, err := file()
	if err != nil {
		return err
	}
	// ReadAt reports a read shorter than entries as an error.
	_, err = f.ReadAt(entries, int64(addr/uintptr(os.Getpagesize()))*EntrySize)
	return err
}

// At is the i-th entry of entries, as Read filled them.
func At(entries []byte, i int) Entry {
	return Entry(binary.LittleEndian.Uint64(entries[i*EntrySize:]))
}
