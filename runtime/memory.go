package runtime

import (
	"github.com/tetratelabs/wazero/api"
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
	// mems are the memories drawn on the budget, in the order the
	// instance created them.
	mems []*budgetMemory
}

// allocator returns a wazero MemoryAllocator drawing on the budget. An
// instance's modules are instantiated and run on one goroutine at a time,
// so the budget needs no lock.
func (b *memoryBudget) allocator() experimental.MemoryAllocator {
	return experimental.MemoryAllocatorFunc(func(capacity, max uint64) experimental.LinearMemory {
		m := &budgetMemory{budget: b, max: max}
		b.mems = append(b.mems, m)
		return m
	})
}

type budgetMemory struct {
	budget *memoryBudget
	buf    []byte
	max    uint64
	mapped []byte     // the reservation buf lives in, when the platform maps memory
	api    api.Memory // the memory as wazero serves it, found at initialisation
	// shrinkTo, when set, makes the next Reallocate return the memory cut
	// to that size: the one way to shrink a wazero memory (see shrink).
	shrinkTo uint64
}

// shrink cuts the memory back to size bytes, which must be no more than
// its length, reporting whether it could. wazero has no shrink; its Grow
// takes whatever buffer the allocator returns and tells the compiled code
// the new length, so a grow the allocator answers with a shorter buffer
// shrinks the memory. The caller checks the size wazero then reports.
func (m *budgetMemory) shrink(size uint64) bool {
	if m.api == nil || size > uint64(len(m.buf)) || size%65536 != 0 {
		return false
	}
	if size == uint64(len(m.buf)) {
		return true
	}
	m.shrinkTo = size
	_, ok := m.api.Grow(1)
	m.shrinkTo = 0
	return ok && uint64(m.api.Size()) == size && uint64(len(m.buf)) == size
}

func (m *budgetMemory) Reallocate(size uint64) []byte {
	old := uint64(len(m.buf))
	if m.shrinkTo > 0 {
		n := m.shrinkTo
		m.shrinkTo = 0
		m.budget.used -= old - n
		m.buf = m.buf[:n]
		return m.buf
	}
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
