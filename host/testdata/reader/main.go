//go:build wasip1

// Command reader is a test agent for the host's money rules: it reads
// records and then misbehaves in the ways a caller must not profit from.
package main

import (
	"errors"
	"strings"

	pdk "github.com/extism/go-pdk"

	"github.com/tollgate-dev/tollgate/abi/guest"
)

// read_then_fail reads every record matching its input and fails with an
// error that quotes them all, many times over: the host must charge the
// reads and must not hand the text to the caller.
//
//go:wasmexport read_then_fail
func readThenFail() int32 {
	recs, err := guest.Search("facts", string(guest.Input()), 10)
	if err != nil {
		return guest.Fail(err)
	}
	var b strings.Builder
	for range 100 {
		for _, r := range recs {
			b.WriteString(r.Content)
		}
	}
	return guest.Fail(errors.New(b.String()))
}

// read_then_output_fail reads records, writes them as output and returns
// a failure code without an error message.
//
//go:wasmexport read_then_output_fail
func readThenOutputFail() int32 {
	recs, _ := guest.Search("facts", string(guest.Input()), 10)
	var b strings.Builder
	for _, r := range recs {
		b.WriteString(r.Content)
	}
	pdk.OutputString(b.String())
	return 1
}

// read_many gets the record whose id is its input, again and again, until
// a read is refused, and returns how many it got.
//
//go:wasmexport read_many
func readMany() int32 {
	id := string(guest.Input())
	n := 0
	for ; n < 64; n++ {
		if _, err := guest.Get("facts", id); err != nil {
			pdk.OutputString(strings.Repeat("x", n) + "|" + err.Error())
			return 0
		}
	}
	pdk.OutputString(strings.Repeat("x", n))
	return 0
}

var last []byte

// leak returns the input of the previous call on this instance: state
// that must never cross callers or manifests.
//
//go:wasmexport leak
func leak() int32 {
	pdk.Output(last)
	last = append([]byte(nil), guest.Input()...)
	return 0
}

func main() {}
