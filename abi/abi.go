// Package abi is the contract between the Tollgate host and the WebAssembly
// plugins it runs: the names of exports and host functions, the JSON envelopes
// that cross the boundary, and the closed set of error [Code]s.
//
// It imports nothing but the standard library, so it compiles both into the
// host and into wasip1 plugins. Go plugin authors use [abi/guest] on top of it;
// plugins in other languages exchange the same JSON through Extism memory.
//
// Host functions live in the Extism namespace [HostNamespace]. Each takes one
// i64 Extism memory offset holding a JSON request and returns one i64 offset
// holding a JSON response envelope: {"records":[...]} on success or
// {"error":{"code":"...","message":"..."}} on failure. A call outside the
// plugin's grants returns an error envelope, never data. [FnDatanetSearch]
// and [FnDatanetGet] also take the binary encoding of package abi/wire,
// and answer in it.
package abi

// Version is the plugin ABI version this package describes.
const Version = 1

// Export names.
const (
	// ExportInvoke is the default function an agent exports: raw bytes in,
	// raw bytes out. A manifest may name another export.
	ExportInvoke = "invoke"
	// ExportAttribute is the function every attribution plugin exports; it
	// takes an [AttributeRequest] and returns an [AttributeResponse].
	ExportAttribute = "attribute"
	// ExportPrewarm, if a plugin exports it, runs once on each new
	// instance, after the plugin's own initialisation and before the state
	// every call starts from is saved. It takes no input and sees no
	// config and no data (host functions answer that nothing is granted);
	// its output is discarded. A plugin uses it to run its usual path over
	// canned input, so lazily built state (a Go program's reflection
	// caches, say) is built once rather than in every call. Prewarm must
	// not depend on anything a caller supplies: every caller starts from
	// what it leaves.
	ExportPrewarm = "prewarm"
)

// Host function names, all in namespace [HostNamespace].
const (
	HostNamespace = "extism:host/user"

	// FnDatanetSearch takes a [SearchRequest] and returns [RecordsResponse].
	FnDatanetSearch = "datanet_search"
	// FnDatanetGet takes a [GetRequest] and returns [RecordsResponse] with one record.
	FnDatanetGet = "datanet_get"
	// FnCorpusMatch takes a [MatchRequest] and returns [MatchResponse]. Only
	// attribution plugins may call it.
	FnCorpusMatch = "corpus_match"
	// FnModelGenerate takes a [GenerateRequest] and returns
	// [GenerateResponse]. Only agents granted the model may call it; the
	// tokens it generates are charged to the caller and pay the model's
	// publisher and the records it was trained on.
	FnModelGenerate = "model_generate"
)

// Plugin kinds a manifest may declare.
const (
	KindAgent       = "agent"
	KindAttribution = "attribution"
	// KindModel is a model served by the host: a registry entry with no
	// module, called by agents through [FnModelGenerate].
	KindModel = "model"
)
