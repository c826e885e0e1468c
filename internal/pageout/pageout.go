// Package pageout gives back to the kernel the pages of files that a
// library keeps mapped but seldom reads again, such as a Badger database's
// rotated value-log files. A page of a file mapping counts in the process's
// resident set from the moment it is written or read until the kernel
// reclaims it, which on a machine with free memory is never: a node
// writing receipts for an hour would otherwise show every byte of its value
// log as resident memory.
//
// It also tells the kernel how such files are read (Access): at random, a
// page a miss, or in order, with read-ahead.
//
// The advice is MADV_PAGEOUT, MADV_RANDOM or MADV_NORMAL, none of which
// changes what memory holds: a page read again is read back from the page
// cache or the file. So it is safe even if a mapping is replaced between
// reading /proc/self/maps and advising it (an anonymous mapping without
// swap is left as it is by MADV_PAGEOUT; the others are hints).
package pageout

// Mapping is one mapping of a file in the process's address space.
type Mapping struct {
	Start, End uintptr
	Path       string
}
