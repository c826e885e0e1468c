package fuel

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tetratelabs/wabin/binary"
	"github.com/tetratelabs/wabin/leb128"
	"github.com/tetratelabs/wabin/wasm"
)

// GlobalName is the export of the fuel counter an instrumented module adds.
const GlobalName = "tollgate_fuel"

// InitName is the export of a function an instrumented module adds that
// does nothing: calling it through an Extism SDK runs the guest's own
// initialisation (a reactor's _initialize, hs_init) and nothing else.
const InitName = "tollgate_init"

// globalPrefix names the exports added for the module's own mutable
// globals: globalPrefix followed by the global's index.
const globalPrefix = "tollgate_global_"

// Module is an instrumented module.
type Module struct {
	Wasm []byte
	// Globals names the exports of every mutable global the module defines,
	// added so a host can save an instance's globals and set them back.
	Globals []string
	// Restorable reports whether an instance's state is all in its linear
	// memories and the Globals: the module writes no table, drops no
	// segment, and its mutable globals all hold numbers. When it is false,
	// Why says what else holds state.
	Restorable bool
	Why        string
	// Exports names the exported functions of the instrumented module, by
	// function index.
	Exports map[uint32][]string
}

// Rename moves the imports of function Module.Name to ToModule.ToName.
type Rename struct{ Module, Name, ToModule, ToName string }

// features are those a module may use and still be instrumented.
const features = wasm.CoreFeaturesV2

