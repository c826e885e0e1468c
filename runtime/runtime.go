package runtime

import (
	"container/list"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/fuel"
)

// Config configures a [Runtime]. The zero value works: an in-memory
// compilation cache and no logging.
type Config struct {
	// CacheDir, if set, keeps compiled machine code on disk so a restart
	// loads a known plugin without compiling it again.
	CacheDir string
	// Max caps the limits any module may ask for; zero fields take the
	// Max* constants.
	Max    Limits
	Logger *slog.Logger
}

// Runtime compiles plugins. It is safe for concurrent use.
type Runtime struct {
	cache  wazero.CompilationCache
	max    Limits
	logger *slog.Logger
	// compiling holds a slot per compilation running: compiling is Go
	// code the scheduler preempts, but a 16 MiB module takes tens of
	// seconds of a core and hundreds of megabytes, so compilations take
	// turns and leave the other cores to calls, the API and the ledger.
	compiling chan struct{}
}

// CompileSlots is how many compilations run at once on a machine of n
// cores: all but one, and at least one.
func CompileSlots(n int) int { return max(1, n-1) }

// New returns a Runtime.
func New(cfg Config) (*Runtime, error) {
	if err := cfg.Max.validate(); err != nil {
		return nil, err
	}
	r := &Runtime{max: cfg.Max.withMaxDefaults(), logger: cfg.Logger, compiling: make(chan struct{}, CompileSlots(goruntime.GOMAXPROCS(0)))}
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

// Close releases the compilation cache. Close every Module first: closing a
// cache that modules still use breaks them (extism go-sdk#97).
func (r *Runtime) Close(ctx context.Context) error { return r.cache.Close(ctx) }

// DefaultPoolSize is how many fresh instances a module keeps ready.
const DefaultPoolSize = 2

// MaxSessions bounds the instances kept for reuse within a session.
const MaxSessions = 64

// ModuleOptions says how a module runs.
type ModuleOptions struct {
	Limits Limits
	// Nondeterministic gives the plugin the real wall clock and a
	// cryptographic random source. Without it (the default, and always for
	// attribution plugins) wazero's fixed clock and fixed random bytes make
	// every run of the same input give the same output.
	Nondeterministic bool
	// ReuseWithinSession keeps an instance after a successful call and
	// gives it to the next call of the same [Env.Session]. State a plugin
	// leaves in memory is then visible to that session's later calls, never
	// to another session's. Off by default: every call gets a fresh instance.
	ReuseWithinSession bool
	// PoolSize is how many fresh instances are kept ready; 0 means
	// DefaultPoolSize, a negative value none.
	PoolSize int
	// Config is the Extism config the plugin's initialisation and prewarm
	// see: the config its calls get (Env.Config), as the go-sdk would run
	// the initialisation in the first call.
	Config map[string]string
}

// MaxVarBytes bounds the Extism vars a plugin may set.
const MaxVarBytes = 64 << 10

// Module is a compiled plugin. It is safe for concurrent use: every call
// gets an instance of its own.
type Module struct {
	compiled *extism.CompiledPlugin
	meta     *fuel.Module
	limits   Limits
	opts     ModuleOptions
	logger   *slog.Logger

	// calls is held (read) by every call while it runs, so Close, which
	// takes it, frees nothing a call or its reset still uses.
	calls    sync.RWMutex
	pool     chan *instance // fresh instances, kept ready by fill
	idle     chan *instance // instances reset after a call (snapshot.go)
	done     chan struct{}
	wg       sync.WaitGroup
	closeOne sync.Once
	closeErr error

	sessMu   sync.Mutex
	sessions map[string]*list.Element // of *kept, in sessLRU
	sessLRU  list.List                // least recently released first

	snapMu  sync.Mutex
	snap    *snapshot // taken from the first instance
	snapOff string    // why instances are not reset, when they are not

	stats struct {
		calls, hits, misses, reuses, resets, instantiations, grows atomic.Uint64
		instantiateNanos                                           atomic.Int64
	}
}

// kept is an instance kept for one session's next call.
type kept struct {
	name string
	inst *instance
}

// instance is one instantiation of a module with its memory budget.
type instance struct {
	p      *extism.Plugin
	budget *memoryBudget
	files  *noFiles
	kernel *kernel // looked up at the first host call
	// wake is closed when the running call's time is up.
	wake atomic.Pointer[chan struct{}]

	// main and kern are the plugin's module and its Extism kernel, found
	// when the instance is initialised; globals and kernelGlobals their
	// mutable globals.
	main, kern             api.Module
	kfns                   *kernelFns
	exports                funcs     // the plugin's, looked up once
	stack                  [1]uint64 // for calling them
	globals, kernelGlobals []api.MutableGlobal
	det                    *detSys // a deterministic module's clocks and random source
	// fuel is the plugin's fuel counter (fuel.go).
	fuel api.MutableGlobal
	// boot is what a nondeterministic module's clocks and random source
	// read until the instance is live: its initialisation and prewarm see
	// the same time and bytes on every instance, at publish and ever
	// after, so none can hide a time bomb from the publish check.
	boot *detSys
	live bool
	// liveAt and bootNanos make the monotonic clock carry on from where
	// the boot clock left it.
	liveAt    time.Time
	bootNanos int64
	// shared: the instance's memories map the module's snapshot, so it
	// can be reset after a call instead of closed.
	shared  bool
	tainted atomic.Bool // set when a call leaves state a reset cannot put back
}

// instanceKey finds the running instance in a context.
type instanceKey struct{}

// initKey marks the context of an instance's initialisation.
type initKey struct{}

// sleep is the instance's WASI nanosleep: it ends early once the running
// call's time is up. Before the instance is live it only moves the boot
// clocks on.
func (i *instance) sleep(ns int64) {
	if !i.live {
		i.boot.wall += ns
		i.boot.nano += ns
		return
	}
	t := time.NewTimer(time.Duration(ns))
	defer t.Stop()
	var wake <-chan struct{}
	if w := i.wake.Load(); w != nil {
		wake = *w
	}
	select {
	case <-t.C:
	case <-wake:
	}
}

func (i *instance) close() { i.p.Close(context.Background()) }

// goLive switches a nondeterministic instance to the real clocks and
// random source.
func (i *instance) goLive() {
	if i.live || i.boot == nil {
		return
	}
	i.live, i.liveAt, i.bootNanos = true, time.Now(), i.boot.nano
}

func (i *instance) walltime() (int64, int32) {
	if !i.live {
		return i.boot.walltime()
	}
	now := time.Now()
	return now.Unix(), int32(now.Nanosecond())
}

func (i *instance) nanotime() int64 {
	if !i.live {
		return i.boot.nanotime()
	}
	return i.bootNanos + int64(time.Since(i.liveAt))
}

// Read is the instance's random source.
func (i *instance) Read(p []byte) (int, error) {
	if !i.live {
		return i.boot.Read(p)
	}
	return rand.Read(p)
}

// wakeAt makes the instance's sleeps end once ctx is done, until stop.
func (i *instance) wakeAt(ctx context.Context) (stop func()) {
	wake := make(chan struct{})
	i.wake.Store(&wake)
	stopWake := context.AfterFunc(ctx, func() { close(wake) })
	return func() {
		if !stopWake() {
			<-wake
		}
		i.wake.Store(nil)
	}
}

// Compile compiles wasm into a Module with our host functions linked in,
// and starts keeping fresh instances ready.
func (r *Runtime) Compile(ctx context.Context, wasm []byte, opts ModuleOptions) (*Module, error) {
	limits := opts.Limits.WithDefaults().Cap(r.max)
	if err := limits.validate(); err != nil {
		return nil, err
	}
	select {
	case r.compiling <- struct{}{}:
	case <-ctx.Done():
		return nil, abi.FromContext(ctx.Err())
	}
	defer func() { <-r.compiling }()
	m := &Module{limits: limits, opts: opts, logger: r.logger, done: make(chan struct{}), sessions: map[string]*list.Element{}}
	// Every module runs metered (fuel.go); one that cannot be is refused,
	// never run unmetered.
	metered, err := fuel.Instrument(wasm, refillImport, kernelCosts, configGetRename)
	if err != nil {
		return nil, abi.Wrap(abi.CodeInvalidPlugin, err, "compile")
	}
	m.meta = metered
	manifest := extism.Manifest{
		Wasm: []extism.Wasm{extism.WasmData{Data: metered.Wasm}},
		// HTTP stays disabled: zero response bytes and no allowed hosts.
		Memory: &extism.ManifestMemory{MaxPages: limits.MaxMemoryPages, MaxVarBytes: MaxVarBytes},
	}
	cfg := extism.PluginConfig{
		EnableWasi: true,
		// No WithCloseOnContextDone: it makes compiled code check in with
		// the host at every loop; fuel stops plugins instead.
		RuntimeConfig: wazero.NewRuntimeConfig().
			WithCompilationCache(r.cache),
	}
	compiled, err := extism.NewCompiledPlugin(experimental.WithFunctionListenerFactory(ctx, outputListeners{exports: metered.Exports}), manifest, cfg, m.hostFunctions())
	if err != nil {
		return nil, abi.Wrap(abi.CodeInvalidPlugin, err, "compile")
	}
	m.compiled = compiled
	m.idle = make(chan *instance, MaxIdle)
	size := opts.PoolSize
	if size == 0 {
		size = DefaultPoolSize
	}
	if size > 0 {
		m.pool = make(chan *instance, size)
		m.wg.Add(1)
		go m.fill()
	}
	return m, nil
}

// fill keeps the pool full, off the callers' path.
func (m *Module) fill() {
	defer m.wg.Done()
	for {
		inst, err := m.instantiate(context.Background())
		if err != nil {
			// A module that cannot be instantiated fails its calls with the
			// reason; stop pre-warming it.
			return
		}
		select {
		case m.pool <- inst:
		case <-m.done:
			inst.close()
			return
		}
	}
}

func (m *Module) instantiate(ctx context.Context) (*instance, error) {
	start := time.Now()
	b := &memoryBudget{limit: uint64(m.limits.MaxMemoryPages) * 65536}
	files := &noFiles{}
	mc := wazero.NewModuleConfig().WithFSConfig(wazero.NewFSConfig().WithFSMount(files, "/"))
	inst := &instance{budget: b, files: files}
	if m.opts.Nondeterministic {
		// The real clocks and random source once the instance is live; a
		// sleep ends early when the call's time is up.
		inst.boot = newDetSys()
		mc = mc.WithWalltime(inst.walltime, sys.ClockResolution(time.Microsecond)).
			WithNanotime(inst.nanotime, sys.ClockResolution(time.Nanosecond)).WithNanosleep(inst.sleep).WithRandSource(inst)
	} else {
		inst.det = newDetSys()
		mc = mc.WithWalltime(inst.det.walltime, sys.ClockResolution(time.Microsecond)).
			WithNanotime(inst.det.nanotime, sys.ClockResolution(time.Nanosecond)).WithRandSource(inst.det)
	}
	// The start function and the guest's initialisation share one budget,
	// a call's fuel and time, whoever asked for the instance.
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.limits.Timeout)
	defer cancel()
	mt := newMeter(ictx, m.limits.Fuel())
	ictx = context.WithValue(ictx, meterKey{}, mt)
	// The go-sdk's host functions refuse to run without a plugin in their
	// context, and a start function runs before there is one; the refill
	// uses none.
	ictx = context.WithValue(ictx, extism.PluginCtxKey("plugin"), (*extism.Plugin)(nil))
	p, err := m.compiled.Instance(experimental.WithMemoryAllocator(ictx, b.allocator()), extism.PluginInstanceConfig{ModuleConfig: mc})
	if err != nil {
		if stop := mt.stopped("the start function", m.limits); stop != nil {
			return nil, stop
		}
		if b.exceeded {
			return nil, abi.Errorf(abi.CodeMemoryLimit, "instantiate: needs more than %d pages", m.limits.MaxMemoryPages)
		}
		return nil, &abi.Error{Code: abi.CodeInvalidPlugin, Message: "instantiate: " + firstLine(err.Error()), Cause: err}
	}
	p.SetLogger(func(extism.LogLevel, string) {})
	inst.p = p
	if err := m.initialise(ictx, inst, mt); err != nil {
		inst.close()
		return nil, err
	}
	if err := m.share(inst); err != nil {
		inst.close()
		return nil, abi.Wrap(abi.CodeInternal, err, "instance")
	}
	inst.goLive()
	m.stats.instantiations.Add(1)
	m.stats.instantiateNanos.Add(int64(time.Since(start)))
	return inst, nil
}

