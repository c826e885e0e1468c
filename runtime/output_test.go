package runtime

import (
	"testing"

	"github.com/tetratelabs/wazero/api"
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

// TestOnlyThePluginsExportsAreMetered: the plugin's exports get the fuel
// listener, whatever their names; the Extism kernel's exports, compiled
// alongside, do not, unless one is the plugin's own at the same index.
func TestOnlyThePluginsExportsAreMetered(t *testing.T) {
	l := outputListeners{exports: map[uint32][]string{3: {"invoke"}, 7: {"alloc", "reset"}}}
	for _, c := range []struct {
		def  fakeDef
		fuel bool
	}{
		{fakeDef{index: 3, exports: []string{"invoke"}}, true},
		{fakeDef{index: 7, exports: []string{"reset", "alloc"}}, true}, // a plugin export named like a kernel function
		{fakeDef{index: 4, exports: []string{"alloc"}}, false},         // the kernel's alloc
		{fakeDef{index: 3, exports: []string{"length"}}, false},        // the kernel's function at an exported index
		{fakeDef{index: 7, exports: []string{"alloc"}}, false},
	} {
		_, isFuel := l.NewFunctionListener(c.def).(fuelListener)
		if isFuel != c.fuel {
			t.Errorf("%v: fuel listener %v, want %v", c.def.exports, isFuel, c.fuel)
		}
	}
}
