package runtime

import (
	"context"
	"slices"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/tollgate-dev/tollgate/internal/fuel"
)

// The Extism kernel's output_set silently ignores a block that is out of
// bounds, so a plugin that sets its output to a bogus block looks like one
// that answered nothing. The runtime listens to the env module's output_set
// and records what the plugin asked for, so Call can tell the two apart.
// The only other listeners are on the instrumentation's init export, where
// an instance's initialisation meets its module (fuel.go), and on the WASI functions that change state a reset
// cannot put back (snapshot.go); no other function is instrumented.

// outputListeners is the listener factory of one plugin's compilation,
// which compiles the Extism kernel too. exports are the plugin's exported
// functions by index (fuel.Module.Exports): only those get the fuel
// listener. Every kernel function is exported as well, and a listener on
// it would take each of the guest's memory operations out to Go and back
// twice more.
type outputListeners struct{ exports map[uint32][]string }

func (l outputListeners) NewFunctionListener(def api.FunctionDefinition) experimental.FunctionListener {
	if def.ModuleName() == "extism:host/env" && slices.Contains(def.ExportNames(), "output_set") {
		return outputSetListener{}
	}
	// WASI calls that change state a reset cannot put back (snapshot.go).
	if def.ModuleName() == "wasi_snapshot_preview1" && !slices.ContainsFunc(def.ExportNames(), isStatelessWASI) {
		return taintListener{}
	}
	// The do-nothing export the instrumentation adds, which an instance's
	// initialisation calls: there the runtime meets the instance's own
	// module (fuel.go). No other export is listened to, so a call into the
	// plugin never leaves compiled code for a listener, and a plugin that
	// recurses through an export does not make each call walk its stack.
	if _, _, imported := def.Import(); def.GoFunction() == nil && slices.Contains(def.ExportNames(), fuel.InitName) && !imported &&
		sameNames(def.ExportNames(), l.exports[def.Index()]) {
		return fuelListener{}
	}
	return nil
}

type outputSetListener struct{}

func (outputSetListener) Before(ctx context.Context, _ api.Module, _ api.FunctionDefinition, params []uint64, _ experimental.StackIterator) {
	if st, _ := ctx.Value(stateKey{}).(*callState); st != nil && len(params) == 2 {
		st.outputSet, st.outputSetLen = true, params[1]
	}
}

func (outputSetListener) After(context.Context, api.Module, api.FunctionDefinition, []uint64) {}

func (outputSetListener) Abort(context.Context, api.Module, api.FunctionDefinition, error) {}

// taintListener marks the running instance as holding state a reset cannot
// put back: it is closed after its call rather than reset.
type taintListener struct{}

func (taintListener) Before(ctx context.Context, _ api.Module, _ api.FunctionDefinition, _ []uint64, _ experimental.StackIterator) {
	if inst, _ := ctx.Value(instanceKey{}).(*instance); inst != nil {
		inst.tainted.Store(true)
	}
}

func (taintListener) After(context.Context, api.Module, api.FunctionDefinition, []uint64) {}

func (taintListener) Abort(context.Context, api.Module, api.FunctionDefinition, error) {}

// sameNames reports whether a and b hold the same names, in any order.
func sameNames(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
