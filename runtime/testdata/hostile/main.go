//go:build wasip1

// Command hostile is a plugin that misbehaves in every way the runtime must
// survive, one export per misdeed. The runtime's tests build it and assert
// the error code each export ends with.
package main

import (
	crand "crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"time"

	pdk "github.com/extism/go-pdk"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/abi/wire"
)

//go:wasmimport extism:host/user datanet_search
func search(uint64) uint64

//go:wasmimport extism:host/user datanet_get
func get(uint64) uint64

//go:wasmimport extism:host/env output_set
func outputSet(offset, length uint64)

//go:wasmimport extism:host/user corpus_match
func match(uint64) uint64

var hostFns = []func(uint64) uint64{search, get, match}

func call(fn func(uint64) uint64, req any) []byte {
	b, _ := json.Marshal(req)
	mem := pdk.AllocateBytes(b)
	out := pdk.FindMemory(fn(mem.Offset()))
	return out.ReadBytes()
}

//go:wasmexport loop
func loop() int32 {
	for i := 0; ; i++ {
		if i < 0 {
			return 0
		}
	}
}

var hoard [][]byte

//go:wasmexport bomb
func bomb() int32 {
	for {
		b := make([]byte, 1<<20)
		b[len(b)-1] = 1
		hoard = append(hoard, b)
	}
}

//go:wasmexport huge_output
func hugeOutput() int32 {
	pdk.Output(make([]byte, 4<<20))
	return 0
}

//go:wasmexport exit
func exit() int32 {
	os.Exit(3)
	return 0
}

//go:wasmexport bad_pointer_search
func badPointerSearch() int32 { search(0xffff_ffff_0000); return 0 }

//go:wasmexport bad_pointer_get
func badPointerGet() int32 { get(0xdead_beef); return 0 }

//go:wasmexport bad_pointer_match
func badPointerMatch() int32 { match(1); return 0 }

//go:wasmexport bad_json
func badJSON() int32 {
	mem := pdk.AllocateString("{not json")
	search(mem.Offset())
	return 0
}

//go:wasmimport extism:host/env config_get
func configGet(uint64) uint64

// initGreeting is read from the config while the module initialises.
var initGreeting, _ = pdk.GetConfig("greeting")

// init_config outputs the config value read at initialisation.
//
//go:wasmexport init_config
func initConfig() int32 { pdk.OutputString("init:" + initGreeting); return 0 }

// bad_pointer_config asks config_get for a key at an offset past the end
// of the kernel's memory.
//
//go:wasmexport bad_pointer_config
func badPointerConfig() int32 { configGet(0xffff_fff0); return 0 }

// bad_binary sends a binary request cut short: its query's length says 5
// bytes, one follows.
//
//go:wasmexport bad_binary
func badBinary() int32 {
	mem := pdk.AllocateBytes([]byte{wire.Mark, 1, 0, 0, 0, 'd', 5, 0, 0, 0, 'a'})
	search(mem.Offset())
	return 0
}

// binary_denied searches and gets, in the binary encoding, a datanet it was
// not granted, and outputs the error codes it got, or the records.
//
//go:wasmexport binary_denied
func binaryDenied() int32 {
	var out []string
	if recs, err := wire.Search("secret", "sky", 3); err != nil {
		out = append(out, string(abi.CodeOf(err)))
	} else {
		out = append(out, fmt.Sprint(recs))
	}
	if rec, err := wire.Get("secret", "s1"); err != nil {
		out = append(out, string(abi.CodeOf(err)))
	} else {
		out = append(out, fmt.Sprint(rec))
	}
	b, _ := json.Marshal(out)
	pdk.Output(b)
	return 0
}

//go:wasmexport flood
func flood() int32 {
	for range 1_000_000 {
		call(search, map[string]any{"datanet": "empty", "query": "sky", "limit": 1})
	}
	return 0
}

//go:wasmexport read_flood
func readFlood() int32 {
	for range 1_000_000 {
		call(get, map[string]any{"datanet": "facts", "id": "r1"})
	}
	return 0
}

// tenant tries to read another tenant's datanet and returns what it got.
//
//go:wasmexport tenant
func tenant() int32 {
	out := []json.RawMessage{
		call(search, map[string]any{"datanet": "secret", "query": "data", "limit": 10}),
		call(get, map[string]any{"datanet": "secret", "id": "s1"}),
		call(match, map[string]any{"datanet": "secret", "text": "tenant's data", "min_tokens": 1}),
	}
	b, _ := json.Marshal(out)
	pdk.Output(b)
	return 0
}

var last []byte

// leak returns the input of the previous call on this instance.
//
//go:wasmexport leak
func leak() int32 {
	pdk.Output(last)
	last = pdk.Input()
	return 0
}

// gets calls datanet_get as many times as its 4-byte input says (for benchmarks).
//
//go:wasmexport gets
func gets() int32 {
	in := pdk.Input()
	n := int(binary.LittleEndian.Uint32(in))
	req := pdk.AllocateString(`{"datanet":"facts","id":"r1"}`)
	for range n {
		out := pdk.FindMemory(get(req.Offset()))
		out.Free()
	}
	return 0
}

// raw calls host function in[0]%3 with either the offset in in[2:10]
// (in[1] even) or the offset of a block holding in[2:] (in[1] odd), and
// returns the response: the fuzz target's way to reach the host functions
// with any pointer and any bytes.
//
//go:wasmexport raw
func raw() int32 {
	in := pdk.Input()
	if len(in) < 2 {
		return 0
	}
	fn := hostFns[int(in[0])%3]
	var off uint64
	if in[1]%2 == 0 {
		var b [8]byte
		copy(b[:], in[2:])
		off = binary.LittleEndian.Uint64(b[:])
	} else {
		mem := pdk.AllocateBytes(in[2:])
		off = mem.Offset()
	}
	out := pdk.FindMemory(fn(off))
	pdk.Output(out.ReadBytes())
	return 0
}

// bad_output sets its output to a block that does not exist.
//
//go:wasmexport bad_output
func badOutput() int32 {
	outputSet(0xffff_0000, 64)
	return 0
}

// entropy reports what the plugin reads of time and randomness: the WASI
// clocks, random_get, and math/rand's generator, which the Go runtime
// seeds when it starts.
//
//go:wasmexport entropy
func entropy() int32 {
	var b [16]byte
	crand.Read(b[:])
	pdk.OutputString(fmt.Sprintf("%d %d %x %d", time.Now().UnixNano(), time.Since(started), b, mrand.Int64()))
	return 0
}

var started = time.Now()

// opendir opens the root directory, keeps it open and returns its file
// descriptor: a descriptor left open by one call must not move the next
// call's.
//
//go:wasmexport opendir
func opendir() int32 {
	f, err := os.Open(".")
	if err != nil {
		pdk.SetError(err)
		return 1
	}
	kept = append(kept, f)
	pdk.OutputString(fmt.Sprint(f.Fd()))
	return 0
}

var kept []*os.File

// prewarm tries to read a datanet before any call, where no caller's
// grants or data exist; prewarmed returns what it got.
//
//go:wasmexport prewarm
func prewarm() int32 {
	prewarmed = call(search, map[string]any{"datanet": "facts", "query": "sky", "limit": 10})
	return 0
}

var prewarmed []byte

//go:wasmexport prewarmed
func prewarmedExport() int32 {
	pdk.Output(prewarmed)
	return 0
}

func main() {}
