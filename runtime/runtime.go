package runtime

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/sys"

	"github.com/tollgate-dev/tollgate/abi"
)

// Config configures a [Runtime]. The zero value works: an in-memory
// compilation cache and no logging.
type Config struct {
	// CacheDir, if set, keeps compiled machine code on disk so a restart
	// loads a known plugin without compiling it again.
	CacheDir string
	// Max caps the limits any module may ask for.
	Max    Limits
	Logger *slog.Logger
}

// Runtime compiles plugins. It is safe for concurrent use.
type Runtime struct {
	cache  wazero.CompilationCache
	max    Limits
	logger *slog.Logger
}

// New returns a Runtime.
func New(cfg Config) (*Runtime, error) {
	if err := cfg.Max.validate(); err != nil {
		return nil, err
	}
	r := &Runtime{max: cfg.Max, logger: cfg.Logger}
	if r.logger == nil {
		r.logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("runtime: compilation cache %s: %w", cfg.CacheDir, err)
		}
		r.cache = c
	} else {
		r.cache = wazero.NewCompilationCache()
	}
	return r, nil
}

// Close releases the compilation cache. Close every Module first.
func (r *Runtime) Close(ctx context.Context) error { return r.cache.Close(ctx) }

// ModuleOptions says how a module runs.
type ModuleOptions struct {
	Limits Limits
	// Nondeterministic gives the plugin the real wall clock and a
	// cryptographic random source. Without it (the default, and always for
	// attribution plugins) wazero's fixed clock and fixed random bytes make
	// every run of the same input give the same output.
	Nondeterministic bool
}

// MaxVarBytes bounds the Extism vars a plugin may set during one call.
const MaxVarBytes = 64 << 10

// Module is a compiled plugin. It is safe for concurrent use: every call gets
// an instance of its own.
type Module struct {
	compiled *extism.CompiledPlugin
	limits   Limits
	opts     ModuleOptions
	calls    atomic.Uint64
}

// Compile compiles wasm into a Module with our host functions linked in.
func (r *Runtime) Compile(ctx context.Context, wasm []byte, opts ModuleOptions) (*Module, error) {
	limits := opts.Limits.Cap(r.max).WithDefaults()
	if err := limits.validate(); err != nil {
		return nil, err
	}
	m := &Module{limits: limits, opts: opts}
	manifest := extism.Manifest{
		Wasm: []extism.Wasm{extism.WasmData{Data: wasm}},
		// Vars live in the instance, which serves one call, so they carry
		// nothing between callers. HTTP stays disabled (zero bytes, no hosts).
		Memory: &extism.ManifestMemory{MaxPages: limits.MaxMemoryPages, MaxVarBytes: MaxVarBytes},
	}
	cfg := extism.PluginConfig{
		EnableWasi: true,
		RuntimeConfig: wazero.NewRuntimeConfig().
			WithCompilationCache(r.cache).
			WithCloseOnContextDone(true),
	}
	compiled, err := extism.NewCompiledPlugin(ctx, manifest, cfg, m.hostFunctions())
	if err != nil {
		return nil, abi.Errorf(abi.CodeInvalidPlugin, "compile: %v", err)
	}
	m.compiled = compiled
	return m, nil
}

// Limits returns the limits the module runs under.
func (m *Module) Limits() Limits { return m.limits }

// Close frees the module.
func (m *Module) Close(ctx context.Context) error { return m.compiled.Close(ctx) }

// Call runs export with input in a fresh instance and returns its output.
// env gives the plugin its data; nil means no data at all.
func (m *Module) Call(ctx context.Context, export string, input []byte, env *Env) ([]byte, error) {
	if len(input) > m.limits.MaxInputBytes {
		return nil, abi.Errorf(abi.CodeInputTooLarge, "input is %d bytes, limit %d", len(input), m.limits.MaxInputBytes)
	}
	if env == nil {
		env = &Env{}
	}
	ctx, cancel := context.WithTimeout(ctx, m.limits.Timeout)
	defer cancel()

	mc := wazero.NewModuleConfig()
	if m.opts.Nondeterministic {
		mc = mc.WithSysWalltime().WithSysNanotime().WithSysNanosleep().WithRandSource(rand.Reader)
	}
	inst, err := m.compiled.Instance(ctx, extism.PluginInstanceConfig{ModuleConfig: mc})
	if err != nil {
		if ctx.Err() != nil {
			return nil, abi.Errorf(abi.CodeTimeout, "instantiate: %v", ctx.Err())
		}
		return nil, abi.Errorf(abi.CodeInvalidPlugin, "instantiate: %v", err)
	}
	// Instances are never reused: state one caller leaves in linear memory
	// must not reach the next.
	defer inst.Close(context.Background())
	inst.Config = env.Config
	inst.SetLogger(func(extism.LogLevel, string) {})
	if !inst.FunctionExists(export) {
		return nil, abi.Errorf(abi.CodeInvalidPlugin, "plugin has no export %q", export)
	}

	st := &callState{env: env, limits: m.limits}
	ctx = context.WithValue(ctx, stateKey{}, st)
	m.calls.Add(1)
	rc, out, err := inst.CallWithContext(ctx, export, input)
	if st.fatal != nil {
		return nil, st.fatal
	}
	if err != nil {
		return nil, classify(ctx, inst, rc, err)
	}
	if len(out) > m.limits.MaxOutputBytes {
		return nil, abi.Errorf(abi.CodeOutputTooLarge, "output is %d bytes, limit %d", len(out), m.limits.MaxOutputBytes)
	}
	return out, nil
}

// classify maps a failed call to its abi code.
func classify(ctx context.Context, inst *extism.Plugin, rc uint32, err error) error {
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case sys.ExitCodeDeadlineExceeded:
			return abi.Errorf(abi.CodeTimeout, "plugin ran past its time limit")
		case sys.ExitCodeContextCanceled:
			return abi.Errorf(abi.CodeTimeout, "call canceled: %v", context.Cause(ctx))
		}
		return abi.Errorf(abi.CodeExit, "plugin exited with code %d", exit.ExitCode())
	}
	if ctx.Err() != nil {
		return abi.Errorf(abi.CodeTimeout, "plugin ran past its time limit")
	}
	if msg := pluginError(inst); msg != "" {
		return abi.Errorf(abi.CodePluginError, "%s (rc %d)", msg, rc)
	}
	return abi.Errorf(abi.CodeTrap, "%v", firstLine(err.Error()))
}

func pluginError(inst *extism.Plugin) (msg string) {
	defer func() {
		if recover() != nil {
			msg = ""
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return inst.GetErrorWithContext(ctx)
}

func firstLine(s string) string {
	for i := range len(s) {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}
