package host_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/registry"
)

// chat sends an OpenAI chat completion request the way curl would.
func (e *modelEnv) chat(t *testing.T, token string, body string, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", e.url+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

type chatCompletion struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Model   string `json:"model"`
	Choices []struct {
		Message struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"message"`
		Delta struct {
			Content string `json:"content"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		Prompt     int `json:"prompt_tokens"`
		Completion int `json:"completion_tokens"`
		Total      int `json:"total_tokens"`
	} `json:"usage"`
	Tollgate *struct {
		ReceiptID string `json:"receipt_id"`
		Charged   string `json:"charged"`
	} `json:"tollgate"`
}

// The node speaks OpenAI's chat completions: a model answers with its
// text, usage in its tokens and the receipt that paid for it, which is in
// the ledger, charges exactly the tokens' cost, pays the training record,
// and verifies with its epoch; streamed, the same text arrives a word at a
// time with the same receipt; an agent answers too.
func TestOpenAIChatCompletions(t *testing.T) {
	e := newModelEnv(t, 16)
	ctx := context.Background()
	caller, token := e.fund(t, 10_000_000)
	status, _, body := e.chat(t, token, `{"model":"acme/tiny@1.0.0","messages":[{"role":"user","content":"Why is the sky blue"}],"max_tokens":8,"temperature":0}`)
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	var c chatCompletion
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatal(err)
	}
	if c.Object != "chat.completion" || c.Model != "acme/tiny@1.0.0" || len(c.Choices) != 1 || c.Choices[0].Message.Role != "assistant" ||
		!strings.HasPrefix(c.Choices[0].Message.Content, "because air scatters") || c.Usage == nil || c.Usage.Completion != 8 ||
		*c.Choices[0].FinishReason != "length" || c.Tollgate == nil {
		t.Fatalf("answer %s", body)
	}
	rc, err := e.led.Receipt(ctx, c.Tollgate.ReceiptID)
	if err != nil {
		t.Fatal(err)
	}
	if !rc.IsGeneration() || rc.Caller != caller || rc.Generations[0].TokensOut != 8 || rc.Debit().String() != c.Tollgate.Charged ||
		rc.Debit().Cmp(rc.Generations[0].Cost) != 0 {
		t.Fatalf("receipt %+v", rc)
	}
	if by := postingsByKind(rc); by[ledger.KindTraining+":"+registry.Address(e.trainer)] == nil {
		t.Fatalf("the training record was not paid: %v", by)
	}

	// Streamed: the same words, then the finish with the receipt, the
	// usage, and [DONE].
	status, hdr, body := e.chat(t, token, `{"model":"acme/tiny@1.0.0","messages":[{"role":"user","content":"Why is the sky blue"}],"max_tokens":8,"temperature":0,"stream":true,"stream_options":{"include_usage":true}}`)
	if status != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %s: %s", status, hdr.Get("Content-Type"), body)
	}
	var text strings.Builder
	var finish, receipt string
	var usage int
	done := false
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if line == "[DONE]" {
			done = true
			continue
		}
		var ch chatCompletion
		if err := json.Unmarshal([]byte(line), &ch); err != nil || ch.Object != "chat.completion.chunk" {
			t.Fatalf("chunk %s: %v", line, err)
		}
		for _, choice := range ch.Choices {
			text.WriteString(choice.Delta.Content)
			if choice.FinishReason != nil {
				finish = *choice.FinishReason
			}
		}
		if ch.Tollgate != nil {
			receipt = ch.Tollgate.ReceiptID
		}
		if ch.Usage != nil {
			usage = ch.Usage.Completion
		}
	}
	if text.String() != c.Choices[0].Message.Content || finish != "length" || receipt == "" || receipt == c.Tollgate.ReceiptID || usage != 8 || !done {
		t.Fatalf("streamed %q (finish %q, receipt %q, usage %d, done %v), want %q", text.String(), finish, receipt, usage, done, c.Choices[0].Message.Content)
	}

	// An agent, by "agent:".
	status, _, body = e.chat(t, token, `{"model":"agent:acme/rag@1.0.0","messages":[{"role":"user","content":"Why is the sky blue"}]}`)
	if status != 200 {
		t.Fatalf("agent: %d %s", status, body)
	}
	var a chatCompletion
	json.Unmarshal(body, &a)
	if a.Model != "agent:acme/rag@1.0.0" || !strings.Contains(a.Choices[0].Message.Content, "Sources:") || a.Usage.Completion == 0 {
		t.Fatalf("agent answer %s", body)
	}

	// Retried with the same Idempotency-Key: the same receipt, charged once.
	before, _ := e.led.Balance(ctx, caller)
	req := `{"model":"acme/tiny@1.0.0","messages":[{"role":"user","content":"Why do bees dance"}],"max_tokens":4,"seed":9}`
	_, _, b1 := e.chat(t, token, req, "Idempotency-Key", "k1")
	_, _, b2 := e.chat(t, token, req, "Idempotency-Key", "k1")
	var r1, r2 chatCompletion
	json.Unmarshal(b1, &r1)
	json.Unmarshal(b2, &r2)
	after, _ := e.led.Balance(ctx, caller)
	charged, _ := new(big.Int).SetString(r1.Tollgate.Charged, 10)
	if r1.Tollgate == nil || r2.Tollgate == nil || r1.Tollgate.ReceiptID != r2.Tollgate.ReceiptID || r1.Choices[0].Message.Content != r2.Choices[0].Message.Content ||
		new(big.Int).Sub(before, after).Cmp(charged) != 0 {
		t.Fatalf("retry: %s / %s, balance %s -> %s", b1, b2, before, after)
	}
	// The same key and prompt with another parameter is another request.
	status, _, body = e.chat(t, token, strings.Replace(req, `"seed":9`, `"seed":10`, 1), "Idempotency-Key", "k1")
	if status != 409 || !strings.Contains(string(body), `"request_conflict"`) {
		t.Fatalf("an idempotency key reused with another seed: %d %s", status, body)
	}
	status, _, body = e.chat(t, token, `{"model":"acme/tiny@1.0.0","messages":[{"role":"user","content":"Why is water wet"}]}`, "Idempotency-Key", "k1")
	if status != 409 || !strings.Contains(string(body), `"request_conflict"`) {
		t.Fatalf("an idempotency key reused for another prompt: %d %s", status, body)
	}

	// Every receipt the endpoint wrote re-runs with its epoch.
	ep, err := e.s.Settle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := e.verifyEpoch(ctx, ep.N); err != nil || !v.OK() || v.Receipts != 4 {
		t.Fatalf("verify: %+v, %v", v, err)
	}
	if err := e.led.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// Requests the endpoint cannot honour are refused in OpenAI's error shape