// initialise runs the guest's own initialisation (a reactor's _initialize,
// hs_init), which the go-sdk otherwise runs inside the first call, by
// calling the do-nothing export the instrumentation adds. It runs outside
// any caller's call, on what is left of the start function's meter, so a
// call's fuel and output never depend on whether its instance was fresh.
func (m *Module) initialise(ctx context.Context, inst *instance, mt *meter) error {
	// The guest's initialisation sees what a call sees, as it would run in
	// the go-sdk's first call: the module's config, and host functions
	// that answer that no datanet is granted.
	inst.p.Config = m.opts.Config
	st := newCallState(&Env{Config: m.opts.Config}, m.limits, inst)
	stopWake := inst.wakeAt(ctx)
	ictx := context.WithValue(context.WithValue(context.WithValue(ctx, initKey{}, inst), instanceKey{}, inst), stateKey{}, st)
	_, _, err := inst.p.CallWithContext(ictx, fuel.InitName, nil)
	stopWake()
	if stop := mt.stopped("initialisation", m.limits); stop != nil {
		return stop
	}
	if inst.main == nil || inst.kern == nil || inst.fuel == nil {
		if err != nil {
			return &abi.Error{Code: abi.CodeInvalidPlugin, Message: "initialise: " + firstLine(err.Error()), Cause: err}
		}
		return abi.Errorf(abi.CodeInternal, "initialise: the plugin's modules were not seen")
	}
	if err != nil {
		if st.fatal != nil {
			return abi.Wrap(st.fatal.Code, st.fatal, "initialise")
		}
		if inst.budget.exceeded {
			return abi.Errorf(abi.CodeMemoryLimit, "initialisation needs more than %d pages", m.limits.MaxMemoryPages)
		}
		return &abi.Error{Code: abi.CodeInvalidPlugin, Message: "initialise: " + firstLine(err.Error()), Cause: err}
	}
	inst.kfns = newKernelFns(inst.kern)
	inst.exports = newFuncs(inst.main)
	if inst.exports.get(abi.ExportPrewarm) != nil {
		return m.prewarm(ctx, inst)
	}
	return nil
}

