package runtime

import (
	"errors"
	"fmt"
	"maps"
	"math/rand"
	"slices"
	"sync"

	"github.com/tetratelabs/wazero/api"
)

// An instance's whole state, for a module fuel.Instrument found
// restorable, is: its linear memories (the plugin's and the Extism
// kernel's), the plugin's mutable globals (exported by the
// instrumentation), the kernel's one mutable global, the Extism vars the
// go-sdk keeps in Go, and, for deterministic modules, the fake clocks and
// random source. A module's first instance, once initialised, is
// snapshotted; every instance after a call is reset to that snapshot, and
// every new instance is made a copy of it. So no call sees what another
// left, and no call pays for instantiation or the guest's start-up.
//
// What a reset cannot put back ends the instance instead: a call that grew
// a memory, that made a WASI call changing file-descriptor state, or that
// failed.

// kernelGlobals are the Extism kernel's mutable globals (an externref it
// exports; TestKernelGlobalsAreKnown holds this list to the kernel).
var kernelGlobals = []string{"extism_context"}

// snapshot is a module's state after initialisation.
type snapshot struct {
	images  []*image // one per memory, in creation order
	globals []uint64 // the plugin's mutable globals, in fuel.Module.Globals order
	kernel  []uint64 // kernelGlobals
	vars    map[string][]byte
	det     detState
}

// errNotRestorable says an instance cannot take the snapshot's state; it
// serves one call and is closed.
var errNotRestorable = errors.New("instance does not match the snapshot")

// take snapshots inst and maps its memories over the snapshot, making it
// the first instance that shares it.
func take(inst *instance) (*snapshot, error) {
	s := &snapshot{vars: maps.Clone(inst.p.Var)}
	findMemories(inst)
	for i, mem := range inst.budget.mems {
		if mem.mapped == nil || len(mem.buf) == 0 {
			s.close()
			return nil, errors.New("memory is not mapped from the kernel")
		}
		if mem.api == nil {
			s.close()
			return nil, fmt.Errorf("memory %d belongs to no module the runtime knows", i)
		}
		im, err := newImage(mem.buf)
		if err != nil {
			s.close()
			return nil, err
		}
		s.images = append(s.images, im)
	}
	for _, g := range inst.globals {
		s.globals = append(s.globals, g.Get())
	}
	for _, g := range inst.kernelGlobals {
		s.kernel = append(s.kernel, g.Get())
	}
	if inst.det != nil {
		s.det = inst.det.state()
	}
	for i, mem := range inst.budget.mems {
		if err := s.images[i].mapOver(mem.buf); err != nil {
			s.close()
			return nil, err
		}
	}
	return s, nil
}

// adopt makes a new instance a copy of the snapshot. The instance's own
// initialisation ran the same code; its memories must have the same sizes
// and its kernel the same references.
func (s *snapshot) adopt(inst *instance) error {
	findMemories(inst)
	if len(inst.budget.mems) != len(s.images) || len(inst.globals) != len(s.globals) ||
		len(inst.kernelGlobals) != len(s.kernel) {
		return errNotRestorable
	}
	for i, mem := range inst.budget.mems {
		if mem.mapped == nil || mem.api == nil || len(mem.buf) != s.images[i].size {
			return fmt.Errorf("%w: memory %d is %d bytes, snapshot %d", errNotRestorable, i, len(mem.buf), s.images[i].size)
		}
	}
	for i, g := range inst.kernelGlobals {
		if g.Get() != s.kernel[i] {
			return fmt.Errorf("%w: kernel global %s differs", errNotRestorable, kernelGlobals[i])
		}
	}
	for i, mem := range inst.budget.mems {
		if err := s.images[i].mapOver(mem.buf); err != nil {
			return err
		}
	}
	s.restoreRest(inst)
	return nil
}

// grown reports whether one of inst's memories is larger than the
// snapshot's.
func (s *snapshot) grown(inst *instance) bool {
	for i, mem := range inst.budget.mems {
		if i < len(s.images) && len(mem.buf) > s.images[i].size {
			return true
		}
	}
	return false
}

// reset puts inst, after a call, back to the snapshot; an error means it
// cannot be and must be closed.
func (s *snapshot) reset(inst *instance) error {
	if inst.tainted.Load() {
		return fmt.Errorf("%w: the call changed state a reset cannot put back", errNotRestorable)
	}
	for i, mem := range inst.budget.mems {
		size := s.images[i].size
		// Put back what the call wrote: the snapshot's pages read as the
		// snapshot again, and any the call grew read as zero, as grown
		// pages must.
		if err := s.images[i].reset(mem.buf); err != nil {
			return err
		}
		if len(mem.buf) > size {
			if err := clearGrown(mem.buf[size:]); err != nil {
				return err
			}
			if !mem.shrink(uint64(size)) {
				return fmt.Errorf("%w: memory %d grew and could not be shrunk back", errNotRestorable, i)
			}
		}
	}
	s.restoreRest(inst)
	return nil
}

