package fuel

import (
	"fmt"
	"math/bits"
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

// Import names the host function an instrumented module calls when its
// counter goes below zero: refill(fuel i64) -> i64. The host returns the
// counter's new value, at least zero, or traps the call (a panic in a Go
// host function) when the budget is spent or the time is up. Every refill
// is a return to Go, so a plugin that computes for a long time still
// reaches the Go scheduler once per slice of fuel the host gives: the
// collector can stop the world and the host can stop the plugin on the
// wall clock without a goroutine of its own having to run.
type Import struct{ Module, Name string }

// ImportCost is what a call to an imported function costs on top of the
// call itself: work the host does for it that no charge of the module's
// own code covers (an Extism kernel function, say, which is compiled
// alongside but not instrumented). Fixed is charged with the instructions
// of the region holding the call (function body or loop pass), as an
// upper bound like theirs; with PerByte, the call's only argument, an i64
// length, is charged before the call, one unit per BulkBytesPerFuel bytes.
type ImportCost struct {
	Module, Name string
	Fixed        int64
	PerByte      bool
}

// features are those a module may use and still be instrumented.
const features = wasm.CoreFeaturesV2

// Bulk operations do work in proportion to an operand, so they are charged
// by it, not as one instruction: the bytes of memory.fill, memory.copy and
// memory.init (one unit per BulkBytesPerFuel bytes, about what a plain
// loop storing them would cost), the pages memory.grow adds (a page's
// bytes), and the elements of the table operations (TableElemFuel each).
const (
	BulkBytesPerFuel = 8
	GrowPageFuel     = 65536 / BulkBytesPerFuel
	TableElemFuel    = 4
)

// Instrument returns module with fuel metering added. Every instance starts
// with no fuel: the first charge calls the refill import, so no code of the
// module, its start function included, runs before the host has given it a
// budget. A module the decoder cannot read, or holding an instruction the
// walker does not know, is refused rather than run unmetered.
//
// Each Rename points the module's imports of one function elsewhere, so a
// host can serve it better than the runtime it embeds does; the function's
// type stays the module's own.
func Instrument(module []byte, refill Import, costs []ImportCost, renames ...Rename) (_ *Module, err error) {
	// The decoder and encoder panic on some modules they do not support
	// (passive and declarative element segments, say): refuse those.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("fuel: the module uses what the instrumentation cannot encode: %v", r)
		}
	}()
	if refill.Module == "" || refill.Name == "" {
		return nil, fmt.Errorf("fuel: no refill import named")
	}
	// The decoder expands each function's locals a byte apiece: a few
	// bytes declaring billions of them would cost gigabytes before any
	// check of wazero's.
	if err := checkLocals(module); err != nil {
		return nil, err
	}
	m, err := binary.DecodeModule(module, features)
	if err != nil {
		return nil, fmt.Errorf("fuel: decode: %w", err)
	}
	// The encoder writes an element segment's table index where its
	// flags go: only active segments of table 0, at a constant or global
	// offset, come out as they went in.
	for i, el := range m.ElementSection {
		if el.Mode != wasm.ElementModeActive || el.TableIndex != 0 {
			return nil, fmt.Errorf("fuel: element segment %d is not an active segment of table 0", i)
		}
		if el.OffsetExpr == nil || (el.OffsetExpr.Opcode != wasm.OpcodeI32Const && el.OffsetExpr.Opcode != wasm.OpcodeGlobalGet) {
			return nil, fmt.Errorf("fuel: element segment %d has an offset that is not i32.const or global.get", i)
		}
	}
	for _, e := range m.ExportSection {
		if e.Name == GlobalName || e.Name == InitName || strings.HasPrefix(e.Name, globalPrefix) {
			return nil, fmt.Errorf("fuel: the module already exports %q, a name the instrumentation adds", e.Name)
		}
	}
	for _, im := range m.ImportSection {
		if im.Type == wasm.ExternTypeFunc && im.Module == refill.Module && im.Name == refill.Name {
			return nil, fmt.Errorf("fuel: the module already imports %s.%s, the refill the instrumentation adds", refill.Module, refill.Name)
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
	// The refill import goes after the module's function imports: it takes
	// the index the first defined function had, and every defined function
	// moves up one.
	paramTypes := make([]int, len(m.FunctionSection))
	for i, ti := range m.FunctionSection {
		if int(ti) >= len(m.TypeSection) {
			return nil, fmt.Errorf("fuel: function %d has no type %d", i, ti)
		}
		paramTypes[i] = len(m.TypeSection[ti].Params)
	}
	fnImports := m.ImportFuncCount()
	importCosts := map[uint32]ImportCost{}
	fi := uint32(0)
	for _, im := range m.ImportSection {
		if im.Type != wasm.ExternTypeFunc {
			continue
		}
		for _, c := range costs {
			if c.Module == im.Module && c.Name == im.Name {
				if c.PerByte {
					if t := m.TypeSection[im.DescFunc]; len(t.Params) == 0 || t.Params[0] != wasm.ValueTypeI64 || len(t.Params) > 1 {
						return nil, fmt.Errorf("fuel: import %s.%s is charged by its length but does not take one i64", im.Module, im.Name)
					}
				}
				importCosts[fi] = c
			}
		}
		fi++
	}
	refillType := typeIndex(m, &wasm.FunctionType{Params: []wasm.ValueType{wasm.ValueTypeI64}, Results: []wasm.ValueType{wasm.ValueTypeI64}})
	m.ImportSection = append(m.ImportSection, &wasm.Import{Type: wasm.ExternTypeFunc, Module: refill.Module, Name: refill.Name, DescFunc: refillType})
	if err := renumber(m, fnImports); err != nil {
		return nil, err
	}
	g := imported + uint32(len(m.GlobalSection))
	m.GlobalSection = append(m.GlobalSection, &wasm.Global{
		Type: &wasm.GlobalType{ValType: wasm.ValueTypeI64, Mutable: true},
		Init: &wasm.ConstantExpression{Opcode: wasm.OpcodeI64Const, Data: leb128.EncodeInt64(0)},
	})
	m.ExportSection = append(m.ExportSection, &wasm.Export{Type: wasm.ExternTypeGlobal, Name: GlobalName, Index: g})
	for i, c := range m.CodeSection {
		locals := uint32(paramTypes[i] + len(c.LocalTypes))
		f := &function{g: g, refill: fnImports, imports: fnImports, scratch: locals, costs: importCosts}
		body, mutates, err := f.meter(c.Body)
		if err != nil {
			return nil, fmt.Errorf("fuel: function %d: %w", i, err)
		}
		if mutates != "" {
			unrestorable(fmt.Sprintf("function %d uses %s", i, mutates))
		}
		if f.usesScratch {
			c.LocalTypes = append(c.LocalTypes, wasm.ValueTypeI32, wasm.ValueTypeI64)
		}
		c.Body = body
	}
	// The init export: a function of no parameters and no results whose
	// body is only its end.
	ti := typeIndex(m, &wasm.FunctionType{})
	fi = m.ImportFuncCount() + uint32(len(m.FunctionSection))
	m.FunctionSection = append(m.FunctionSection, ti)
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

// MaxLocals bounds the locals one function may declare (wazero's own
// limit is far higher; real compilers stay far below this).
const MaxLocals = 50_000

// checkLocals refuses a module any of whose functions declares more than
// MaxLocals locals, reading only the code section's local declarations.
func checkLocals(mod []byte) error {
	const idCode = 10
	if len(mod) < 8 {
		return nil // the decoder says what is wrong
	}
	r := &reader{b: mod, pos: 8}
	for r.pos < len(r.b) && r.err == nil {
		id := r.byte()
		size := int(r.u32())
		end := r.pos + size
		if r.err != nil || end > len(r.b) || end < r.pos {
			return nil
		}
		if id != idCode {
			r.pos = end
			continue
		}
		n := r.u32()
		for f := uint32(0); f < n && r.err == nil && r.pos < end; f++ {
			bodySize := int(r.u32())
			bodyEnd := r.pos + bodySize
			decls := r.u32()
			var total uint64
			for d := uint32(0); d < decls && r.err == nil && r.pos < bodyEnd; d++ {
				total += uint64(r.u32())
				r.byte()
				if total > MaxLocals {
					return fmt.Errorf("fuel: function %d declares more than %d locals", f, MaxLocals)
				}
			}
			r.pos = bodyEnd
		}
		return nil
	}
	return nil
}

// loadU32 decodes the unsigned LEB128 at the start of b, returning its
// value and length.
func loadU32(b []byte) (uint32, int, error) {
	var v uint64
	for i := 0; i < 5 && i < len(b); i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			if v > 1<<32-1 {
				return 0, 0, fmt.Errorf("fuel: LEB128 past 32 bits")
			}
			return uint32(v), i + 1, nil
		}
	}
	return 0, 0, fmt.Errorf("fuel: bad LEB128")
}

