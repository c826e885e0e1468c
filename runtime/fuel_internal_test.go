package runtime

import (
	"context"
	"testing"

	"github.com/tollgate-dev/tollgate/abi"
)

// The refill gives fuel only to a counter the instrumentation's charge left
// below zero: a plugin that reached it with fuel in hand, or asking for a
// huge amount, is stopped and given nothing.
func TestRefillCannotBeForged(t *testing.T) {
	for _, cur := range []int64{0, 1, 1 << 62} {
		mt := newMeter(context.Background(), 1_000_000)
		func() {
			defer func() {
				if e, ok := recover().(*abi.Error); !ok || e.Code != abi.CodeTrap {
					t.Errorf("refill(%d): %v, want a %s panic", cur, e, abi.CodeTrap)
				}
			}()
			mt.refill(cur)
		}()
		if mt.reserve != 1_000_000 {
			t.Errorf("refill(%d) moved the reserve to %d", cur, mt.reserve)
		}
	}
	mt := newMeter(context.Background(), 3*FuelSlice)
	if got := mt.refill(-10); got != FuelSlice || mt.reserve != 2*FuelSlice-10 {
		t.Fatalf("refill(-10) = %d, reserve %d", got, mt.reserve)
	}
}
