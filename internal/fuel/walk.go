// Package fuel instruments a WebAssembly module with a fuel counter, so a
// plugin that runs too long stops itself, at the same point on every run,
// without the host interrupting compiled code.
//
// A mutable i64 global, exported as [GlobalName], holds the fuel left. Each
// function charges on entry, and each loop at the top of every iteration,
// the number of instructions its body holds outside nested loops: an upper
// bound of what one pass can execute before the next charge (calls charge
// in the callee). When the counter goes below zero the plugin traps with
// unreachable; the host tells that trap from others by the counter.
package fuel

import (
	"errors"
	"fmt"
)

// reader walks a code body.
type reader struct {
	b   []byte
	pos int
	err error
	// mutates names the first instruction read that changes state outside
	// memories and globals.
	mutates string
	// globals is how many globals the module has before instrumentation:
	// an index past them would name the fuel counter once it is added.
	globals uint32
}

func (r *reader) mutate(what string) {
	if r.mutates == "" {
		r.mutates = what
	}
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("fuel: offset %d: %s", r.pos, fmt.Sprintf(format, args...))
	}
	r.pos = len(r.b)
}

func (r *reader) byte() byte {
	if r.pos >= len(r.b) {
		r.fail("unexpected end of code")
		return 0
	}
	c := r.b[r.pos]
	r.pos++
	return c
}

// leb skips an LEB128 number of at most maxBytes bytes and returns its
// unsigned value (meaningless for signed ones, which are only skipped).
func (r *reader) leb(maxBytes int) uint64 {
	var v uint64
	for i := 0; i < maxBytes; i++ {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		if i < 10 {
			v |= uint64(c&0x7f) << (7 * i)
		}
		if c&0x80 == 0 {
			return v
		}
	}
	r.fail("LEB128 longer than %d bytes", maxBytes)
	return 0
}

func (r *reader) u32() uint32 { return uint32(r.leb(5)) }

func (r *reader) skip(n int) {
	if r.pos+n > len(r.b) {
		r.fail("unexpected end of code")
		return
	}
	r.pos += n
}

func (r *reader) memarg() {
	align := r.u32()
	if align&(1<<6) != 0 { // multi-memory: a memory index follows
		r.u32()
	}
	r.leb(10) // offset: u64 for memory64
}

func (r *reader) blockType() {
	c := r.byte()
	switch {
	case c == 0x40, c == 0x7f, c == 0x7e, c == 0x7d, c == 0x7c, c == 0x7b, c == 0x70, c == 0x6f:
	default:
		// A type index, as a signed 33-bit LEB128 whose first byte is c.
		r.pos--
		r.leb(5)
	}
}

// Structure opcodes.
const (
	opBlock = 0x02
	opLoop  = 0x03
	opIf    = 0x04
	opElse  = 0x05
	opTry   = 0x06
	opEnd   = 0x0b

	opCall       = 0x10
	opReturnCall = 0x12
	opRefFunc    = 0xd2
	opMemoryGrow = 0x40
	opPrefixFC   = 0xfc
)

var errUnknownOpcode = errors.New("fuel: unknown opcode")

// next reads one instruction and returns its opcode (the first byte).
func (r *reader) next() byte {
	op := r.byte()
	switch {
	case op == 0x00, op == 0x01, op == opElse, op == opEnd, op == 0x0f, op == 0x1a, op == 0x1b, op == 0xd1:
	case op == opBlock, op == opLoop, op == opIf:
		r.blockType()
	case op == 0x0c, op == 0x0d, op == 0x10, op == 0x12, op == 0xd2:
		r.u32()
	case op == 0x0e: // br_table
		n := r.u32()
		for i := uint32(0); i <= n && r.err == nil; i++ {
			r.u32()
		}
	case op == 0x11, op == 0x13: // call_indirect, return_call_indirect
		r.u32()
		r.u32()
	case op == 0x1c: // select t*
		n := r.u32()
		for i := uint32(0); i < n && r.err == nil; i++ {
			r.byte()
		}
	case op >= 0x20 && op <= 0x26: // locals, globals, table.get/set
		if op == 0x26 {
			r.mutate("table.set")
		}
		if i := r.u32(); (op == 0x23 || op == 0x24) && i >= r.globals && r.err == nil {
			r.fail("global %d does not exist", i)
		}
	case op >= 0x28 && op <= 0x3e: // loads and stores
		r.memarg()
	case op == 0x3f, op == 0x40: // memory.size, memory.grow
		r.u32()
	case op == 0x41:
		r.leb(5)
	case op == 0x42:
		r.leb(10)
	case op == 0x43:
		r.skip(4)
	case op == 0x44:
		r.skip(8)
	case op >= 0x45 && op <= 0xc4: // numeric
	case op == 0xd0: // ref.null t
		r.byte()
	case op == 0xfc:
		r.prefixFC(r.u32())
	case op == 0xfd:
		// wazero reads a vector opcode as one byte, not as the LEB128 the
		// format has: the walker reads it as wazero runs it. A standard
		// two-byte encoding (0x8c 0x01) then reads as the instruction and a
		// nop in both; a padded one (0x8c 0x00) cannot hide bytes from the
		// walker that wazero runs.
		r.prefixFD(uint32(r.byte()))
	case op == 0xfe:
		// Threads are not among the features modules may use, and wazero
		// reads their opcodes as one byte too: refuse rather than guess.
		r.fail("opcode %#x (threads): %v", op, errUnknownOpcode)
	default:
		r.fail("opcode %#x: %v", op, errUnknownOpcode)
	}
	return op
}

func (r *reader) prefixFC(sub uint32) {
	if name, ok := stateful[sub]; ok {
		r.mutate(name)
	}
	switch {
	case sub <= 7: // saturating truncations
	case sub == 8: // memory.init data, mem
		r.u32()
		r.u32()
	case sub == 9, sub == 13, sub == 15, sub == 16, sub == 17: // data.drop, elem.drop, table.grow/size/fill
		r.u32()
	case sub == 10, sub == 12, sub == 14: // memory.copy, table.init, table.copy
		r.u32()
		r.u32()
	case sub == 11: // memory.fill
		r.u32()
	default:
		r.fail("0xfc %d: %v", sub, errUnknownOpcode)
	}
}

// stateful are the 0xfc instructions that change an instance's tables or
// segments.
var stateful = map[uint32]string{9: "data.drop", 12: "table.init", 13: "elem.drop", 14: "table.copy", 15: "table.grow", 17: "table.fill"}

func (r *reader) prefixFD(sub uint32) {
	switch {
	case sub <= 11, sub == 92, sub == 93: // v128 loads and stores
		r.memarg()
	case sub == 12, sub == 13: // v128.const, i8x16.shuffle
		r.skip(16)
	case sub >= 21 && sub <= 34: // extract and replace lane
		r.byte()
	case sub >= 84 && sub <= 91: // load and store lane
		r.memarg()
		r.byte()
	case sub <= 0xff || (sub >= 0x100 && sub <= 0x113): // no immediates (incl. relaxed SIMD)
	default:
		r.fail("0xfd %d: %v", sub, errUnknownOpcode)
	}
}
