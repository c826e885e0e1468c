package host

import (
	"context"
	"runtime/pprof"
)

// An invoke's stages, as the CPU profile labels them (stage=...): what
// a call costs each, wasm included, is then read from any profile of a
// node under load, e.g.
//
//	go tool pprof -tags cpu.prof
//	go tool pprof -top -tagfocus stage=attribution cpu.prof
//
// Samples with no stage are the HTTP and Connect edge, the ledger's disk
// writes and the garbage collector.
const (
	stageAdmit       = "admit"       // the request's agent, grants, price and idempotency
	stageReserve     = "reserve"     // holding the price in the caller's credit
	stageAgent       = "agent"       // the agent plugin, with the records it reads
	stageAttribution = "attribution" // the attribution plugin
	stageSplit       = "split"       // the bill: the price and fees split into postings
	stageCommit      = "commit"      // signing the receipt, and waiting on the group commit
)

// stageLabels holds one labelled context per stage, made once: labelling a
// goroutine then allocates nothing.
var stageLabels = func() map[string]context.Context {
	m := map[string]context.Context{}
	for _, s := range []string{stageAdmit, stageReserve, stageAgent, stageAttribution, stageSplit, stageCommit} {
		m[s] = pprof.WithLabels(context.Background(), pprof.Labels("stage", s))
	}
	return m
}()

// enter labels the calling goroutine's CPU samples with stage s.
func enter(s string) { pprof.SetGoroutineLabels(stageLabels[s]) }

// leave gives the goroutine back the labels ctx carries (none, for a
// request's).
func leave(ctx context.Context) { pprof.SetGoroutineLabels(ctx) }
