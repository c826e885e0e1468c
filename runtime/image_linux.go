package runtime

import (
	"fmt"
	"os"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/tollgate-dev/tollgate/internal/pagemap"
)

// image is a snapshot of one linear memory, held in an anonymous memory
// file. Instances map it privately over the start of their memory: they
// share its pages until they write one, when the kernel gives them a copy.
//
// A reset puts back the pages a call may have written. Which pages an
// instance holds its own copy of, the kernel says in /proc/self/pagemap
// (present, and not a page of the file); reset copies the snapshot's bytes
// over those and leaves them the instance's own, so the next call writes
// them without faulting. Dropping them instead (madvise) would make every
// call fault its pages in again, and each copy-on-write fault of a
// multithreaded process flushes the TLB of every core it runs on: under
// load that cost more than the plugins themselves.
type image struct {
	f    *os.File
	size int
	data []byte // the snapshot, mapped read-only and shared: the copy source
}

const pageSize = 4096

func newImage(b []byte) (*image, error) {
	// A reset reads the page map a page at a time: on a kernel of larger
	// pages it would miss pages a call wrote.
	if os.Getpagesize() != pageSize {
		return nil, fmt.Errorf("memory snapshots need %d-byte pages; the kernel's are %d", pageSize, os.Getpagesize())
	}
	if len(b)%pageSize != 0 {
		return nil, fmt.Errorf("memory of %d bytes is not whole pages", len(b))
	}
	fd, err := unix.MemfdCreate("tollgate-snapshot", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "tollgate-snapshot")
	if _, err := f.Write(b); err != nil {
		f.Close()
		return nil, fmt.Errorf("write snapshot: %w", err)
	}
	data, err := unix.Mmap(fd, 0, len(b), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("map snapshot: %w", err)
	}
	return &image{f: f, size: len(b), data: data}, nil
}

// mapOver replaces the first size bytes of mem, which must lie in a
// mapping of the process's own (reserve), with a private mapping of the
// image. Nothing may run on mem meanwhile.
func (im *image) mapOver(mem []byte) error {
	if len(mem) < im.size || im.size == 0 {
		return fmt.Errorf("memory is %d bytes, snapshot %d", len(mem), im.size)
	}
	p, err := unix.MmapPtr(int(im.f.Fd()), 0, unsafe.Pointer(&mem[0]), uintptr(im.size),
		unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_FIXED)
	if err != nil {
		return fmt.Errorf("map snapshot: %w", err)
	}
	if p != unsafe.Pointer(&mem[0]) {
		return fmt.Errorf("map snapshot: mapped at %p, not %p", p, &mem[0])
	}
	return nil
}

var entriesPool = sync.Pool{New: func() any { return new([]byte) }}

// reset puts the snapshot's bytes back in every page of mem[:size] that
// holds a copy of its own.
func (im *image) reset(mem []byte) error {
	if !eachOwnedRun(mem[:im.size], func(from, to int) {
		copy(mem[from:to], im.data[from:to])
	}) {
		return im.drop(mem)
	}
	return nil
}

// eachOwnedRun calls fn with each run [from, to) of b's pages that hold a
// copy of the process's own (written since mapped), reporting false if
// the page map cannot be read. b must start on a page.
func eachOwnedRun(b []byte, fn func(from, to int)) bool {
	if len(b) == 0 {
		return true
	}
	pages := (len(b) + pageSize - 1) / pageSize
	bp := entriesPool.Get().(*[]byte)
	defer entriesPool.Put(bp)
	if cap(*bp) < pages*pagemap.EntrySize {
		*bp = make([]byte, pages*pagemap.EntrySize)
	}
	entries := (*bp)[:pages*pagemap.EntrySize]
	if pagemap.Read(uintptr(unsafe.Pointer(&b[0])), entries) != nil {
		return false
	}
	for i := 0; i < pages; {
		if !own(entries, i) {
			i++
			continue
		}
		j := i + 1
		for j < pages && own(entries, j) {
			j++
		}
		fn(i*pageSize, min(j*pageSize, len(b)))
		i = j
	}
	return true
}

// own reports whether page i holds the instance's own copy.
func own(entries []byte, i int) bool {
	e := pagemap.At(entries, i)
	return e.Swapped() || (e.Present() && !e.File())
}

// drop is reset without the page map: the instance's copies are dropped,
// and its pages read the snapshot again.
func (im *image) drop(mem []byte) error {
	if err := unix.Madvise(mem[:im.size], unix.MADV_DONTNEED); err != nil {
		return fmt.Errorf("reset memory: %w", err)
	}
	return nil
}

func (im *image) close() {
	unix.Munmap(im.data)
	im.f.Close()
}

// maxKeptGrown bounds the pages grown beyond the snapshot that a reset
// clears and keeps; past it they are dropped, so an idle instance holds
// no more than this of what a call grew (a page only read maps the shared
// zero page, which the page map cannot tell from a written one).
const maxKeptGrown = 1 << 20

// clearGrown makes the pages of b, grown by a call beyond the snapshot,
// read as zero again: up to maxKeptGrown of those it wrote are cleared and
// stay the instance's, so the next call that grows into them does not
// fault; more, or with no page map, they are dropped.
func clearGrown(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	var runs [][2]int
	owned := 0
	if eachOwnedRun(b, func(from, to int) {
		runs = append(runs, [2]int{from, to})
		owned += to - from
	}) && owned <= maxKeptGrown {
		for _, r := range runs {
			clear(b[r[0]:r[1]])
		}
		return nil
	}
	if err := unix.Madvise(b, unix.MADV_DONTNEED); err != nil {
		return fmt.Errorf("drop grown pages: %w", err)
	}
	return nil
}
