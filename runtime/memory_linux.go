package runtime

import "syscall"

// mapNoReserve: a reservation is address space, not committed memory.
const mapNoReserve = syscall.MAP_NORESERVE
