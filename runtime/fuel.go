package runtime

import (
	"context"
	"errors"
	"time"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/fuel"
)

// Plugins are metered with fuel (internal/fuel): every module is compiled
// with a counter charged at function entries, loop tops and bulk
// operations (by their length). The counter holds at most one slice of the
// phase's budget; when it goes below zero the plugin calls refillName, a
// Go host function, which gives it the next slice or stops it. So:
//
//   - a plugin stops itself when its budget is spent, at the same point on
//     every run, with no goroutine of the host's having to run;
//   - it returns to Go at least once per slice (about a millisecond), where
//     the Go scheduler can preempt it and the collector stop it, so a node
//     whose every core runs plugins still serves its API and collects
//     garbage (compiled Wasm is otherwise never preempted);
//   - the wall-clock limit is read at each refill, so a plugin past its
//     time stops within a slice even when no timer can fire.
//
// Every phase of a plugin's life runs under a meter: the start function
// and the guest's initialisation (one budget, a call's), prewarm and each
// call. Code that runs with no meter in its context is stopped at its first
// charge.

// refillName is the host function instrumented modules call for fuel.
const refillName = "tollgate_fuel_refill"

var refillImport = fuel.Import{Module: abi.HostNamespace, Name: refillName}

// kernelCallFuel is what a plugin's call into the Extism kernel costs on
// top of the call: the kernel is compiled alongside the plugin but not
// metered, and every call is a trip out to Go and back (about 100 ns).
const kernelCallFuel = 200

// kernelLookupFuel is what a kernel call that searches the kernel's blocks
// costs (length, free, alloc): a few microseconds of work, whatever the
// plugin allocated before.
const kernelLookupFuel = 5000

// kernelCosts charge the plugin's calls into the Extism kernel: those that
// search its blocks more, alloc by the bytes asked for as well, and reset, which clears the kernel's whole
// memory, as much as clearing 16 MiB.
var kernelCosts = func() []fuel.ImportCost {
	var out []fuel.ImportCost
	for _, name := range []string{"input_length", "input_load_u8", "input_load_u64", "length_unsafe", "load_u8", "load_u64",
		"store_u8", "store_u64", "output_set", "error_set", "error_get", "var_get", "var_set", "input_offset", "log_warn",
		"log_info", "log_debug", "log_error", "log_trace", "get_log_level", "http_request", "http_status_code", "http_headers"} {
		out = append(out, fuel.ImportCost{Module: "extism:host/env", Name: name, Fixed: kernelCallFuel})
	}
	return append(out,
		// length and free look the block up among the kernel's blocks.
		fuel.ImportCost{Module: "extism:host/env", Name: "length", Fixed: kernelLookupFuel},
		fuel.ImportCost{Module: "extism:host/env", Name: "free", Fixed: kernelLookupFuel},
		fuel.ImportCost{Module: "extism:host/env", Name: "alloc", Fixed: kernelLookupFuel, PerByte: true},
		fuel.ImportCost{Module: "extism:host/env", Name: "reset", Fixed: (16 << 20) / fuel.BulkBytesPerFuel})
}()

// FuelSlice is the most fuel the counter holds at once: about half a
// millisecond of a plugin's work, so a plugin returns to Go that often.
const FuelSlice = FuelPerMillisecond / 2

// meterKey finds a phase's meter in a context.
type meterKey struct{}

// meter is one phase's fuel budget and wall-clock limit. A phase runs on
// one goroutine, which alone reads and writes it.
type meter struct {
	budget   int64 // the phase's fuel
	reserve  int64 // not yet given to the counter
	deadline time.Time
	ctx      context.Context
	done     <-chan struct{} // ctx.Done(): the caller gave up, or the deadline passed
	counter  api.MutableGlobal

	// Why the meter stopped the plugin, if it did.
	outOfFuel, pastDeadline, canceled bool
}

