//go:build wasip1

// Package guest is the Go side of the Tollgate plugin ABI: what an agent or
// attribution plugin written in Go calls to read datanets. It sits on
// github.com/extism/go-pdk and exchanges the JSON envelopes of package abi.
//
// Build a plugin with:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -buildvcs=false -o plugin.wasm
package guest

import (
	"encoding/json"

	pdk "github.com/extism/go-pdk"

	"github.com/tollgate-dev/tollgate/abi"
)

//go:wasmimport extism:host/user datanet_search
func hostDatanetSearch(uint64) uint64

//go:wasmimport extism:host/user datanet_get
func hostDatanetGet(uint64) uint64

//go:wasmimport extism:host/user corpus_match
func hostCorpusMatch(uint64) uint64

// Search returns up to limit records of datanet that best match query, best
// first. Each record returned is metered.
func Search(datanet, query string, limit int) ([]abi.Record, error) {
	var resp abi.RecordsResponse
	if err := call(hostDatanetSearch, abi.SearchRequest{Datanet: datanet, Query: query, Limit: limit}, &resp); err != nil {
		return nil, err
	}
	if resp.Error != nil {
		return nil, resp.Error
	}
	return resp.Records, nil
}

// Get returns one record by id. It is metered.
func Get(datanet, id string) (abi.Record, error) {
	var resp abi.RecordsResponse
	if err := call(hostDatanetGet, abi.GetRequest{Datanet: datanet, ID: id}, &resp); err != nil {
		return abi.Record{}, err
	}
	if resp.Error != nil {
		return abi.Record{}, resp.Error
	}
	if len(resp.Records) != 1 {
		return abi.Record{}, abi.Errorf(abi.CodeBadPluginOutput, "datanet_get returned %d records", len(resp.Records))
	}
	return resp.Records[0], nil
}

// CorpusMatch returns the maximal spans of text found verbatim in datanet.
// Only attribution plugins may call it.
func CorpusMatch(datanet, text string, minTokens int) ([]abi.Span, error) {
	var resp abi.MatchResponse
	if err := call(hostCorpusMatch, abi.MatchRequest{Datanet: datanet, Text: text, MinTokens: minTokens}, &resp); err != nil {
		return nil, err
	}
	if resp.Error != nil {
		return nil, resp.Error
	}
	return resp.Spans, nil
}

func call(fn func(uint64) uint64, req, resp any) error {
	in, err := json.Marshal(req)
	if err != nil {
		return err
	}
	mem := pdk.AllocateBytes(in)
	defer mem.Free()
	out := pdk.FindMemory(fn(mem.Offset()))
	defer out.Free()
	return json.Unmarshal(out.ReadBytes(), resp)
}

// Input returns the invocation's input bytes.
func Input() []byte { return pdk.Input() }

// Output sets the invocation's output bytes.
func Output(b []byte) { pdk.Output(b) }

// Fail reports err as the plugin's error; the export should then return 1.
func Fail(err error) int32 {
	pdk.SetError(err)
	return 1
}

// Attribute runs fn as an attribution plugin's body: it decodes the request,
// calls fn and encodes its response. Call it from the plugin's exported
// attribute function and return its result.
func Attribute(fn func(abi.AttributeRequest) (abi.AttributeResponse, error)) int32 {
	var req abi.AttributeRequest
	if err := json.Unmarshal(pdk.Input(), &req); err != nil {
		return Fail(err)
	}
	resp, err := fn(req)
	if err != nil {
		return Fail(err)
	}
	out, err := json.Marshal(resp)
	if err != nil {
		return Fail(err)
	}
	pdk.Output(out)
	return 0
}
