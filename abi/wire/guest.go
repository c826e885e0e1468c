//go:build wasip1

package wire

import (
	pdk "github.com/extism/go-pdk"

	"github.com/tollgate-dev/tollgate/abi"
)

//go:wasmimport extism:host/user datanet_search
func hostDatanetSearch(uint64) uint64

//go:wasmimport extism:host/user datanet_get
func hostDatanetGet(uint64) uint64

// Search is guest.Search in the binary encoding: up to limit records of
// datanet that best match query, best first, each one metered. A Go plugin
// decodes its response many times faster than the JSON one.
func Search(datanet, query string, limit int) ([]abi.Record, error) {
	return records(hostDatanetSearch, AppendSearchRequest(nil, abi.SearchRequest{Datanet: datanet, Query: query, Limit: limit}))
}

// Get is guest.Get in the binary encoding: one record by id, metered.
func Get(datanet, id string) (abi.Record, error) {
	recs, err := records(hostDatanetGet, AppendGetRequest(nil, abi.GetRequest{Datanet: datanet, ID: id}))
	if err != nil {
		return abi.Record{}, err
	}
	if len(recs) != 1 {
		return abi.Record{}, abi.Errorf(abi.CodeBadPluginOutput, "datanet_get returned %d records", len(recs))
	}
	return recs[0], nil
}

func records(fn func(uint64) uint64, req []byte) ([]abi.Record, error) {
	mem := pdk.AllocateBytes(req)
	defer mem.Free()
	out := pdk.FindMemory(fn(mem.Offset()))
	defer out.Free()
	resp, err := DecodeRecordsResponse(out.ReadBytes())
	if err != nil {
		return nil, err
	}
	if resp.Error != nil {
		return nil, resp.Error
	}
	return resp.Records, nil
}
