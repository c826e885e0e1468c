package host_test

import (
	"bytes"
	"context"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/tollgate-dev/tollgate/host"
)

// A CPU profile of a node's invokes says which stage each sample was
// spent in (stage=agent, attribution, commit, and write for the ledger's
// writer), wasm included, so the cost of a call splits by stage from any
// profile. Invokes run until each of those stages has a sample.
func TestProfileSamplesCarryTheirStage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	caller, _ := e.fund(t, 1<<40)
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		t.Skipf("a CPU profile is already running: %v", err)
	}
	want := []string{"agent", "attribution", "commit", "write"}
	seen := map[string]int{}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		for range 200 {
			if _, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: "acme/qa@1.0.0", Input: []byte("Why is the sky blue?")}); err != nil {
				pprof.StopCPUProfile()
				t.Fatal(err)
			}
		}
		pprof.StopCPUProfile()
		p, err := profile.Parse(&buf)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range p.Sample {
			for _, v := range s.Label["stage"] {
				seen[v]++
			}
		}
		missing := false
		for _, s := range want {
			missing = missing || seen[s] == 0
		}
		if !missing {
			t.Logf("samples by stage: %v", seen)
			return
		}
		buf.Reset()
		if err := pprof.StartCPUProfile(&buf); err != nil {
			t.Fatal(err)
		}
	}
	pprof.StopCPUProfile()
	t.Fatalf("after a minute of invokes, samples by stage: %v; want some in each of %v", seen, want)
}
