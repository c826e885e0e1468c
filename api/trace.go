package api

import (
	"context"
	"math"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"connectrpc.com/connect"

	"github.com/tollgate-dev/tollgate/abi"
	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/internal/corpus"
	"github.com/tollgate-dev/tollgate/ledger"
)

// Trace bounds. A trace matches the output against the records the
// receipt paid, and nothing else, so its work is bounded by what was paid
// for; these bound it further, as anyone may ask for it once the epoch
// closes.
const (
	DefaultTraceWords     = 4        // the built-in ngram attribution's default
	MinTraceWords         = 2        // a single word says nothing about a source
	MaxTraceWords         = 64       // also the longest span: a longer run is cut in spans of this many words
	MaxTraceBytes         = 64 << 10 // of output traced, cut at a space; the rest is left unmarked
	MaxTraceRecords       = 4096     // paid records traced; past it, the rest are left out
	MaxTraceCorpusBytes   = 8 << 20  // of their content; past it, the rest are left out
	MaxTraceSpanRecords   = 64       // record ids named per span
	MaxTraceOccurrences   = 4096     // occurrences of a span read for its records
	traceWorkersPerServer = 1        // traces computed at once; the others wait their turn
)

// traceTurns lets one trace compute at a time, so traces, which anyone may
// ask for once an epoch closes, hold at most one core.
var traceTurns = make(chan struct{}, traceWorkersPerServer)

// TraceReceipt finds the spans of a receipt's output that the records it
// paid hold verbatim.
func (a *api) TraceReceipt(ctx context.Context, req *connect.Request[tollgatev1.TraceReceiptRequest]) (*connect.Response[tollgatev1.TraceReceiptResponse], error) {
	words := int(req.Msg.GetMinWords())
	if words == 0 {
		words = DefaultTraceWords
	}
	if words < MinTraceWords || words > MaxTraceWords {
		return nil, abi.Errorf(abi.CodeBadRequest, "min_words is %d, want %d to %d", words, MinTraceWords, MaxTraceWords)
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
		resp.Binary = true
		return connect.NewResponse(resp), nil
	}
	text := string(out)
	resp.OutputText = text
	text, resp.Partial = traceCut(text)
	targets, partial, err := a.traceTargets(ctx, rc)
	if err != nil {
		return nil, err
	}
	resp.Partial = resp.Partial || partial
	found, cut, err := traceSpans(ctx, targets, text, words)
	if err != nil {
		return nil, err
	}
	resp.Partial = resp.Partial || cut
	units := utf16Offsets(text)
	for _, f := range found {
		s := f.span
		if s.Start < 0 || s.End > len(text) || s.Start >= s.End || len(s.Records) == 0 {
			continue
		}
		recs := s.Records
		if len(recs) > MaxTraceSpanRecords {
			recs, resp.Partial = recs[:MaxTraceSpanRecords], true
		}
		resp.Spans = append(resp.Spans, &tollgatev1.TracedSpan{
			Start: uint32(units[s.Start]), End: uint32(units[s.End]),
			StartByte: uint32(s.Start), EndByte: uint32(s.End),
			Datanet: f.datanet, Records: recs,
		})
	}
	return connect.NewResponse(resp), nil
}

// traceCut is the part of an output a trace covers: all of it, or its
// first MaxTraceBytes cut back to the last space (so no word is cut).
func traceCut(text string) (string, bool) {
	if len(text) <= MaxTraceBytes {
		return text, false
	}
	cut := MaxTraceBytes
	for cut > 0 && !unicode.IsSpace(rune(text[cut])) {
		cut--
	}
	if cut == 0 { // one word longer than the bound: cut at a rune
		cut = MaxTraceBytes
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
	}
	return text[:cut], true
}

type tracedSpan struct {
	datanet string
	span    abi.Span
}