// prewarm runs the plugin's prewarm export (abi.ExportPrewarm) as a call
// with no input and no data, with the module's config and limits. A
// plugin whose prewarm fails does not run: it is refused at publish.
func (m *Module) prewarm(ctx context.Context, inst *instance) error {
	inst.p.Config = m.opts.Config
	st := newCallState(&Env{Config: m.opts.Config}, m.limits, inst)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.limits.Timeout)
	defer cancel()
	stopWake := inst.wakeAt(ctx)
	defer stopWake()
	mt := newMeter(ctx, m.limits.Fuel())
	mt.start(inst.fuel)
	ctx = context.WithValue(context.WithValue(context.WithValue(ctx, stateKey{}, st), instanceKey{}, inst), meterKey{}, mt)
	rc, _, err := inst.invoke(ctx, abi.ExportPrewarm, nil)
	if stop := mt.stopped("prewarm", m.limits); stop != nil {
		return stop
	}
	switch {
	case st.fatal != nil:
		return abi.Wrap(st.fatal.Code, st.fatal, "prewarm")
	case err != nil:
		return &abi.Error{Code: abi.CodeInvalidPlugin, Message: "prewarm: " + capText(firstLine(err.Error())), Cause: err}
	case rc != 0:
		return abi.Errorf(abi.CodeInvalidPlugin, "prewarm returned %d", rc)
	}
	return nil
}

