package runtime

import (
	"github.com/tetratelabs/wazero/experimental"
)

// memoryBudget caps the linear memory of all the modules of one instance
// together (the plugin's own module and the Extism kernel that holds its
// input, output and vars). wazero's per-module page limit alone would let a
// plugin use that limit once per module.
type memoryBudget struct {
	limit    uint64 // bytes
	used     uint64
	exceeded bool // a grow was refused
}

// allocator returns a wazero MemoryAllocator drawing on the budget. An
// instance's modules are instantiated and run on one goroutine at a time,
// so the budget needs no lock.
func (b *memoryBudget) allocator() experimental.MemoryAllocator {
	return experimental.MemoryAllocatorFunc(func(capacity, max uint64) experimental.LinearMemory {
		return &budgetMemory{budget: b, max: max}
	})
}

type budgetMemory struct {
	budget *memoryBudget
	buf    []byte
	max    uint64
	mapped []byte // the reservation buf lives in, when the platform maps memory
}

func (m *budgetMemory) Reallocate(size uint64) []byte {
	old := uint64(len(m.buf))
	if size <= old {
		return m.buf[:size]
	}
	if size > m.max || m.budget.used-old+size > m.budget.limit {
		m.budget.exceeded = true
		return nil
	}
	m.budget.used += size - old
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size] // never written beyond len, so still zero
		return m.buf
	}
	// Reserve the most this memory may reach, once, as pages the kernel
	// zeroes on first touch: an instance pays for the pages it uses, not
	// for clearing all of its memory, and the collector never scans it.
	// This is safe because nothing frees an instance's memory while its
	// code runs: plugins stop themselves (fuel), and an instance is closed
	// only once its call has returned.
	if m.buf == nil {
		if r := reserve(min(m.max, m.budget.limit)); r != nil {
			m.mapped = r
			m.buf = r[:size:len(r)]
			return m.buf
		}
	}
	// Grow geometrically to keep memory.grow amortised O(1), within max
	// and within what the budget has left.
	c := max(size, 2*uint64(cap(m.buf)))
	c = min(c, m.max, size+m.budget.limit-m.budget.used)
	nb := make([]byte, size, c)
	copy(nb, m.buf)
	m.buf = nb
	return m.buf
}

func (m *budgetMemory) Free() {
	m.budget.used -= uint64(len(m.buf))
	m.buf = nil
	if m.mapped != nil {
		release(m.mapped)
		m.mapped = nil
	}
}