// Instrument returns module with fuel metering added; every instance
// starts with initial fuel. A module the decoder cannot read, or holding an
// instruction the walker does not know, is refused rather than run
// unmetered.
//
// Each Rename points the module's imports of one function elsewhere, so a
// host can serve it better than the runtime it embeds does; the function's
// type stays the module's own.
func Instrument(module []byte, initial int64, renames ...Rename) (_ *Module, err error) {
	// The decoder and encoder panic on some modules they do not support
	// (passive and declarative element segments, say): refuse those.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("fuel: the module uses what the instrumentation cannot encode: %v", r)
		}
	}()
	m, err := binary.DecodeModule(module, features)
	if err != nil {
		return nil, fmt.Errorf("fuel: decode: %w", err)
	}
	for _, e := range m.ExportSection {
		if e.Name == GlobalName || e.Name == InitName || strings.HasPrefix(e.Name, globalPrefix) {
			return nil, fmt.Errorf("fuel: the module already exports %q, a name the instrumentation adds", e.Name)
		}
	}
	out := &Module{Restorable: true}
	unrestorable := func(why string) {
		if out.Restorable {
			out.Restorable, out.Why = false, why
		}
	}
	imported := m.ImportGlobalCount()
	for i, gl := range m.GlobalSection {
		if !gl.Type.Mutable {
			continue
		}
		switch gl.Type.ValType {
		case wasm.ValueTypeI32, wasm.ValueTypeI64, wasm.ValueTypeF32, wasm.ValueTypeF64:
		default:
			unrestorable(fmt.Sprintf("mutable global %d holds a %s", imported+uint32(i), wasm.ValueTypeName(gl.Type.ValType)))
			continue
		}
		name := fmt.Sprint(globalPrefix, imported+uint32(i))
		m.ExportSection = append(m.ExportSection, &wasm.Export{Type: wasm.ExternTypeGlobal, Name: name, Index: imported + uint32(i)})
		out.Globals = append(out.Globals, name)
	}
	for _, im := range m.ImportSection {
		if im.Type == wasm.ExternTypeGlobal && im.DescGlobal.Mutable {
			unrestorable("imports a mutable global")
		}
		for _, r := range renames {
			if im.Type == wasm.ExternTypeFunc && im.Module == r.Module && im.Name == r.Name {
				im.Module, im.Name = r.ToModule, r.ToName
			}
		}
	}
	g := imported + uint32(len(m.GlobalSection))
	m.GlobalSection = append(m.GlobalSection, &wasm.Global{
		Type: &wasm.GlobalType{ValType: wasm.ValueTypeI64, Mutable: true},
		Init: &wasm.ConstantExpression{Opcode: wasm.OpcodeI64Const, Data: leb128.EncodeInt64(initial)},
	})
	m.ExportSection = append(m.ExportSection, &wasm.Export{Type: wasm.ExternTypeGlobal, Name: GlobalName, Index: g})
	for i, c := range m.CodeSection {
		body, mutates, err := meter(c.Body, g)
		if err != nil {
			return nil, fmt.Errorf("fuel: function %d: %w", i, err)
		}
		if mutates != "" {
			unrestorable(fmt.Sprintf("function %d uses %s", i, mutates))
		}
		c.Body = body
	}
	// The init export: a function of no parameters and no results whose
	// body is only its end.
	ti := slices.IndexFunc(m.TypeSection, func(t *wasm.FunctionType) bool { return len(t.Params) == 0 && len(t.Results) == 0 })
	if ti < 0 {
		m.TypeSection = append(m.TypeSection, &wasm.FunctionType{})
		ti = len(m.TypeSection) - 1
	}
	fi := m.ImportFuncCount() + uint32(len(m.FunctionSection))
	m.FunctionSection = append(m.FunctionSection, uint32(ti))
	m.CodeSection = append(m.CodeSection, &wasm.Code{Body: []byte{opEnd}})
	m.ExportSection = append(m.ExportSection, &wasm.Export{Type: wasm.ExternTypeFunc, Name: InitName, Index: fi})
	out.Exports = map[uint32][]string{}
	for _, e := range m.ExportSection {
		if e.Type == wasm.ExternTypeFunc {
			out.Exports[e.Index] = append(out.Exports[e.Index], e.Name)
		}
	}
	out.Wasm = binary.EncodeModule(m)
	if m.DataCountSection != nil {
		// The encoder leaves out the data count section, which memory.init
		// and data.drop need.
		if out.Wasm, err = withDataCount(out.Wasm, *m.DataCountSection); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// withDataCount inserts a data count section into an encoded module, where
// the format puts it: before the code section, else before the data
// section, else at the end of the known sections.
func withDataCount(mod []byte, count uint32) ([]byte, error) {
	const idCode, idData, idDataCount = 10, 11, 12
	r := &reader{b: mod, pos: 8}
	at := -1
	for r.pos < len(r.b) && r.err == nil {
		start := r.pos
		id := r.byte()
		size := r.u32()
		if r.err == nil && at < 0 && (id == idCode || id == idData) {
			at = start
		}
		if id == idDataCount {
			return mod, nil
		}
		r.skip(int(size))
	}
	if r.err != nil {
		return nil, fmt.Errorf("fuel: re-read the encoded module: %w", r.err)
	}
	if at < 0 {
		at = len(mod)
	}
	body := leb128.EncodeUint32(count)
	sec := append([]byte{idDataCount}, leb128.EncodeUint32(uint32(len(body)))...)
	sec = append(sec, body...)
	return slices.Concat(mod[:at], sec, mod[at:]), nil
}

// region is a function body or a loop body: where its charge goes in the
// output, and the instructions it holds outside nested loops.
type region struct {
	at    int // offset in the output after which the charge is inserted
	count int64
}

// meter returns body with a charge at its start and at the top of each
// loop.
//
// mutates names the first instruction found that changes an instance's
// state outside its memories and globals (a table write, a dropped
// segment), or is empty.
func meter(body []byte, g uint32) (_ []byte, mutates string, _ error) {
	// First pass: where each region starts in body, and what it costs.
	r := &reader{b: body, globals: g}
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
		return nil, "", r.err
	}
	if len(stack) != 0 {
		return nil, "", fmt.Errorf("fuel: %d blocks left open", len(stack))
	}
	// Second pass: copy the body, inserting each region's charge.
	out := make([]byte, 0, len(body)+len(regions)*24)
	prev := 0
	for _, rg := range regions {
		out = append(out, body[prev:rg.at]...)
		out = appendCharge(out, g, rg.count)
		prev = rg.at
	}
	return append(out, body[prev:]...), r.mutates, nil
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
