package runtime

import (
	"fmt"
	"time"
)

// Default limits, used for any zero field of [Limits].
const (
	DefaultMaxMemoryPages = 512 // 32 MiB of linear memory per module
	DefaultTimeout        = 10 * time.Second
	DefaultMaxInputBytes  = 1 << 20
	DefaultMaxOutputBytes = 1 << 20
	DefaultMaxHostCalls   = 1024
	DefaultMaxRecords     = 1024
)

// Operator maxima, used for any zero field of [Config.Max]: no manifest may
// ask for more.
const (
	MaxMemoryPages = 4096 // 256 MiB
	MaxTimeout     = time.Minute
	MaxInputBytes  = 16 << 20
	MaxOutputBytes = 16 << 20
	MaxHostCalls   = 100_000
	MaxRecords     = 100_000
)

// FuelPerMillisecond is the fuel a call gets per millisecond of its time
// limit: about what a plugin spends in that time on this kind of machine,
// so a loop that never ends runs out of fuel near its time limit, at the
// same instruction on every run (the time limit remains as a backstop,
// read each time the plugin asks for its next slice of fuel).
// An instance's start function and initialisation share one call's fuel.
const FuelPerMillisecond = 2_000_000

// Limits bound one call of a plugin. The zero value of a field means its
// default; [Limits.Cap] lets an operator bound what a manifest asks for.
type Limits struct {
	MaxMemoryPages uint32        // 64 KiB wasm pages per module
	Timeout        time.Duration // wall time per call
	MaxInputBytes  int
	MaxOutputBytes int
	MaxHostCalls   int // host function calls per call
	MaxRecords     int // records returned by host functions per call
}

// Fuel is the fuel one call gets.
func (l Limits) Fuel() int64 { return int64(l.Timeout/time.Millisecond) * FuelPerMillisecond }

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	return l.orElse(Limits{
		MaxMemoryPages: DefaultMaxMemoryPages, Timeout: DefaultTimeout, MaxInputBytes: DefaultMaxInputBytes,
		MaxOutputBytes: DefaultMaxOutputBytes, MaxHostCalls: DefaultMaxHostCalls, MaxRecords: DefaultMaxRecords,
	})
}

func (l Limits) withMaxDefaults() Limits {
	return l.orElse(Limits{
		MaxMemoryPages: MaxMemoryPages, Timeout: MaxTimeout, MaxInputBytes: MaxInputBytes,
		MaxOutputBytes: MaxOutputBytes, MaxHostCalls: MaxHostCalls, MaxRecords: MaxRecords,
	})
}

// orElse returns l with each zero field taken from d.
func (l Limits) orElse(d Limits) Limits {
	if l.MaxMemoryPages == 0 {
		l.MaxMemoryPages = d.MaxMemoryPages
	}
	if l.Timeout == 0 {
		l.Timeout = d.Timeout
	}
	if l.MaxInputBytes == 0 {
		l.MaxInputBytes = d.MaxInputBytes
	}
	if l.MaxOutputBytes == 0 {
		l.MaxOutputBytes = d.MaxOutputBytes
	}
	if l.MaxHostCalls == 0 {
		l.MaxHostCalls = d.MaxHostCalls
	}
	if l.MaxRecords == 0 {
		l.MaxRecords = d.MaxRecords
	}
	return l
}

// Cap returns l with each field lowered to the one of max where max is set.
func (l Limits) Cap(max Limits) Limits {
	if max.MaxMemoryPages > 0 && l.MaxMemoryPages > max.MaxMemoryPages {
		l.MaxMemoryPages = max.MaxMemoryPages
	}
	if max.Timeout > 0 && l.Timeout > max.Timeout {
		l.Timeout = max.Timeout
	}
	capInt := func(v *int, m int) {
		if m > 0 && *v > m {
			*v = m
		}
	}
	capInt(&l.MaxInputBytes, max.MaxInputBytes)
	capInt(&l.MaxOutputBytes, max.MaxOutputBytes)
	capInt(&l.MaxHostCalls, max.MaxHostCalls)
	capInt(&l.MaxRecords, max.MaxRecords)
	return l
}

func (l Limits) validate() error {
	if l.MaxMemoryPages > 65536 {
		return fmt.Errorf("runtime: max memory pages %d exceeds the 4 GiB wasm32 address space", l.MaxMemoryPages)
	}
	if l.Timeout < 0 || l.MaxInputBytes < 0 || l.MaxOutputBytes < 0 || l.MaxHostCalls < 0 || l.MaxRecords < 0 {
		return fmt.Errorf("runtime: negative limit in %+v", l)
	}
	return nil
}