// traceSpans matches text against each target in its turn (traceTurns).
// The work is bounded (MaxTraceWords per span, the corpus and output
// bounds); a caller that gives up leaves it to finish, still in its turn.
func traceSpans(ctx context.Context, targets []traceTarget, text string, words int) ([]tracedSpan, bool, error) {
	select {
	case traceTurns <- struct{}{}:
	case <-ctx.Done():
		return nil, false, abi.Wrap(abi.CodeUnavailable, ctx.Err(), "waiting to trace")
	}
	type result struct {
		spans   []tracedSpan
		partial bool
	}
	done := make(chan result, 1)
	go func() {
		defer func() { <-traceTurns }()
		var r result
		for _, tg := range targets {
			spans, partial := corpus.MatchBounded([]*corpus.Segment{tg.corpus}, text, words, MaxTraceWords, MaxTraceOccurrences, math.MaxUint64)
			r.partial = r.partial || partial
			for _, s := range spans {
				r.spans = append(r.spans, tracedSpan{tg.datanet, s})
			}
		}
		done <- r
	}()
	select {
	case r := <-done:
		return r.spans, r.partial, nil
	case <-ctx.Done():
		return nil, false, abi.Wrap(abi.CodeUnavailable, ctx.Err(), "tracing")
	}
}

// traceTarget is the records of one datanet a receipt paid, indexed.
type traceTarget struct {
	datanet string
	corpus  *corpus.Segment
}

// traceTargets indexes the records a receipt paid, by datanet: those the
// agent read (attribution scores only those), at the versions the receipt
// names; and the training records its model calls' token shares name, at
// the versions each model pins. partial says some were left out
// (MaxTraceRecords, MaxTraceCorpusBytes, or a model no longer there).
func (a *api) traceTargets(ctx context.Context, rc *ledger.Receipt) ([]traceTarget, bool, error) {
	type key struct {
		datanet string
		version uint64
	}
	var order []key
	ids := map[key][]string{}
	seen := map[[2]string]bool{} // datanet, record
	n, partial := 0, false
	add := func(k key, record string) {
		if seen[[2]string{k.datanet, record}] {
			return
		}
		if n >= MaxTraceRecords {
			partial = true
			return
		}
		seen[[2]string{k.datanet, record}] = true
		n++
		if _, ok := ids[k]; !ok {
			order = append(order, k)
		}
		ids[k] = append(ids[k], record)
	}
	versions := ledger.Versions(rc.Datanets)
	for _, acc := range rc.Accesses {
		add(key{acc.Datanet, versions[acc.Datanet]}, acc.Record)
	}
	// Scores need no lookup: attribution scores only records the agent read.
	for _, g := range rc.Generations {
		if len(g.Shares) == 0 {
			continue
		}
		p, err := a.reg.Load(ctx, g.Model)
		if abi.CodeOf(err) == abi.CodeNotFound {
			partial = true // a model the registry no longer has is not traced
			continue
		} else if err != nil {
			return nil, false, err
		}
		if p.Manifest.Model == nil {
			continue
		}
		pinned := map[string]uint64{}
		for _, t := range p.Manifest.Model.Training {
			pinned[t.Datanet] = t.Version
		}
		for _, sh := range g.Shares {
			if v, ok := pinned[sh.Datanet]; ok {
				add(key{sh.Datanet, v}, sh.Record)
			}
		}
	}
	out := make([]traceTarget, 0, len(order))
	size := 0
	for _, k := range order {
		at := a.reg.At(map[string]uint64{k.datanet: k.version})
		var recIDs, contents []string
		for _, id := range ids[k] {
			rec, err := at.Get(ctx, k.datanet, id)
			if abi.CodeOf(err) == abi.CodeNotFound {
				continue // a record the receipt names that is gone is not traced
			} else if err != nil {
				return nil, false, err
			}
			if size += len(rec.Content); size > MaxTraceCorpusBytes {
				partial = true
				break
			}
			recIDs, contents = append(recIDs, rec.ID), append(contents, rec.Content)
		}
		if len(recIDs) > 0 {
			out = append(out, traceTarget{datanet: k.datanet, corpus: corpus.NewSegment(0, recIDs, contents)})
		}
	}
	return out, partial, nil
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