// share makes inst a copy of the module's snapshot, or the snapshot
// itself if it is the first; if the module's instances cannot be reset,
// inst stays fresh and serves one call.
func (m *Module) share(inst *instance) error {
	m.snapMu.Lock()
	defer m.snapMu.Unlock()
	if m.snapOff != "" {
		return nil
	}
	var ok bool
	inst.globals, ok = mutableGlobals(inst.main, m.meta.Globals)
	why := ""
	switch {
	case !m.meta.Restorable:
		why = m.meta.Why
	case !ok:
		why = "its mutable globals are not exported"
	}
	// WASI state is each instance's own, left by its own initialisation
	// (the Go runtime sets its standard streams non-blocking, say); only
	// what a call changes afterwards cannot be reset.
	inst.tainted.Store(false)
	if why == "" {
		if inst.kernelGlobals, ok = mutableGlobals(inst.kern, kernelGlobals); !ok {
			why = "the Extism kernel's globals are not the known ones"
		}
	}
	if why == "" && m.snap == nil {
		s, err := take(inst)
		if err != nil {
			why = err.Error()
		} else {
			m.snap, inst.shared = s, true
			return nil
		}
	}
	if why != "" {
		m.snapOff = why
		m.logger.Info("plugin instances are not reset between calls: each call gets a fresh one", "reason", why)
		return nil
	}
	if err := m.snap.adopt(inst); err != nil {
		if errors.Is(err, errNotRestorable) {
			m.logger.Debug("instance does not match its module's snapshot; it serves one call", "err", err)
			return nil
		}
		return err // it may be partly mapped: it must not run
	}
	inst.shared = true
	return nil
}

