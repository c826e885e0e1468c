package host_test

import (
	"context"
	"fmt"
	goruntime "runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/host"
)

// BenchmarkInvoke measures the engine alone on real components (Badger,
// the embedded chain's domain, the example agent and its ngram
// attribution): every stage of a durable invoke but HTTP. Besides time
// per op it reports the process's CPU time per invoke (cpu-µs/op), which
// a busy machine disturbs less than throughput, and how many invokes share
// one group commit (invokes/batch). With -cpuprofile, the
// profile splits an invoke by stage: host.(*Host).admit, ledger
// Reserve, runtime (*Module).Call (the agent), host.(*Host).attribute,
// rules Bill.Postings, ledger (*Receipt).Sign and (*Ledger).Commit.
//
//	go test ./host -run '^$' -bench Invoke -benchtime 3000x -cpuprofile cpu.out
//	go tool pprof -top -cum host.test cpu.out
func BenchmarkInvoke(b *testing.B) {
	for _, callers := range []int{1, 64} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			e := newEnv(b)
			ctx := context.Background()
			addrs := make([]string, callers)
			for i := range addrs {
				addrs[i], _ = e.fund(b, 1<<40)
			}
			// Compile and warm the agent and its attribution first.
			if _, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: addrs[0], Agent: "acme/qa@1.0.0", Input: []byte("Why is the sky blue?")}); err != nil {
				b.Fatal(err)
			}
			var next atomic.Int64
			b.ResetTimer()
			batches0 := e.led.Batches()
			cpu0 := cpuTime()
			start := time.Now()
			if callers == 1 {
				for b.Loop() {
					if _, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: addrs[0], Agent: "acme/qa@1.0.0", Input: []byte("Why is the sky blue?")}); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				// RunParallel runs GOMAXPROCS×parallelism goroutines; each
				// takes a caller of its own.
				b.SetParallelism(max(1, callers/goruntime.GOMAXPROCS(0)))
				b.RunParallel(func(pb *testing.PB) {
					caller := addrs[int(next.Add(1)-1)%len(addrs)]
					for pb.Next() {
						if _, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: "acme/qa@1.0.0", Input: []byte("Why is the sky blue?")}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "invokes/s")
			b.ReportMetric(float64(b.N)/float64(max(1, e.led.Batches()-batches0)), "invokes/batch")
		})
	}
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
