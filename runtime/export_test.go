package runtime

// KernelGlobals is the list of the Extism kernel's mutable globals the
// runtime resets.
var KernelGlobals = kernelGlobals

// HoldCompileSlots takes every compilation slot until release.
func (r *Runtime) HoldCompileSlots() (release func()) {
	n := cap(r.compiling)
	for range n {
		r.compiling <- struct{}{}
	}
	return func() {
		for range n {
			<-r.compiling
		}
	}
}
