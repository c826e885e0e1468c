// Package plugins holds the plugins Tollgate ships, as sources (Go built to
// wasip1, or AssemblyScript) in one folder each, and the reproducible .wasm
// built from them, which this package embeds. `.ci/build-wasm` rebuilds
// them; CI checks that the rebuild gives the committed bytes.
package plugins

import _ "embed"

// Builtin is a plugin the host publishes, signed by the operator, at start.
type Builtin struct {
	Name    string
	Version string
	Kind    string
	// Methods are the methods the plugin names in receipts, declared in
	// its manifest.
	Methods []string
	Wasm    []byte
}

var (
	//go:embed access/access.wasm
	accessWasm []byte
	//go:embed ngram/ngram.wasm
	ngramWasm []byte
	//go:embed ngram-as/ngram-as.wasm
	ngramASWasm []byte
)

// Access weights the records an agent read by the bytes read.
func Access() Builtin {
	return Builtin{Name: "builtin/access", Version: "1.0.0", Kind: "attribution", Methods: []string{"access-bytes/v1"}, Wasm: accessWasm}
}

// ngramMethods are the ngram rule's: spans found, or none and bytes read.
var ngramMethods = []string{"ngram/v1", "ngram/v1:access-bytes"}

// Ngram traces the output to the records whose text it repeats verbatim
// (see ngram/main.go for the rule). The host's corpus_match answers it
// from the records the agent read in the call only, so it credits what the
// caller paid for (RATIONALE.md, "What attribution may read and say").
func Ngram() Builtin {
	return Builtin{Name: "builtin/ngram", Version: "1.0.0", Kind: "attribution", Methods: ngramMethods, Wasm: ngramWasm}
}

// NgramFast is the same rule as [Ngram] in AssemblyScript (ngram-as/):
// a 24 KB module with no language runtime to start, so a fresh instance
// per call costs microseconds rather than milliseconds. It is the default
// attribution plugin; the Go version stays published, so receipts that
// name it are re-run with it.
func NgramFast() Builtin {
	return Builtin{Name: "builtin/ngram", Version: "1.1.0", Kind: "attribution", Methods: ngramMethods, Wasm: ngramASWasm}
}

// All lists the built-in plugins.
func All() []Builtin { return []Builtin{Access(), Ngram(), NgramFast()} }
