package host

import (
	"context"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/runtime"
)

// Past MaxRunning invocations, the next waits for a turn, and gives up
// with the caller's deadline, having run and charged nothing.
func TestInvocationsWaitForATurn(t *testing.T) {
	ctx := context.Background()
	op, _ := crypto.GenerateKey()
	reg, err := registry.Open("", registry.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	led, err := ledger.Open("", ledger.Options{InMemory: true, Signer: op})
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	rt, err := runtime.New(runtime.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	h, err := New(Config{Registry: reg, Ledger: led, Runtime: rt, Operator: op, MaxRunning: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	if cap(h.running) != 2 {
		t.Fatalf("%d slots, want 2", cap(h.running))
	}
	h.running <- struct{}{}
	h.running <- struct{}{} // both taken
	// The clock starts before the deadline is set, so the wait measured
	// is never shorter than the deadline.
	start := time.Now()
	wait, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := h.turn(wait); abi.CodeOf(err) != abi.CodeDeadline || time.Since(start) < 100*time.Millisecond {
		t.Fatalf("a call with no turn: %v after %v", err, time.Since(start))
	}
	<-h.running // a turn frees up: the next call takes it
	tn, err := h.turn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Waiting away from it frees the turn for another call, and takes it
	// back after.
	tn.away(ctx, func() {
		if len(h.running) != 1 {
			t.Errorf("%d turns taken while a call waits away from its own, want 1", len(h.running))
		}
	})
	if len(h.running) != 2 {
		t.Fatalf("%d turns taken after the wait, want 2", len(h.running))
	}
	tn.done()
	tn.done() // a turn is given back once however often done is called
	if len(h.running) != 1 {
		t.Fatalf("%d turns taken, want 1", len(h.running))
	}
}