// acquire returns an instance for a call: the session's own if reuse is
// on and it has one, else a pre-warmed fresh one, else a new one.
func (m *Module) acquire(ctx context.Context, session string) (*instance, error) {
	if m.opts.ReuseWithinSession && session != "" {
		m.sessMu.Lock()
		el := m.sessions[session]
		if el != nil {
			delete(m.sessions, session)
			m.sessLRU.Remove(el)
		}
		m.sessMu.Unlock()
		if el != nil {
			m.stats.reuses.Add(1)
			return el.Value.(*kept).inst, nil
		}
	}
	select {
	case inst, ok := <-m.idle:
		if ok {
			m.stats.resets.Add(1)
			return inst, nil
		}
	default:
	}
	select {
	case inst, ok := <-m.pool:
		if ok {
			m.stats.hits.Add(1)
			return inst, nil
		}
	default:
	}
	m.stats.misses.Add(1)
	return m.instantiate(ctx)
}

// release keeps a healthy instance for its session, or closes it.
// At most MaxSessions instances are kept; the least recently released goes
// first.
func (m *Module) release(inst *instance, name string, healthy bool) {
	if !healthy || !m.opts.ReuseWithinSession || name == "" {
		if healthy && inst.shared && m.reset(inst) {
			return
		}
		inst.close()
		return
	}
	m.sessMu.Lock()
	defer m.sessMu.Unlock()
	select {
	case <-m.done:
		inst.close() // the module is closing: keep nothing
		return
	default:
	}
	if old := m.sessions[name]; old != nil {
		// A concurrent call of the same session got there first.
		m.sessLRU.Remove(old)
		old.Value.(*kept).inst.close()
	}
	m.sessions[name] = m.sessLRU.PushBack(&kept{name: name, inst: inst})
	for m.sessLRU.Len() > MaxSessions {
		oldest := m.sessLRU.Remove(m.sessLRU.Front()).(*kept)
		delete(m.sessions, oldest.name)
		oldest.inst.close()
	}
}

// MaxIdle bounds the reset instances a module keeps.
const MaxIdle = 16

// reset puts inst back to the module's snapshot and keeps it for the next
// call, reporting whether it did.
func (m *Module) reset(inst *instance) bool {
	if m.snap.grown(inst) {
		m.stats.grows.Add(1)
	}
	if err := m.snap.reset(inst); err != nil {
		m.logger.Debug("instance closed rather than reset", "err", err)
		return false
	}
	m.sessMu.Lock()
	defer m.sessMu.Unlock()
	select {
	case <-m.done:
		return false // the module is closing: keep nothing
	default:
	}
	select {
	case m.idle <- inst:
		return true
	default:
		return false
	}
}

// Limits returns the limits the module runs under.
func (m *Module) Limits() Limits { return m.limits }

// Stats are a module's instance counters.
type Stats struct {
	Calls          uint64        // calls made
	Resets         uint64        // calls served by an instance reset to the snapshot
	PoolHits       uint64        // calls served by a pre-warmed instance
	PoolMisses     uint64        // calls that had to instantiate on the spot
	SessionReuses  uint64        // calls served by their session's instance
	Instantiations uint64        // instances created, pool and misses alike
	InstantiateAvg time.Duration // mean time to create one
	Sessions       int           // instances kept for sessions, at most MaxSessions
	// Grows counts the calls after which an instance's memory was larger
	// than the snapshot's: each such call grew its memory and the reset
	// shrank it back, so the next call grows it again.
	Grows uint64
}