func newMeter(ctx context.Context, budget int64) *meter {
	mt := &meter{budget: budget, reserve: budget, ctx: ctx, done: ctx.Done()}
	mt.deadline, _ = ctx.Deadline()
	return mt
}

// start gives counter the phase's first slice.
func (mt *meter) start(counter api.MutableGlobal) {
	mt.counter = counter
	first := min(mt.reserve, FuelSlice)
	mt.reserve -= first
	counter.Set(uint64(first))
}

// refill returns the counter's next value, or stops the plugin. The
// instrumentation calls it only once the counter is below zero: any other
// value is a plugin that found a way to call it, and is stopped rather
// than given fuel.
func (mt *meter) refill(cur int64) int64 {
	if cur >= 0 {
		panic(abi.Errorf(abi.CodeTrap, "the fuel refill was called with %d fuel left", cur))
	}
	if !mt.deadline.IsZero() && !time.Now().Before(mt.deadline) {
		mt.pastDeadline = true
		panic(abi.Errorf(abi.CodeTimeout, "the plugin ran past its time"))
	}
	select {
	case <-mt.done:
		if errors.Is(mt.ctx.Err(), context.DeadlineExceeded) {
			mt.pastDeadline = true
			panic(abi.Errorf(abi.CodeTimeout, "the plugin ran past its time"))
		}
		mt.canceled = true
		panic(abi.Errorf(abi.CodeCanceled, "the call ended while the plugin ran"))
	default:
	}
	add := min(mt.reserve, FuelSlice-cur)
	mt.reserve -= add
	if cur += add; cur < 0 {
		mt.outOfFuel = true
		panic(abi.Errorf(abi.CodeTimeout, "the plugin ran out of fuel"))
	}
	return cur
}

// used is the fuel the phase spent.
func (mt *meter) used() uint64 {
	left := mt.reserve
	if mt.counter != nil {
		left += max(int64(mt.counter.Get()), 0)
	}
	return uint64(max(mt.budget-left, 0))
}

// stopped is the error for a phase the meter stopped, or nil.
func (mt *meter) stopped(what string, l Limits) *abi.Error {
	switch {
	case mt.outOfFuel:
		return abi.Errorf(abi.CodeTimeout, "%s ran out of its %d fuel (%v of time)", what, mt.budget, l.Timeout)
	case mt.pastDeadline:
		return abi.Errorf(abi.CodeTimeout, "%s ran past its %v limit", what, l.Timeout)
	case mt.canceled:
		return abi.Errorf(abi.CodeCanceled, "%s was canceled", what)
	}
	return nil
}

// refillFuel is the refill import: the running phase's meter gives the
// counter its next slice. It panics, ending the plugin's call, when the
// budget or the time is spent, or when no meter is running.
func refillFuel(ctx context.Context, _ *extism.CurrentPlugin, stack []uint64) {
	mt, _ := ctx.Value(meterKey{}).(*meter)
	if mt == nil {
		panic(abi.Errorf(abi.CodeInternal, "plugin code ran with no fuel meter"))
	}
	stack[0] = uint64(mt.refill(int64(stack[0])))
}

// fuelListener sees the first entry of an instance's initialisation into
// the plugin's exports: the one place go-sdk lets the host reach the
// instance's own module, its counter and its globals.
type fuelListener struct{}

func (fuelListener) Before(ctx context.Context, mod api.Module, _ api.FunctionDefinition, _ []uint64, _ experimental.StackIterator) {
	if inst, _ := ctx.Value(initKey{}).(*instance); inst != nil && inst.main == nil {
		inst.main = mod
		inst.kern, _ = ctx.Value(extism.PluginCtxKey("extism")).(api.Module)
		inst.fuel, _ = mod.ExportedGlobal(fuel.GlobalName).(api.MutableGlobal)
	}
}

func (fuelListener) After(context.Context, api.Module, api.FunctionDefinition, []uint64) {}

func (fuelListener) Abort(context.Context, api.Module, api.FunctionDefinition, error) {}
