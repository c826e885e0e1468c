package runtime

import (
	"context"
	"sync/atomic"
	"time"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/tollgate-dev/tollgate/internal/fuel"
)

// Plugins are metered with fuel (internal/fuel): every module is compiled
// with a counter charged at function entries and loop tops, and traps when
// it runs out, so a plugin stops itself, at the same point on every run,
// and compiled code never needs the host to interrupt it. The first entry
// of a call into the plugin's exports sets the counter to the call's
// budget; the call's deadline, as a backstop, empties it.

// fuelListener sees the first entry of each call into a plugin's exports:
// the only place go-sdk lets the host reach the instance's own globals.
type fuelListener struct{}

func (fuelListener) Before(ctx context.Context, mod api.Module, _ api.FunctionDefinition, _ []uint64, _ experimental.StackIterator) {
	if inst, _ := ctx.Value(initKey{}).(*instance); inst != nil {
		// Initialisation (Module.initialise): the one place the runtime
		// meets the instance's own module and its Extism kernel.
		if inst.main == nil {
			inst.main = mod
			inst.kern, _ = ctx.Value(extism.PluginCtxKey("extism")).(api.Module)
		}
		return
	}
	st, _ := ctx.Value(stateKey{}).(*callState)
	if st == nil || st.fuel.Load() != nil {
		return // not a runtime call, or not its first entry: an export calling itself gets no more fuel
	}
	g, ok := mod.ExportedGlobal(fuel.GlobalName).(api.MutableGlobal)
	if !ok {
		return
	}
	g.Set(uint64(st.limits.Fuel()))
	st.fuel.Store(&g)
}

func (fuelListener) After(context.Context, api.Module, api.FunctionDefinition, []uint64) {}

func (fuelListener) Abort(context.Context, api.Module, api.FunctionDefinition, error) {}

// fuelLeft is the call's fuel left, and whether it was metered.
func (st *callState) fuelLeft() (int64, bool) {
	g := st.fuel.Load()
	if g == nil {
		return 0, false
	}
	return int64((*g).Get()), true
}

// backstop empties the call's fuel once ctx is done (its deadline passed,
// or its caller gave up), until stop is called: the plugin then stops at
// its next charge. It is set again while the call runs, as the plugin's
// own charge may write over it.
func (st *callState) backstop(ctx context.Context) (stop func()) {
	done := make(chan struct{})
	exited := make(chan struct{})
	var stopped atomic.Bool
	cancel := context.AfterFunc(ctx, func() {
		defer close(exited)
		for !stopped.Load() {
			if g := st.fuel.Load(); g != nil {
				(*g).Set(0)
			}
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	})
	return func() {
		stopped.Store(true)
		close(done)
		if !cancel() {
			// The backstop started: wait until it can no longer write the
			// counter, which the instance's next call (another caller's,
			// once it is reset) will own.
			<-exited
		}
	}
}