// with a distinct code, and charge nothing.
func TestOpenAIRefusals(t *testing.T) {
	e := newModelEnv(t, 16)
	ctx := context.Background()
	caller, token := e.fund(t, 10_000_000)
	_, poor := e.fund(t, 0)
	for _, c := range []struct {
		name, token, body string
		status            int
		code              string
	}{
		{"no token", "", `{"model":"acme/tiny@1.0.0","messages":[{"role":"user","content":"hi"}]}`, 401, "bad_signature"},
		{"unknown field", token, `{"model":"acme/tiny@1.0.0","messages":[{"role":"user","content":"hi"}],"top_p":0.5}`, 400, "bad_request"},
		{"n=2", token, `{"model":"acme/tiny@1.0.0","messages":[{"role":"user","content":"hi"}],"n":2}`, 400, "bad_request"},
		{"no messages", token, `{"model":"acme/tiny@1.0.0","messages":[]}`, 400, "bad_request"},
		{"bad role", token, `{"model":"acme/tiny@1.0.0","messages":[{"role":"tool","content":"hi"}]}`, 400, "bad_request"},
		{"image part", token, `{"model":"acme/tiny@1.0.0","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}`, 400, "bad_request"},
		{"a model without its version", token, `{"model":"acme/tiny","messages":[{"role":"user","content":"hi"}]}`, 400, "bad_request"},
		{"a model at latest", token, `{"model":"acme/tiny@latest","messages":[{"role":"user","content":"hi"}]}`, 400, "bad_request"},
		{"an agent at latest", token, `{"model":"agent:acme/rag@latest","messages":[{"role":"user","content":"hi"}]}`, 400, "bad_request"},
		{"a temperature the embedded model cannot re-run", token, `{"model":"acme/tiny@1.0.0","messages":[{"role":"user","content":"hi"}],"temperature":0.7}`, 400, "bad_request"},
		{"unknown model", token, `{"model":"acme/none@1.0.0","messages":[{"role":"user","content":"hi"}]}`, 404, "not_found"},
		{"an agent as a model", token, `{"model":"acme/rag@1.0.0","messages":[{"role":"user","content":"hi"}]}`, 400, "bad_request"},
		{"max_tokens past the model's cap", token, `{"model":"acme/tiny@1.0.0","messages":[{"role":"user","content":"hi"}],"max_tokens":5000}`, 400, "bad_request"},
		{"temperature out of range", token, `{"model":"acme/tiny@1.0.0","messages":[{"role":"user","content":"hi"}],"temperature":3}`, 400, "bad_request"},
		{"agent with max_tokens", token, `{"model":"agent:acme/rag@1.0.0","messages":[{"role":"user","content":"hi"}],"max_tokens":3}`, 400, "bad_request"},
		{"no credit", poor, `{"model":"acme/tiny@1.0.0","messages":[{"role":"user","content":"Why is the sky blue"}]}`, 402, "insufficient_credit"},
	} {
		status, hdr, body := e.chat(t, c.token, c.body)
		var env struct {
			Error struct {
				Message string `json:"message"`
				Code    string `json:"code"`
			} `json:"error"`
		}
		if err := json.Unmarshal(body, &env); err != nil || status != c.status || env.Error.Code != c.code || env.Error.Message == "" || hdr.Get("Tollgate-Code") != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, status, body, c.status, c.code)
		}
	}
	if rs, _ := e.led.Receipts(ctx, 1); len(rs) != 0 {
		t.Fatalf("refused requests left %d receipts", len(rs))
	}
	if bal, _ := e.led.Balance(ctx, caller); bal.Cmp(big.NewInt(10_000_000)) != 0 {
		t.Fatalf("refused requests charged: %s", bal)
	}
}

