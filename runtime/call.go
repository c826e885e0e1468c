package runtime

import (
	"context"
	"errors"
	"fmt"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"
)

// funcs looks a module's exported functions up once. Every lookup makes a
// new wazero call engine; an instance runs one call at a time, and a kernel
// function never calls back into the guest, so no engine is entered twice
// at once.
type funcs struct {
	mod api.Module
	fns map[string]api.Function
}

func newFuncs(mod api.Module) funcs { return funcs{mod: mod, fns: map[string]api.Function{}} }

func (c funcs) get(name string) api.Function {
	f, ok := c.fns[name]
	if !ok {
		f = c.mod.ExportedFunction(name)
		c.fns[name] = f
	}
	return f
}

// kernelFns is an instance's Extism kernel with its exports looked up
// once. The go-sdk looks a kernel export up each time the guest or the host
// uses one; its env functions find the kernel in the call's context, where
// invoke puts this.
type kernelFns struct {
	api.Module
	funcs
}

func newKernelFns(kern api.Module) *kernelFns {
	return &kernelFns{Module: kern, funcs: newFuncs(kern)}
}

// ExportedFunction returns the kernel's export, the same for every call.
func (k *kernelFns) ExportedFunction(name string) api.Function { return k.get(name) }

// call calls a kernel export with params and returns its result, if any.
func (k *kernelFns) call(ctx context.Context, name string, params ...uint64) (uint64, error) {
	f := k.ExportedFunction(name)
	if f == nil {
		return 0, fmt.Errorf("the extism kernel has no %s", name)
	}
	var stack [2]uint64
	copy(stack[:], params)
	if err := f.CallWithStack(ctx, stack[:]); err != nil {
		return 0, err
	}
	return stack[0], nil
}

// invoke calls the plugin's export with input as the go-sdk's
// Plugin.CallWithContext does, which stays the reference
// (TestCallsMatchTheGoSDK): set the input in the kernel, call, then read
// the plugin's error and output. It differs only in looking functions up
// once per instance. The guest's own initialisation has already run
// (Module.initialise).
func (inst *instance) invoke(ctx context.Context, name string, input []byte) (uint32, []byte, error) {
	if inst.main.IsClosed() {
		return 0, nil, errors.New("module is closed")
	}
	k := inst.kfns
	ctx = context.WithValue(ctx, extism.PluginCtxKey("extism"), api.Module(k))
	ctx = context.WithValue(ctx, extism.PluginCtxKey("plugin"), inst.p)
	if _, err := k.call(ctx, "reset"); err != nil {
		return 1, nil, errors.New("reset")
	}
	ptr, err := k.call(ctx, "alloc", uint64(len(input)))
	if err != nil {
		return 1, nil, err
	}
	k.Memory().Write(uint32(ptr), input)
	if _, err := k.call(ctx, "input_set", ptr, uint64(len(input))); err != nil {
		return 1, nil, err
	}
	ctx = context.WithValue(ctx, extism.InputOffsetKey("inputOffset"), ptr)

	f := inst.exports.get(name)
	if f == nil {
		return 1, nil, fmt.Errorf("unknown function: %s", name)
	}
	results := len(f.Definition().ResultTypes())
	if results > 1 {
		return 1, nil, fmt.Errorf("function %s has %v results, expected 0 or 1", name, results)
	}
	// An export is called with no parameters, as the go-sdk calls it (and
	// wazero refuses a function that wants some).
	if n := len(f.Definition().ParamTypes()); n > 0 {
		return 1, nil, fmt.Errorf("function %s expects %d params, but passed 0", name, n)
	}
	stack := inst.stack[:1]
	clear(stack)
	err = f.CallWithStack(ctx, stack)
	var rc uint32
	haveRC := err == nil && results == 1
	if haveRC {
		rc = api.DecodeU32(stack[0])
	}
	if exit, ok := err.(*sys.ExitError); ok {
		if exit.ExitCode() == 0 {
			err = nil
		}
		if !haveRC {
			rc, haveRC = exit.ExitCode(), true
		}
	}
	if !haveRC && err != nil {
		rc = 1
	}
	if err != nil {
		return rc, nil, err
	}

	var returnErr error
	if off, err := k.call(ctx, "error_get"); err == nil && off != 0 {
		if n, err := k.call(ctx, "length", off); err == nil {
			if b, ok := k.Memory().Read(uint32(off), uint32(n)); ok && len(b) > 0 {
				returnErr = errors.New(string(b))
			}
		}
	}
	off, err := k.call(ctx, "output_offset")
	if err == nil {
		var n uint64
		if n, err = k.call(ctx, "output_length"); err == nil {
			b, _ := k.Memory().Read(uint32(off), uint32(n))
			out := make([]byte, len(b))
			copy(out, b)
			return rc, out, returnErr
		}
	}
	e := fmt.Errorf("failed to get output: %v", err)
	if returnErr != nil {
		return rc, nil, errors.Join(returnErr, e)
	}
	return rc, nil, e
}
