// Package examples holds example plugins a newcomer copies: agents under
// agents/ (qa in Go, qa-as in AssemblyScript, knn a nearest-neighbour
// classifier, rag which answers with a model), attribution plugins under attribution/ (position, and
// knnshapley, which pays knn's records their exact Shapley values; their
// shared code is package knn). The Go ones are built to wasip1 with
// .ci/build-wasm and committed; this package embeds the example agents so the
// demo needs no build step of its own.
package examples

import _ "embed"

// RAG is the example agent that answers with a model (agents/rag), built.
//
//go:embed agents/rag/rag.wasm
var RAG []byte

// QA is the example question-answering agent (agents/qa), built.
//
//go:embed agents/qa/qa.wasm
var QA []byte