// GET /v1/models lists the models and agents a request may name, and
// leaves out what is yanked.
func TestOpenAIModels(t *testing.T) {
	e := newModelEnv(t, 16)
	_, token := e.fund(t, 0)
	req, _ := http.NewRequest("GET", e.url+"/v1/models", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Object string `json:"object"`
		Data   []struct {
			ID      string `json:"id"`
			Object  string `json:"object"`
			OwnedBy string `json:"owned_by"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || list.Object != "list" {
		t.Fatalf("models: %v %+v", err, list)
	}
	ids := map[string]string{}
	for _, m := range list.Data {
		ids[m.ID] = m.OwnedBy
	}
	if ids["acme/tiny@1.0.0"] != registry.Address(e.modelKey) || ids["agent:acme/rag@1.0.0"] == "" || ids["agent:acme/qa@1.0.0"] == "" {
		t.Fatalf("models %v", ids)
	}
	for id := range ids {
		if strings.HasPrefix(id, "agent:builtin/") || strings.HasPrefix(id, "builtin/") {
			t.Fatalf("lists %s, an attribution plugin", id)
		}
	}
}

// The official openai client (pinned in testdata/openai-client, installed
// by .ci/run, which sets TOLLGATE_OPENAI_CLIENT) works against the node
// unmodified: a completion, a streamed one, the model list and a refusal,
// and the receipts it was given are the ledger's.
func TestOfficialOpenAIClient(t *testing.T) {
	dir := os.Getenv("TOLLGATE_OPENAI_CLIENT")
	if dir == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TOLLGATE_OPENAI_CLIENT is not set: .ci/run installs the openai client and sets it")
		}
		t.Skip("set TOLLGATE_OPENAI_CLIENT to host/testdata/openai-client after npm ci there")
	}
	e := newModelEnv(t, 16)
	ctx := context.Background()
	_, token := e.fund(t, 10_000_000)
	cmd := exec.CommandContext(ctx, "node", "client.mjs", e.url, token, "acme/tiny@1.0.0")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node client.mjs: %v\n%s", err, out)
	}
	var got struct {
		Text, Finish, Receipt, Streamed, StreamReceipt string
		StreamUsage                                    int
		Usage                                          struct {
			Completion int `json:"completion_tokens"`
		}
		Models  []string
		Refused *struct {
			Status int
			Code   string
		}
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("client printed %s: %v", out, err)
	}
	if !strings.HasPrefix(got.Text, "because air scatters") || got.Finish != "length" || got.Usage.Completion != 8 || got.Streamed != got.Text ||
		got.StreamUsage != 8 || !slices.Contains(got.Models, "acme/tiny@1.0.0") || got.Refused == nil || got.Refused.Status != 404 || got.Refused.Code != "not_found" {
		t.Fatalf("the openai client saw %s", out)
	}
	for _, id := range []string{got.Receipt, got.StreamReceipt} {
		rc, err := e.led.Receipt(ctx, id)
		if err != nil || !rc.IsGeneration() {
			t.Fatalf("receipt %q: %+v, %v", id, rc, err)
		}
	}
}