// Stats returns the module's counters.
func (m *Module) Stats() Stats {
	s := Stats{
		Calls: m.stats.calls.Load(), Resets: m.stats.resets.Load(), PoolHits: m.stats.hits.Load(), PoolMisses: m.stats.misses.Load(),
		SessionReuses: m.stats.reuses.Load(), Instantiations: m.stats.instantiations.Load(), Grows: m.stats.grows.Load(),
	}
	m.sessMu.Lock()
	s.Sessions = m.sessLRU.Len()
	m.sessMu.Unlock()
	if s.Instantiations > 0 {
		s.InstantiateAvg = time.Duration(m.stats.instantiateNanos.Load() / int64(s.Instantiations))
	}
	return s
}

// Close frees the module and its instances. It is safe to call more than
// once, concurrently; calls in flight keep their instances until they end.
func (m *Module) Close(ctx context.Context) error {
	m.closeOne.Do(func() {
		m.sessMu.Lock()
		close(m.done)
		for m.sessLRU.Len() > 0 {
			s := m.sessLRU.Remove(m.sessLRU.Front()).(*kept)
			delete(m.sessions, s.name)
			s.inst.close()
		}
		m.sessMu.Unlock()
		// Calls in flight end (fuel and their deadlines bound them) and
		// reset or close their instances before anything is freed.
		m.calls.Lock()
		defer m.calls.Unlock()
		m.wg.Wait()
		if m.pool != nil {
			close(m.pool)
			for inst := range m.pool {
				inst.close()
			}
		}
		// reset adds to idle only under sessMu, and not once done is
		// closed.
		close(m.idle)
		for inst := range m.idle {
			inst.close()
		}
		m.closeErr = m.compiled.Close(ctx)
		if m.snap != nil {
			m.snap.close()
		}
	})
	return m.closeErr
}

// Call runs export with input and returns its output. env gives the plugin
// its data; nil means no data at all. The instance of a failed call is
// always discarded.
func (m *Module) Call(ctx context.Context, export string, input []byte, env *Env) ([]byte, error) {
	if len(input) > m.limits.MaxInputBytes {
		return nil, abi.Errorf(abi.CodeInputTooLarge, "input is %d bytes, limit %d", len(input), m.limits.MaxInputBytes)
	}
	if env == nil {
		env = &Env{}
	}
	m.calls.RLock()
	defer m.calls.RUnlock()
	select {
	case <-m.done:
		return nil, abi.Errorf(abi.CodeUnavailable, "module is closed")
	default:
	}
	ctx, cancel := context.WithTimeout(ctx, m.limits.Timeout)
	defer cancel()
	inst, err := m.acquire(ctx, env.Session)
	if err != nil {
		return nil, err
	}
	out, err := m.call(ctx, inst, export, input, env)
	m.release(inst, env.Session, err == nil)
	return out, err
}

func (m *Module) call(ctx context.Context, inst *instance, export string, input []byte, env *Env) ([]byte, error) {
	if inst.exports.get(export) == nil {
		return nil, abi.Errorf(abi.CodeInvalidPlugin, "plugin has no export %q", export)
	}
	inst.p.Config = env.Config
	inst.budget.exceeded = false
	inst.files.take()
	st := newCallState(env, m.limits, inst)
	mt := newMeter(ctx, m.limits.Fuel())
	mt.start(inst.fuel)
	ctx = context.WithValue(context.WithValue(context.WithValue(ctx, stateKey{}, st), instanceKey{}, inst), meterKey{}, mt)
	m.stats.calls.Add(1)
	stopWake := inst.wakeAt(ctx)
	rc, out, err := inst.invoke(ctx, export, input)
	stopWake()
	env.FuelUsed = mt.used()
	if err != nil {
		if stop := mt.stopped("plugin", m.limits); stop != nil {
			if stop.Code == abi.CodeCanceled {
				return nil, abi.Wrap(abi.CodeCanceled, context.Cause(ctx), "call canceled")
			}
			return nil, stop
		}
	}
	switch {
	case st.fatal != nil:
		return nil, st.fatal
	case err != nil:
		return nil, m.classify(ctx, inst, rc, err)
	case rc != 0 && inst.files.take() != "":
		return nil, abi.Errorf(abi.CodeFileDenied, "plugin failed after trying to open a file: plugins have no file system")
	case rc != 0:
		// Failed without setting an error. Its output is not quoted: it may
		// hold records the caller has not paid for.
		return nil, abi.Errorf(abi.CodePluginError, "plugin returned %d with no error message", rc)
	case len(out) > m.limits.MaxOutputBytes:
		return nil, abi.Errorf(abi.CodeOutputTooLarge, "output is %d bytes, limit %d", len(out), m.limits.MaxOutputBytes)
	case st.outputSet && uint64(len(out)) != st.outputSetLen:
		return nil, abi.Errorf(abi.CodeBadPluginOutput, "plugin set its output to %d bytes the kernel could not hold (a block that does not exist)", st.outputSetLen)
	}
	return out, nil
}

