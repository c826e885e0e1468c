package metrics

import (
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/ledger"
)

// BenchmarkMetricsPerInvocation measures what /metrics adds to one
// invocation: the in-flight gauge, the outcome counter, the latency
// histogram and one metered-read counter per record read (two here).
//
//	go test ./metrics -run '^$' -bench MetricsPerInvocation
func BenchmarkMetricsPerInvocation(b *testing.B) {
	m := New()
	rc := &ledger.Receipt{Agent: "acme/qa@1.0.0", Accesses: []ledger.Access{{Datanet: "facts"}, {Datanet: "facts"}}}
	start := time.Now()
	for b.Loop() {
		m.Running(1)
		m.Running(-1)
		m.Invoked(start, rc, false, nil)
	}
}