// typeIndex returns the index of a function type equal to t, adding it if
// the module has none.
func typeIndex(m *wasm.Module, t *wasm.FunctionType) uint32 {
	i := slices.IndexFunc(m.TypeSection, func(have *wasm.FunctionType) bool {
		return slices.Equal(have.Params, t.Params) && slices.Equal(have.Results, t.Results)
	})
	if i < 0 {
		m.TypeSection = append(m.TypeSection, t)
		i = len(m.TypeSection) - 1
	}
	return uint32(i)
}

// renumber moves every reference to a defined function outside code
// bodies up one, for an import added after the first imports functions
// (code bodies are renumbered as they are metered).
func renumber(m *wasm.Module, imports uint32) error {
	shift := func(i uint32) uint32 {
		if i >= imports {
			return i + 1
		}
		return i
	}
	for _, e := range m.ExportSection {
		if e.Type == wasm.ExternTypeFunc {
			e.Index = shift(e.Index)
		}
	}
	if m.StartSection != nil {
		s := shift(*m.StartSection)
		m.StartSection = &s
	}
	for _, el := range m.ElementSection {
		for j, fi := range el.Init {
			if fi != nil {
				v := shift(*fi)
				el.Init[j] = &v
			}
		}
	}
	for _, gl := range m.GlobalSection {
		if gl.Init != nil && gl.Init.Opcode == wasm.OpcodeRefFunc {
			v, _, err := loadU32(gl.Init.Data)
			if err != nil {
				return fmt.Errorf("fuel: global ref.func: %w", err)
			}
			gl.Init.Data = leb128.EncodeUint32(shift(v))
		}
	}
	if ns := m.NameSection; ns != nil {
		for _, a := range ns.FunctionNames {
			a.Index = shift(a.Index)
		}
		for _, a := range ns.LocalNames {
			a.Index = shift(a.Index)
		}
	}
	return nil
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

// edit replaces body[at:end] (nothing, when end == at) with data.
type edit struct {
	at, end int
	data    []byte
}

// function is what metering one function body needs to know.
type function struct {
	g       uint32 // the fuel counter
	refill  uint32 // the refill import's function index
	imports uint32 // function imports before refill: defined functions move up one
	scratch uint32 // the index of the i32 local a bulk charge may add; an i64 one follows it
	// usesScratch is set when the body charges a bulk operation or a call
	// by its length, which need the scratch locals.
	usesScratch bool
	costs       map[uint32]ImportCost // by the import's function index
}

// Bulk charges, by how the operand becomes fuel.
const (
	perBytes = iota // operand / BulkBytesPerFuel
	perPage         // operand * GrowPageFuel
	perElem         // operand * TableElemFuel
)

// bulk are the 0xfc operations charged by their last operand.
var bulk = map[uint32]int{8: perBytes, 10: perBytes, 11: perBytes, 12: perElem, 14: perElem, 15: perElem, 17: perElem}

// meter returns body with a charge at its start, at the top of each loop
// and before each bulk operation, and its calls renumbered.
//
// mutates names the first instruction found that changes an instance's
// state outside its memories and globals (a table write, a dropped
// segment), or is empty.
func (f *function) meter(body []byte) (_ []byte, mutates string, _ error) {
	// First pass: where each region starts in body, and what it costs;
	// what else changes.
	r := &reader{b: body, globals: f.g}
	type open struct {
		loop   bool
		region int // index into regions
	}
	regions := []region{{at: 0}}
	var edits []edit
	var stack []open
	cur := 0 // the innermost open region
	for r.pos < len(r.b) && r.err == nil {
		start := r.pos
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
		case opCall, opReturnCall, opRefFunc:
			regions[cur].count++
			idx, n, err := loadU32(body[start+1 : r.pos])
			if err != nil || start+1+int(n) != r.pos {
				return nil, "", fmt.Errorf("fuel: offset %d: function index", start)
			}
			if idx >= f.imports {
				edits = append(edits, edit{at: start + 1, end: r.pos, data: leb128.EncodeUint32(idx + 1)})
			} else if c, ok := f.costs[idx]; ok && op == opCall {
				// The fixed cost goes in the region's charge, as an
				// instruction's does; only a length needs code of its own.
				regions[cur].count += c.Fixed
				if c.PerByte {
					edits = append(edits, edit{at: start, end: start, data: f.lengthCharge()})
				}
			} else if ok {
				// A tail call would leave before a charge after it could
				// run, and ref.func would let call_ref skip the charge.
				return nil, "", fmt.Errorf("fuel: offset %d: a charged import used other than by call", start)
			}
		case opMemoryGrow:
			regions[cur].count++
			edits = append(edits, edit{at: start, end: start, data: f.bulkCharge(perPage)})
		case opPrefixFC:
			regions[cur].count++
			sub, _, err := loadU32(body[start+1 : r.pos])
			if err != nil {
				return nil, "", fmt.Errorf("fuel: offset %d: 0xfc opcode", start)
			}
			if kind, ok := bulk[sub]; ok {
				edits = append(edits, edit{at: start, end: start, data: f.bulkCharge(kind)})
			}
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
	// Region charges go in before any edit at the same offset (a loop whose
	// first instruction is a bulk operation).
	all := make([]edit, 0, len(regions)+len(edits))
	for _, rg := range regions {
		all = append(all, edit{at: rg.at, end: rg.at, data: f.charge(rg.count)})
	}
	all = append(all, edits...)
	slices.SortStableFunc(all, func(a, b edit) int { return a.at - b.at })
	// Second pass: copy the body with the edits made.
	size := len(body)
	for _, e := range all {
		size += len(e.data)
	}
	out := make([]byte, 0, size)
	prev := 0
	for _, e := range all {
		out = append(out, body[prev:e.at]...)
		out = append(out, e.data...)
		prev = e.end
	}
	return append(out, body[prev:]...), r.mutates, nil
}

// charge returns: fuel -= cost; if fuel < 0 { fuel = refill(fuel) }.
func (f *function) charge(cost int64) []byte {
	gi := leb128.EncodeUint32(f.g)
	out := append([]byte{0x23}, gi...) // global.get
	out = append(out, 0x42)            // i64.const
	out = append(out, leb128.EncodeInt64(cost)...)
	out = append(out, 0x7d, 0x24) // i64.sub, global.set
	out = append(out, gi...)
	return f.appendCheck(out)
}

// bulkCharge returns a charge by the i32 operand on top of the stack,
// which it leaves there: fuel -= cost(operand); then the check.
func (f *function) bulkCharge(kind int) []byte {
	f.usesScratch = true
	gi := leb128.EncodeUint32(f.g)
	si := leb128.EncodeUint32(f.scratch)
	out := append([]byte{0x22}, si...) // local.tee scratch
	out = append(out, 0x23)            // global.get fuel
	out = append(out, gi...)
	out = append(out, 0x20) // local.get scratch
	out = append(out, si...)
	out = append(out, 0xad) // i64.extend_i32_u
	switch kind {
	case perBytes:
		out = append(out, 0x42)
		out = append(out, leb128.EncodeInt64(int64(bits.TrailingZeros(BulkBytesPerFuel)))...)
		out = append(out, 0x88) // i64.shr_u
	case perPage:
		out = append(out, 0x42)
		out = append(out, leb128.EncodeInt64(GrowPageFuel)...)
		out = append(out, 0x7e) // i64.mul
	case perElem:
		out = append(out, 0x42)
		out = append(out, leb128.EncodeInt64(TableElemFuel)...)
		out = append(out, 0x7e)
	}
	out = append(out, 0x7d, 0x24) // i64.sub, global.set
	out = append(out, gi...)
	return f.appendCheck(out)
}

// lengthCharge returns the charge of a call to an import charged by its
// i64 length argument, before the call, which it leaves on the stack.
func (f *function) lengthCharge() []byte {
	gi := leb128.EncodeUint32(f.g)
	f.usesScratch = true
	si := leb128.EncodeUint32(f.scratch + 1)
	out := append([]byte{0x22}, si...) // local.tee scratch64
	out = append(out, 0x23)            // global.get fuel
	out = append(out, gi...)
	out = append(out, 0x20) // local.get scratch64
	out = append(out, si...)
	out = append(out, 0x42)
	out = append(out, leb128.EncodeInt64(int64(bits.TrailingZeros(BulkBytesPerFuel)))...)
	out = append(out, 0x88)       // i64.shr_u
	out = append(out, 0x7d, 0x24) // i64.sub, global.set
	out = append(out, gi...)
	return f.appendCheck(out)
}

// appendCheck appends: if fuel < 0 { fuel = refill(fuel) }.
func (f *function) appendCheck(out []byte) []byte {
	gi := leb128.EncodeUint32(f.g)
	out = append(out, 0x23)
	out = append(out, gi...)
	out = append(out, 0x42, 0x00, 0x53, 0x04, 0x40) // i64.const 0, i64.lt_s, if
	out = append(out, 0x23)
	out = append(out, gi...)
	out = append(out, 0x10) // call refill
	out = append(out, leb128.EncodeUint32(f.refill)...)
	out = append(out, 0x24)
	out = append(out, gi...)
	return append(out, 0x0b) // end
}
