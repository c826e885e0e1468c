// Package examples holds example plugins a newcomer copies: agents under
// agents/, attribution plugins under attribution/. Each is a Go program built
// to wasip1 with .ci/build-wasm; this package embeds the built modules so the
// demo needs no build step of its own.
package examples

import _ "embed"

// QA is the example question-answering agent (agents/qa), built.
//
//go:embed agents/qa/qa.wasm
var QA []byte
