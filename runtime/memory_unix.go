//go:build linux || darwin || freebsd

package runtime

import "syscall"

// reserve maps n bytes of private, zero, not yet backed memory; nil if the
// platform refuses (the caller then allocates on the Go heap).
func reserve(n uint64) []byte {
	if n == 0 || n > 1<<36 {
		return nil
	}
	b, err := syscall.Mmap(-1, 0, int(n), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|mapNoReserve)
	if err != nil {
		return nil
	}
	return b
}

// release unmaps a reservation.
func release(b []byte) { syscall.Munmap(b) }
