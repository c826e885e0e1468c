// Package runtime runs Tollgate plugins: WebAssembly modules built with any
// Extism PDK, executed by wazero through the extism go-sdk.
//
// A [Runtime] compiles modules into [Module]s; a Module's [Module.Call] runs one
// export in a fresh instance under [Limits] (memory pages, wall time, input and
// output bytes, host calls, records read) and gives the plugin the host
// functions of package abi. Every record a host function returns passes
// through the call's [Env.Meter] before the plugin sees it, and a datanet
// outside [Env.Grants] gets an error envelope, never data.
//
// Failures map to the codes of package abi: a plugin that runs too long ends
// with [abi.CodeTimeout], a trap with [abi.CodeTrap], and so on. The instance
// of a failed call is discarded; the Module goes on serving.
package runtime
