package runtime

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// image is a snapshot of one linear memory, held in an anonymous memory
// file. Instances map it privately over the start of their memory: they
// share its pages until they write one, and a reset drops what they wrote
// (madvise), so the next read sees the snapshot again. Copy-on-write
// instance pooling in wasmtime works the same way.
type image struct {
	f    *os.File
	size int
}

func newImage(b []byte) (*image, error) {
	fd, err := unix.MemfdCreate("tollgate-snapshot", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "tollgate-snapshot")
	if _, err := f.Write(b); err != nil {
		f.Close()
		return nil, fmt.Errorf("write snapshot: %w", err)
	}
	return &image{f: f, size: len(b)}, nil
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

// reset drops the pages written since mem was mapped over the image.
func (im *image) reset(mem []byte) error {
	if err := unix.Madvise(mem[:im.size], unix.MADV_DONTNEED); err != nil {
		return fmt.Errorf("reset memory: %w", err)
	}
	return nil
}

func (im *image) close() { im.f.Close() }

// dropPages frees pages of a private anonymous mapping: they read as zero
// again.
func dropPages(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if err := unix.Madvise(b, unix.MADV_DONTNEED); err != nil {
		return fmt.Errorf("drop grown pages: %w", err)
	}
	return nil
}