func (s *snapshot) restoreRest(inst *instance) {
	for i, g := range inst.globals {
		g.Set(s.globals[i])
	}
	for i, g := range inst.kernelGlobals {
		g.Set(s.kernel[i])
	}
	inst.p.Var = maps.Clone(s.vars)
	if inst.p.Var == nil {
		inst.p.Var = map[string][]byte{}
	}
	if inst.det != nil {
		inst.det.restore(s.det)
	}
	inst.budget.exceeded = false
	inst.files.take()
}

func (s *snapshot) close() {
	for _, im := range s.images {
		im.close()
	}
}

// findMemories ties each of the instance's memories to the module that
// owns it, by where its bytes live.
func findMemories(inst *instance) {
	for _, mod := range []api.Module{inst.main, inst.kern} {
		am, view := memoryOf(mod)
		if view == nil {
			continue
		}
		for _, mem := range inst.budget.mems {
			if len(mem.buf) > 0 && &mem.buf[0] == &view[0] {
				mem.api = am
			}
		}
	}
}

// memoryOf returns mod's memory and its first byte, or nils if it has none.
// wazero returns a module without memory as a nil pointer in a non-nil
// interface.
func memoryOf(mod api.Module) (am api.Memory, first []byte) {
	defer func() {
		if recover() != nil {
			am, first = nil, nil
		}
	}()
	am = mod.Memory()
	if am == nil || am.Size() == 0 {
		return nil, nil
	}
	first, _ = am.Read(0, 1)
	return am, first
}

// mutableGlobals looks up the named exports of mod as mutable globals.
func mutableGlobals(mod api.Module, names []string) ([]api.MutableGlobal, bool) {
	out := make([]api.MutableGlobal, 0, len(names))
	for _, n := range names {
		g, ok := mod.ExportedGlobal(n).(api.MutableGlobal)
		if !ok {
			return nil, false
		}
		out = append(out, g)
	}
	return out, true
}

// detSys is a deterministic module's clocks and random source: wazero's
// fakes (a wall clock from 2022-01-01 and a monotonic clock from zero,
// each advancing 1 ms per reading; the bytes of math/rand seeded with 42),
// made resettable so a reset instance reads them exactly as a fresh one
// would.
type detSys struct {
	wall, nano int64
	read       int        // bytes of the random stream read so far
	src        *rand.Rand // past the stream's cached prefix only
}

type detState struct {
	wall, nano int64
	read       int
}

const (
	fakeEpochNanos = 1640995200000 * 1_000_000
	fakeTick       = 1_000_000
	fakeSeed       = 42
)

// fakeRandPrefix is the start of the fake random stream, computed once:
// seeding math/rand costs more than most calls that read it.
var fakeRandPrefix = sync.OnceValue(func() []byte {
	b := make([]byte, 64<<10)
	rand.New(rand.NewSource(fakeSeed)).Read(b)
	return b
})

func newDetSys() *detSys {
	d := &detSys{}
	d.restore(detState{wall: fakeEpochNanos - fakeTick, nano: -fakeTick})
	return d
}

func (d *detSys) walltime() (int64, int32) {
	d.wall += fakeTick
	return d.wall / 1e9, int32(d.wall % 1e9)
}

func (d *detSys) nanotime() int64 {
	d.nano += fakeTick
	return d.nano
}

func (d *detSys) Read(p []byte) (int, error) {
	prefix := fakeRandPrefix()
	if d.src == nil && d.read+len(p) <= len(prefix) {
		copy(p, prefix[d.read:])
		d.read += len(p)
		return len(p), nil
	}
	if d.src == nil {
		d.src = rand.New(rand.NewSource(fakeSeed))
		d.src.Read(make([]byte, d.read))
	}
	n, err := d.src.Read(p)
	d.read += n
	return n, err
}

func (d *detSys) state() detState { return detState{wall: d.wall, nano: d.nano, read: d.read} }

func (d *detSys) restore(s detState) {
	d.wall, d.nano = s.wall, s.nano
	if d.read != s.read {
		d.read, d.src = s.read, nil
	}
}

// statelessWASI are the WASI functions that leave no state in an instance
// a reset does not put back. Any other WASI call (opening, closing,
// renumbering or seeking a descriptor, reading a directory) taints the
// instance, which is then closed after its call.
var statelessWASI = []string{
	"args_get", "args_sizes_get", "environ_get", "environ_sizes_get",
	"clock_res_get", "clock_time_get", "random_get", "sched_yield", "poll_oneoff",
	"fd_write", "fd_read", "fd_fdstat_get", "fd_filestat_get", "fd_prestat_get", "fd_prestat_dir_name",
}

func isStatelessWASI(name string) bool { return slices.Contains(statelessWASI, name) }
