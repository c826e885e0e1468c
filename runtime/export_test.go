package runtime

// KernelGlobals is the list of the Extism kernel's mutable globals the
// runtime resets.
var KernelGlobals = kernelGlobals
