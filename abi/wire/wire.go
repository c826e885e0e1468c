// Package wire is the binary encoding of the envelopes of
// [abi.FnDatanetSearch] and [abi.FnDatanetGet], beside their JSON, and (in
// a wasip1 plugin) Search and Get calls that use it. It is a package of its
// own so that plugins which do not use it are built to the same bytes as
// before it existed.
package wire

import (
	"unsafe"

	"github.com/tollgate-dev/tollgate/abi"
)

// The little-endian and float helpers are written out rather than imported
// from encoding/binary and math, to keep what a plugin links small.

func appendU32(b []byte, v uint32) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

func appendU64(b []byte, v uint64) []byte { return appendU32(appendU32(b, uint32(v)), uint32(v>>32)) }

func u32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func u64(b []byte) uint64 { return uint64(u32(b)) | uint64(u32(b[4:]))<<32 }

func float64bits(f float64) uint64     { return *(*uint64)(unsafe.Pointer(&f)) }
func float64frombits(b uint64) float64 { return *(*float64)(unsafe.Pointer(&b)) }

// Mark is the first byte of a request, and then of its response, in
// the binary encoding of [abi.FnDatanetSearch] and [abi.FnDatanetGet]. A JSON
// request never starts with it, so a host function tells the two apart by
// its first byte and answers in the encoding it was asked in; JSON stays
// the encoding every plugin can use. The binary one spares a plugin a JSON
// decoder on its hot path: in a standard-Go plugin, decoding three records
// from JSON costs more than the search that found them.
//
// After the mark, every field is in order: a string is its length as a
// little-endian uint32 and then its bytes, an integer a little-endian
// int32, a float the little-endian bits of a float64.
//
//	SearchRequest:   mark, datanet, query, limit
//	GetRequest:      mark, datanet, id
//	RecordsResponse: mark, error flag (0 or 1), [code, message],
//	                 count (uint32), count × (datanet, id, contributor, content, score)
const Mark byte = 0x01

// IsBinary reports whether an envelope is in the binary encoding.
func IsBinary(b []byte) bool { return len(b) > 0 && b[0] == Mark }

// AppendSearchRequest appends r in the binary encoding.
func AppendSearchRequest(b []byte, r abi.SearchRequest) []byte {
	b = append(b, Mark)
	b = appendString(b, r.Datanet)
	b = appendString(b, r.Query)
	return appendInt(b, r.Limit)
}

// DecodeSearchRequest decodes a binary SearchRequest.
func DecodeSearchRequest(b []byte) (abi.SearchRequest, error) {
	d := decoder{b: b}
	d.mark()
	r := abi.SearchRequest{Datanet: d.string(), Query: d.string(), Limit: d.int()}
	return r, d.end()
}

// AppendGetRequest appends r in the binary encoding.
func AppendGetRequest(b []byte, r abi.GetRequest) []byte {
	b = append(b, Mark)
	b = appendString(b, r.Datanet)
	return appendString(b, r.ID)
}

// DecodeGetRequest decodes a binary GetRequest.
func DecodeGetRequest(b []byte) (abi.GetRequest, error) {
	d := decoder{b: b}
	d.mark()
	r := abi.GetRequest{Datanet: d.string(), ID: d.string()}
	return r, d.end()
}

// AppendRecordsResponse appends r in the binary encoding.
func AppendRecordsResponse(b []byte, r abi.RecordsResponse) []byte {
	b = append(b, Mark)
	if r.Error != nil {
		b = append(b, 1)
		b = appendString(b, string(r.Error.Code))
		b = appendString(b, r.Error.Message)
	} else {
		b = append(b, 0)
	}
	b = appendU32(b, uint32(len(r.Records)))
	for _, rec := range r.Records {
		b = appendString(b, rec.Datanet)
		b = appendString(b, rec.ID)
		b = appendString(b, rec.Contributor)
		b = appendString(b, rec.Content)
		b = appendU64(b, float64bits(rec.Score))
	}
	return b
}

// DecodeRecordsResponse decodes a binary RecordsResponse.
func DecodeRecordsResponse(b []byte) (abi.RecordsResponse, error) {
	d := decoder{b: b}
	d.mark()
	var r abi.RecordsResponse
	switch d.byte() {
	case 0:
	case 1:
		r.Error = &abi.Error{Code: abi.Code(d.string()), Message: d.string()}
	default:
		d.fail()
	}
	n := d.uint32()
	// Each record takes at least 24 bytes, so a count the rest cannot hold
	// is refused before anything is allocated for it.
	if uint64(n)*24 > uint64(len(d.b)) {
		d.fail()
	}
	if !d.failed && n > 0 {
		r.Records = make([]abi.Record, n)
		for i := range r.Records {
			r.Records[i] = abi.Record{Datanet: d.string(), ID: d.string(), Contributor: d.string(), Content: d.string(),
				Score: float64frombits(d.uint64())}
		}
	}
	return r, d.end()
}

func appendString(b []byte, s string) []byte {
	b = appendU32(b, uint32(len(s)))
	return append(b, s...)
}

// appendInt appends v as an int32, clamped to its range.
func appendInt(b []byte, v int) []byte {
	v = max(min(v, 1<<31-1), -1<<31)
	return appendU32(b, uint32(int32(v)))
}

// decoder reads a binary envelope; the first field it cannot read clears
// it, and every read after that returns zero values.
type decoder struct {
	b      []byte
	failed bool
}

func (d *decoder) fail() {
	d.failed = true
	d.b = nil
}

func (d *decoder) take(n uint64) []byte {
	if d.failed || n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) mark() {
	if b := d.take(1); b != nil && b[0] != Mark {
		d.fail()
	}
}

func (d *decoder) byte() byte {
	if b := d.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (d *decoder) uint32() uint32 {
	if b := d.take(4); b != nil {
		return u32(b)
	}
	return 0
}

func (d *decoder) uint64() uint64 {
	if b := d.take(8); b != nil {
		return u64(b)
	}
	return 0
}

func (d *decoder) int() int { return int(int32(d.uint32())) }

func (d *decoder) string() string { return string(d.take(uint64(d.uint32()))) }

// end reports a failure, or trailing bytes.
func (d *decoder) end() error {
	if d.failed || len(d.b) > 0 {
		return &abi.Error{Code: abi.CodeBadHostCall, Message: "malformed binary envelope"}
	}
	return nil
}