// classify maps a failed call to its abi code.
func (m *Module) classify(ctx context.Context, inst *instance, rc uint32, err error) error {
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case sys.ExitCodeDeadlineExceeded:
			return abi.Errorf(abi.CodeTimeout, "plugin ran past its %v limit", m.limits.Timeout)
		case sys.ExitCodeContextCanceled:
			return abi.Wrap(abi.CodeCanceled, context.Cause(ctx), "call canceled")
		}
	}
	if ctx.Err() != nil {
		return abi.Errorf(abi.CodeTimeout, "plugin ran past its %v limit", m.limits.Timeout)
	}
	if inst.budget.exceeded {
		return abi.Errorf(abi.CodeMemoryLimit, "plugin tried to grow past %d pages of memory", m.limits.MaxMemoryPages)
	}
	if exit != nil {
		return abi.Errorf(abi.CodeExit, "plugin exited with code %d", exit.ExitCode())
	}
	msg := firstLine(err.Error())
	if strings.HasPrefix(msg, "HTTP request to ") && strings.Contains(msg, " is not allowed") {
		return abi.Errorf(abi.CodeNetworkDenied, "plugin tried an HTTP request: plugins have no network")
	}
	if inst.files.take() != "" {
		return abi.Errorf(abi.CodeFileDenied, "plugin failed after trying to open a file: plugins have no file system")
	}
	if strings.Contains(msg, "stack overflow") {
		return abi.Errorf(abi.CodeStackOverflow, "%s", msg)
	}
	if pm := pluginError(inst.p); pm != "" {
		return abi.Errorf(abi.CodePluginError, "%s (rc %d)", capText(pm), rc)
	}
	return abi.Errorf(abi.CodeTrap, "%s", msg)
}

func pluginError(p *extism.Plugin) (msg string) {
	defer func() {
		if recover() != nil {
			msg = ""
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return p.GetErrorWithContext(ctx)
}

// MaxErrorText bounds the bytes of a plugin's own error message that an
// error carries: enough to say what went wrong, too few to carry data out.
const MaxErrorText = 256

func capText(s string) string {
	if len(s) <= MaxErrorText {
		return s
	}
	s = s[:MaxErrorText]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// Check compiles wasm and instantiates it once with Tollgate's host
// functions, as a call would, so a module that cannot run is refused when
// it is published rather than at its first call. A module importing
// something the host does not provide is refused with CodeInvalidPlugin
// naming the import.
func (r *Runtime) Check(ctx context.Context, wasm []byte, opts ModuleOptions) error {
	opts.PoolSize = -1
	m, err := r.Compile(ctx, wasm, opts)
	if err != nil {
		return err
	}
	defer m.Close(ctx)
	inst, err := m.instantiate(ctx)
	if err != nil {
		if missing := r.unresolvedImports(ctx, wasm); len(missing) > 0 {
			return abi.Errorf(abi.CodeInvalidPlugin, "imports the host does not provide: %s", strings.Join(missing, ", "))
		}
		return err
	}
	inst.close()
	return nil
}

// unresolvedImports lists the module's function imports from modules the
// host does not provide.
func (r *Runtime) unresolvedImports(ctx context.Context, wasm []byte) []string {
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	cm, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		return nil
	}
	provided := map[string]bool{"extism:host/env": true, "extism:host/user": true, "wasi_snapshot_preview1": true}
	var out []string
	for _, f := range cm.ImportedFunctions() {
		if mod, name, ok := f.Import(); ok && !provided[mod] {
			out = append(out, mod+"."+name)
		}
	}
	return out
}
