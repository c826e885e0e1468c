package host_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

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
	if status, _, long := e.post(t, "LedgerService/TraceReceipt", tok, map[string]any{"id": id, "minWords": 60}); status != 200 || long["spans"] != nil || long["outputText"] != out {
		t.Fatalf("60-word spans in a short answer: %d %v", status, long)
	}
	for _, w := range []int{1, 65} {
		if status, _, bad := e.post(t, "LedgerService/TraceReceipt", tok, map[string]any{"id": id, "minWords": w}); status != http.StatusBadRequest || bad["code"] != "invalid_argument" {
			t.Fatalf("min_words %d: %d %v", w, status, bad)
		}
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
		// The node reads the contract at most every few seconds.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			_, _, d := e.post(t, "LedgerService/GetDeployment", "", map[string]any{})
			if got, _ := d["paused"].(bool); got == paused {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("paused %v, GetDeployment still says %v", paused, d["paused"])
			}
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

// A model's answer is traced to the training records its token shares
// name, in the training datanet at the version the model pins.
func TestTraceReceiptFollowsAModelToItsTrainingRecords(t *testing.T) {
	e := newModelEnv(t, 16)
	_, token := e.fund(t, 10_000_000)
	status, _, body := e.chat(t, token, `{"model":"acme/tiny@1.0.0","messages":[{"role":"user","content":"Why is the sky blue"}],"max_tokens":8,"temperature":0}`)
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	var c chatCompletion
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatal(err)
	}
	status, _, tr := e.post(t, "LedgerService/TraceReceipt", token, map[string]any{"id": c.Tollgate.ReceiptID})
	if status != 200 {
		t.Fatalf("trace: %d %v", status, tr)
	}
	out := tr["outputText"].(string)
	if out != c.Choices[0].Message.Content {
		t.Fatalf("traced %q, the model answered %q", out, c.Choices[0].Message.Content)
	}
	shares := map[string]bool{}
	for _, g := range tr["receipt"].(map[string]any)["generations"].([]any) {
		for _, s := range g.(map[string]any)["shares"].([]any) {
			shares[s.(map[string]any)["record"].(string)] = true
		}
	}
	spans, _ := tr["spans"].([]any)
	if len(spans) == 0 || len(shares) == 0 {
		t.Fatalf("no span (%d) or share (%d) for %q", len(spans), len(shares), out)
	}
	for _, x := range spans {
		sp := x.(map[string]any)
		if sp["datanet"] != "corpus" {
			t.Fatalf("span in %v, not the training datanet", sp["datanet"])
		}
		text := out[int(num(sp["startByte"])):int(num(sp["endByte"]))]
		for _, r := range sp["records"].([]any) {
			if !shares[r.(string)] {
				t.Fatalf("span %q names record %s, which no share of the receipt names", text, r)
			}
			rec, err := e.reg.At(nil).Get(context.Background(), "corpus", r.(string))
			if err != nil || !strings.Contains(rec.Content, text) {
				t.Fatalf("span %q is not in training record %s: %v", text, r, err)
			}
		}
	}
}

// A trace matches only the records the receipt paid: a record the agent
// did not read that holds the same sentence, and more, is never named,
// and does not stretch a span past what a paid record holds.
func TestTraceReceiptNamesOnlyPaidRecords(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sky := "The sky is blue because air scatters blue sunlight more than red sunlight."
	probe := "Indeed " + sky + " " + strings.Repeat("unrelated filler words about nothing much ", 40)
	for _, c := range []string{
		probe,
		"Why is the sky blue? Why is the sky blue? The sky is blue, the sky is blue.",
		"Is the sky blue? Why, the sky is blue: why is the sky blue, the sky?",
	} {
		sig, _ := registry.Sign(e.bob, registry.Domain{}.RecordDigest("facts", c))
		if _, _, err := e.reg.AddRecord(ctx, "facts", registry.Address(e.bob), c, sig); err != nil {
			t.Fatal(err)
		}
	}
	probeID := registry.RecordID(probe)
	_, tok := e.fund(t, 1_000_000)
	_, _, inv := e.post(t, "AgentService/Invoke", tok, map[string]any{"agent": "acme/qa@1.0.0", "inputText": "Why is the sky blue?"})
	rc := inv["receipt"].(map[string]any)
	for _, a := range rc["accesses"].([]any) {
		if a.(map[string]any)["record"] == probeID {
			t.Fatal("set-up: the agent read the probe record; the test needs it unread")
		}
	}
	if !strings.Contains(inv["outputText"].(string), "air scatters blue sunlight") {
		t.Fatalf("set-up: the answer does not repeat the sentence the probe holds: %q", inv["outputText"])
	}
	_, _, tr := e.post(t, "LedgerService/TraceReceipt", tok, map[string]any{"id": rc["id"], "minWords": 2})
	spans, _ := tr["spans"].([]any)
	if len(spans) == 0 {
		t.Fatalf("no span: %v", tr)
	}
	out := tr["outputText"].(string)
	for _, x := range spans {
		sp := x.(map[string]any)
		text := out[int(num(sp["startByte"])):int(num(sp["endByte"]))]
		for _, r := range sp["records"].([]any) {
			if r == probeID {
				t.Fatalf("span %q names a record the caller did not pay for", text)
			}
		}
		if strings.HasPrefix(text, "Indeed") {
			t.Fatalf("span %q was stretched by the unread record", text)
		}
	}
}
