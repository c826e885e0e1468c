package runtime

import (
	"testing"

	"github.com/tetratelabs/wazero/api"

	"github.com/tollgate-dev/tollgate/internal/fuel"
)

// fakeDef is a compiled function as the listener factory sees it.
type fakeDef struct {
	api.FunctionDefinition
	index   uint32
	exports []string
}

func (d fakeDef) ModuleName() string             { return "" }
func (d fakeDef) Index() uint32                  { return d.index }
func (d fakeDef) ExportNames() []string          { return d.exports }
func (d fakeDef) Import() (string, string, bool) { return "", "", false }
func (d fakeDef) GoFunction() any                { return nil }
func (d fakeDef) DebugName() string              { return "" }
func (d fakeDef) ParamTypes() []api.ValueType    { return nil }
func (d fakeDef) ResultTypes() []api.ValueType   { return nil }
func (d fakeDef) ParamNames() []string           { return nil }
func (d fakeDef) ResultNames() []string          { return nil }
func (d fakeDef) Name() string                   { return "" }

// TestOnlyTheInitExportIsListenedTo: the instrumentation's init export of
// the plugin gets the fuel listener; no other export does (a call never
// leaves compiled code for it), and neither does a kernel export at the
// same index or with the same name.
func TestOnlyTheInitExportIsListenedTo(t *testing.T) {
	l := outputListeners{exports: map[uint32][]string{3: {"invoke"}, 7: {"alloc", "reset"}, 9: {fuel.InitName}}}
	for _, c := range []struct {
		def  fakeDef
		fuel bool
	}{
		{fakeDef{index: 9, exports: []string{fuel.InitName}}, true},
		{fakeDef{index: 3, exports: []string{"invoke"}}, false},
		{fakeDef{index: 7, exports: []string{"reset", "alloc"}}, false},
		{fakeDef{index: 4, exports: []string{"alloc"}}, false},
		{fakeDef{index: 4, exports: []string{fuel.InitName}}, false}, // not the plugin's at that index
		{fakeDef{index: 9, exports: []string{"length"}}, false},      // the kernel's function at the init's index
	} {
		_, isFuel := l.NewFunctionListener(c.def).(fuelListener)
		if isFuel != c.fuel {
			t.Errorf("%v at %d: fuel listener %v, want %v", c.def.exports, c.def.index, isFuel, c.fuel)
		}
	}
}
