package host_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/api/auth"
	"github.com/tollgate-dev/tollgate/registry"
)

// TraceReceipt shows which words of an answer a paid record holds, at the
// versions the receipt names, and only to those allowed to see the output.
func TestTraceReceiptShowsWhichRecordHeldWhichWords(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, tok := e.fund(t, 1_000_000)
	_, _, inv := e.post(t, "AgentService/Invoke", tok, map[string]any{"agent": "acme/qa@1.0.0", "inputText": "Why is the sky blue?"})
	rc := inv["receipt"].(map[string]any)
	id := rc["id"].(string)

	status, _, tr := e.post(t, "LedgerService/TraceReceipt", tok, map[string]any{"id": id})
	if status != 200 {
		t.Fatalf("trace: %d %v", status, tr)
	}
	out := tr["outputText"].(string)
	if out != inv["outputText"] {
		t.Fatalf("traced output %q, invoke answered %q", out, inv["outputText"])
	}
	scored := map[string]bool{}
	for _, s := range rc["scores"].([]any) {
		scored[s.(map[string]any)["record"].(string)] = true
	}
	spans, _ := tr["spans"].([]any)
	if len(spans) == 0 {
		t.Fatalf("no span traced in %q", out)
	}
	for _, x := range spans {
		sp := x.(map[string]any)
		start, end := int(num(sp["startByte"])), int(num(sp["endByte"]))
		if int(num(sp["start"])) != start || int(num(sp["end"])) != end {
			t.Fatalf("an ASCII output's UTF-16 offsets differ from its byte offsets: %v", sp)
		}
		text := out[start:end]
		if len(strings.Fields(text)) < 4 {
			t.Fatalf("span %q is shorter than the 4 words asked", text)
		}
		for _, r := range sp["records"].([]any) {
			if !scored[r.(string)] {
				t.Fatalf("span %q names record %s, which the receipt did not score", text, r)
			}
			rec, err := e.reg.At(nil).Get(ctx, sp["datanet"].(string), r.(string))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(rec.Content, text) {
				t.Fatalf("span %q is not in record %s: %q", text, r, rec.Content)
			}
		}
	}

	// A longer minimum finds no shorter span; past the bound is refused.
	if _, _, long := e.post(t, "LedgerService/TraceReceipt", tok, map[string]any{"id": id, "minWords": 60}); long["spans"] != nil {
		t.Fatalf("60-word spans in a short answer: %v", long["spans"])
	}
	if status, _, bad := e.post(t, "LedgerService/TraceReceipt", tok, map[string]any{"id": id, "minWords": 65}); status != http.StatusBadRequest || bad["code"] != "invalid_argument" {
		t.Fatalf("min_words 65: %d %v", status, bad)
	}
	if status, _, bad := e.post(t, "LedgerService/TraceReceipt", tok, map[string]any{"id": "00000000"}); status != http.StatusNotFound {
		t.Fatalf("unknown receipt: %d %v", status, bad)
	}

	// While the epoch is open the output is the caller's and the
	// operator's: not a contributor's the receipt paid, not anyone's.
	aliceTok, _ := e.tokens.Issue(auth.Principal{Account: registry.Address(e.alice)})
	if status, _, _ := e.post(t, "LedgerService/TraceReceipt", aliceTok, map[string]any{"id": id}); status != http.StatusForbidden {
		t.Fatalf("a contributor traced the caller's output in the open epoch: %d", status)
	}
	if status, _, _ := e.post(t, "LedgerService/TraceReceipt", "", map[string]any{"id": id}); status != http.StatusUnauthorized {
		t.Fatalf("anyone traced the caller's output in the open epoch: %d", status)
	}
	opTok, _ := e.tokens.Issue(auth.Principal{Account: registry.Address(e.operator), Operator: true})
	if status, _, _ := e.post(t, "LedgerService/TraceReceipt", opTok, map[string]any{"id": id}); status != 200 {
		t.Fatalf("the operator: %d", status)
	}

	// Once the epoch closes the output is public (as ExportEpoch), and so
	// is its trace; the datanet's records up to the version it read are
	// listable by anyone, which GetDatanet says.
	_, _, dn := e.post(t, "DatanetService/GetDatanet", "", map[string]any{"name": "facts"})
	if v := dn["datanet"].(map[string]any)["publicVersion"]; v != nil {
		t.Fatalf("public version %v before any epoch closed", v)
	}
	if status, _, r := e.post(t, "LedgerService/CloseEpoch", opTok, map[string]any{}); status != 200 {
		t.Fatalf("close: %d %v", status, r)
	}
	if status, _, r := e.post(t, "LedgerService/TraceReceipt", "", map[string]any{"id": id}); status != 200 || len(r["spans"].([]any)) != len(spans) {
		t.Fatalf("trace of a closed epoch's receipt: %d %v", status, r)
	}
	_, _, dn = e.post(t, "DatanetService/GetDatanet", "", map[string]any{"name": "facts"})
	if v := dn["datanet"].(map[string]any)["publicVersion"]; v != "3" {
		t.Fatalf("public version %v after an epoch settled on version 3", v)
	}
}

// GetDeployment says whether the guardian paused the contract.
func TestDeploymentSaysWhetherTheContractIsPaused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, paused := range []bool{false, true, false} {
		if _, err := e.chain.SetPaused(ctx, e.operator, paused); err != nil {
			t.Fatal(err)
		}
		_, _, d := e.post(t, "LedgerService/GetDeployment", "", map[string]any{})
		if got, _ := d["paused"].(bool); got != paused {
			t.Fatalf("paused %v, GetDeployment says %v", paused, d["paused"])
		}
	}
}

// num reads a JSON number (or a uint64 sent as a string, as protojson
// does) as a float.
func num(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case string:
		f, _ := strconv.ParseFloat(x, 64)
		return f
	}
	return 0
}
