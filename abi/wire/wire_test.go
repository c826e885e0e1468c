package wire_test

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/abi/wire"
)

var binaryResponses = []abi.RecordsResponse{
	{},
	{Records: []abi.Record{{Datanet: "d", ID: "0123", Contributor: "0xabc", Content: "The sky is blue. é ☃ \x00", Score: 2.5}}},
	{Records: []abi.Record{{}, {Content: strings.Repeat("x", 70000), Score: -1}, {Score: math.Inf(1)}}},
	{Error: abi.Errorf(abi.CodeGrantDenied, "datanet %q is not granted", "x")},
	{Error: &abi.Error{Code: abi.CodeRecordLimit}, Records: []abi.Record{{ID: "i"}}},
}

// TestBinaryEnvelopesRoundTrip: every envelope decodes to what was encoded,
// and a response means what its JSON means.
func TestBinaryEnvelopesRoundTrip(t *testing.T) {
	for _, r := range []abi.SearchRequest{{}, {Datanet: "a/b", Query: "why ☃", Limit: 3}, {Limit: -7}, {Limit: math.MaxInt32}} {
		got, err := wire.DecodeSearchRequest(wire.AppendSearchRequest(nil, r))
		if err != nil || got != r {
			t.Fatalf("search request %+v came back %+v, %v", r, got, err)
		}
	}
	if got, _ := wire.DecodeSearchRequest(wire.AppendSearchRequest(nil, abi.SearchRequest{Limit: math.MaxInt64})); got.Limit != math.MaxInt32 {
		t.Fatalf("a limit past int32 became %d, not the largest int32", got.Limit)
	}
	for _, r := range []abi.GetRequest{{}, {Datanet: "a/b", ID: "0123"}} {
		got, err := wire.DecodeGetRequest(wire.AppendGetRequest(nil, r))
		if err != nil || got != r {
			t.Fatalf("get request %+v came back %+v, %v", r, got, err)
		}
	}
	for _, r := range binaryResponses {
		b := wire.AppendRecordsResponse(nil, r)
		if !wire.IsBinary(b) {
			t.Fatal("a binary response does not start with the mark")
		}
		got, err := wire.DecodeRecordsResponse(b)
		if err != nil || !reflect.DeepEqual(got, r) {
			t.Fatalf("response %+v came back %+v, %v", r, got, err)
		}
		if math.IsInf(score(r), 0) {
			continue // JSON has no infinity
		}
		j, _ := json.Marshal(r)
		if wire.IsBinary(j) {
			t.Fatal("a JSON envelope reads as binary")
		}
		var viaJSON abi.RecordsResponse
		json.Unmarshal(j, &viaJSON)
		if !reflect.DeepEqual(viaJSON, got) {
			t.Fatalf("binary %+v, JSON %+v", got, viaJSON)
		}
	}
}

func score(r abi.RecordsResponse) float64 {
	s := 0.0
	for _, rec := range r.Records {
		s += rec.Score
	}
	return s
}

// FuzzDecodeBinary: no input makes a decoder panic or allocate for records
// the input cannot hold, and what decodes encodes back to the same bytes.
func FuzzDecodeBinary(f *testing.F) {
	for _, r := range binaryResponses {
		f.Add(wire.AppendRecordsResponse(nil, r))
	}
	f.Add(wire.AppendSearchRequest(nil, abi.SearchRequest{Datanet: "d", Query: "q", Limit: 3}))
	f.Add(wire.AppendGetRequest(nil, abi.GetRequest{Datanet: "d", ID: "i"}))
	f.Add([]byte{wire.Mark, 0, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte(`{"records":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := wire.DecodeRecordsResponse(b); err == nil {
			if again := wire.AppendRecordsResponse(nil, r); string(again) != string(b) {
				t.Fatalf("%x decoded and encoded to %x", b, again)
			}
		}
		if r, err := wire.DecodeSearchRequest(b); err == nil {
			if again := wire.AppendSearchRequest(nil, r); string(again) != string(b) {
				t.Fatalf("%x decoded and encoded to %x", b, again)
			}
		}
		if r, err := wire.DecodeGetRequest(b); err == nil {
			if again := wire.AppendGetRequest(nil, r); string(again) != string(b) {
				t.Fatalf("%x decoded and encoded to %x", b, again)
			}
		}
	})
}
