package main

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/tollgate-dev/tollgate/examples"
	"github.com/tollgate-dev/tollgate/plugins"
)

// embeddedModules is the wasm modules built into the executable: the
// built-in plugins and the example agents. A node reads them as it starts,
// to publish and seed them, and never again: the registry keeps its own
// copy.
func embeddedModules() [][]byte {
	mods := [][]byte{examples.QA, examples.RAG}
	for _, b := range plugins.All() {
		mods = append(mods, b.Wasm)
	}
	return mods
}

// releaseEmbedded gives the executable's pages of the embedded modules,
// some 13 MB, back to the kernel once the node has started: they would
// otherwise stay in an idle node's resident memory for good. Only the
// pages wholly inside a module are released, and they are pages of the
// executable's file that nothing writes, so a later read finds the same
// bytes, from the page cache or the file (MADV_DONTNEED; MADV_PAGEOUT
// would skip them for a node not running as the executable's owner).
func releaseEmbedded() {
	page := uintptr(os.Getpagesize())
	for _, b := range embeddedModules() {
		if len(b) == 0 {
			continue
		}
		p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
		start, end := (p+page-1)&^(page-1), (p+uintptr(len(b)))&^(page-1)
		if end > start {
			unix.Syscall(unix.SYS_MADVISE, start, end-start, unix.MADV_DONTNEED)
		}
	}
}
