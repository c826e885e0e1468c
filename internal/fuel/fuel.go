package fuel

import (
	"fmt"

	"github.com/tetratelabs/wabin/binary"
	"github.com/tetratelabs/wabin/leb128"
	"github.com/tetratelabs/wabin/wasm"
)

// GlobalName is the export of the fuel counter an instrumented module adds.
const GlobalName = "tollgate_fuel"

// features are those a module may use and still be instrumented.
const features = wasm.CoreFeaturesV2

// Instrument returns module with fuel metering added; every instance
// starts with initial fuel. A module the decoder cannot read, or holding an
// instruction the walker does not know, is refused rather than run
// unmetered.
func Instrument(module []byte, initial int64) ([]byte, error) {
	m, err := binary.DecodeModule(module, features)
	if err != nil {
		return nil, fmt.Errorf("fuel: decode: %w", err)
	}
	for _, e := range m.ExportSection {
		if e.Name == GlobalName {
			return nil, fmt.Errorf("fuel: the module already exports %q", GlobalName)
		}
	}
	g := m.ImportGlobalCount() + uint32(len(m.GlobalSection))
	m.GlobalSection = append(m.GlobalSection, &wasm.Global{
		Type: &wasm.GlobalType{ValType: wasm.ValueTypeI64, Mutable: true},
		Init: &wasm.ConstantExpression{Opcode: wasm.OpcodeI64Const, Data: leb128.EncodeInt64(initial)},
	})
	m.ExportSection = append(m.ExportSection, &wasm.Export{Type: wasm.ExternTypeGlobal, Name: GlobalName, Index: g})
	for i, c := range m.CodeSection {
		body, err := meter(c.Body, g)
		if err != nil {
			return nil, fmt.Errorf("fuel: function %d: %w", i, err)
		}
		c.Body = body
	}
	return binary.EncodeModule(m), nil
}

// region is a function body or a loop body: where its charge goes in the
// output, and the instructions it holds outside nested loops.
type region struct {
	at    int // offset in the output after which the charge is inserted
	count int64
}

// meter returns body with a charge at its start and at the top of each
// loop.
func meter(body []byte, g uint32) ([]byte, error) {
	// First pass: where each region starts in body, and what it costs.
	r := &reader{b: body}
	type open struct {
		loop   bool
		region int // index into regions
	}
	regions := []region{{at: 0}}
	var stack []open
	cur := 0 // the innermost open region
	for r.pos < len(r.b) && r.err == nil {
		op := r.next()
		if r.err != nil {
			break
		}
		switch op {
		case opBlock, opIf, opTry:
			regions[cur].count++
			stack = append(stack, open{region: cur})
		case opLoop:
			regions[cur].count++
			regions = append(regions, region{at: r.pos})
			stack = append(stack, open{loop: true, region: cur})
			cur = len(regions) - 1
		case opEnd:
			regions[cur].count++
			if len(stack) == 0 {
				continue // the function's own end
			}
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			cur = top.region
		default:
			regions[cur].count++
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(stack) != 0 {
		return nil, fmt.Errorf("fuel: %d blocks left open", len(stack))
	}
	// Second pass: copy the body, inserting each region's charge.
	out := make([]byte, 0, len(body)+len(regions)*24)
	prev := 0
	for _, rg := range regions {
		out = append(out, body[prev:rg.at]...)
		out = appendCharge(out, g, rg.count)
		prev = rg.at
	}
	return append(out, body[prev:]...), nil
}

// appendCharge appends: fuel -= cost; if fuel < 0 { unreachable }.
func appendCharge(out []byte, g uint32, cost int64) []byte {
	gi := leb128.EncodeUint32(g)
	out = append(out, 0x23) // global.get
	out = append(out, gi...)
	out = append(out, 0x42) // i64.const
	out = append(out, leb128.EncodeInt64(cost)...)
	out = append(out, 0x7d, 0x24) // i64.sub, global.set
	out = append(out, gi...)
	out = append(out, 0x23)
	out = append(out, gi...)
	out = append(out, 0x42, 0x00, 0x53)       // i64.const 0, i64.lt_s
	out = append(out, 0x04, 0x40, 0x00, 0x0b) // if, unreachable, end
	return out
}
