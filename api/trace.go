package api

import (
	"context"
	"slices"
	"unicode/utf16"
	"unicode/utf8"

	"connectrpc.com/connect"

	"github.com/tollgate-dev/tollgate/abi"
	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/ledger"
)

// Trace bounds: the shortest span a caller may ask for is one word, the
// longest 64 (the default is the built-in ngram attribution's).
const (
	DefaultTraceWords = 4
	MaxTraceWords     = 64
)

// TraceReceipt finds the spans of a receipt's output that the records it
// scored hold verbatim, at the versions it names.
func (a *api) TraceReceipt(ctx context.Context, req *connect.Request[tollgatev1.TraceReceiptRequest]) (*connect.Response[tollgatev1.TraceReceiptResponse], error) {
	words := int(req.Msg.GetMinWords())
	if words == 0 {
		words = DefaultTraceWords
	}
	if words > MaxTraceWords {
		return nil, abi.Errorf(abi.CodeBadRequest, "min_words is %d, at most %d", words, MaxTraceWords)
	}
	rc, err := a.receipt(ctx, req.Msg.GetId())
	if err != nil {
		return nil, err
	}
	// The output is the caller's until its epoch closes; then ExportEpoch
	// publishes it, and so may this.
	open, err := a.led.OpenEpoch(ctx)
	if err != nil {
		return nil, err
	}
	if rc.Epoch >= open {
		p, err := a.principal(ctx, req.Header())
		if err != nil {
			return nil, err
		}
		if !p.Operator && p.Account != rc.Caller {
			return nil, abi.Errorf(abi.CodeGrantDenied, "the output of receipt %s is its caller's and the operator's until its epoch closes", rc.ID)
		}
	}
	out, err := a.led.Output(ctx, rc.ID)
	if err != nil {
		return nil, err
	}
	resp := &tollgatev1.TraceReceiptResponse{Receipt: receiptProto(rc)}
	if !utf8.Valid(out) {
		// Binary output has no words to trace.
		return connect.NewResponse(resp), nil
	}
	text := string(out)
	resp.OutputText = text
	scored := map[string]bool{}
	for _, s := range rc.Scores {
		scored[s.Record] = true
	}
	view := a.reg.At(ledger.Versions(rc.Datanets))
	units := utf16Offsets(text)
	for _, dv := range rc.Datanets {
		spans, err := view.CorpusMatch(ctx, dv.Name, text, words)
		if err != nil {
			return nil, err
		}
		for _, s := range spans {
			var recs []string
			for _, id := range s.Records {
				if scored[id] {
					recs = append(recs, id)
				}
			}
			if len(recs) == 0 || s.Start < 0 || s.End > len(text) || s.Start >= s.End {
				continue
			}
			slices.Sort(recs)
			resp.Spans = append(resp.Spans, &tollgatev1.TracedSpan{
				Start: uint32(units[s.Start]), End: uint32(units[s.End]),
				StartByte: uint32(s.Start), EndByte: uint32(s.End),
				Datanet: dv.Name, Records: recs,
			})
		}
	}
	return connect.NewResponse(resp), nil
}

// utf16Offsets maps each byte offset of s (and len(s)) to the UTF-16 offset
// of the rune starting there, so a browser can index the same text.
func utf16Offsets(s string) []int {
	off := make([]int, len(s)+1)
	n := 0
	for i, r := range s {
		for j := i; j < i+utf8.RuneLen(r) && j < len(s); j++ {
			off[j] = n
		}
		n += len(utf16.Encode([]rune{r}))
	}
	off[len(s)] = n
	return off
}
