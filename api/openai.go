package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/host"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/registry"
)

// The OpenAI-compatible API: POST /v1/chat/completions and GET /v1/models,
// so existing clients (the openai libraries, curl, chat front ends) call a
// node's models and agents unmodified. "model" names a model
// (name@version or name@latest) or an agent ("agent:name@version"). The
// caller authenticates with its API token as a bearer token, the edge's
// limits apply, and every answer carries its receipt in the "tollgate"
// field. Errors are OpenAI's shape: {"error": {"message", "type", "code"}}
// with the abi code as "code".

// AgentPrefix marks an agent in an OpenAI request's "model".
const AgentPrefix = "agent:"

// chatRequest is the part of OpenAI's chat completion request the node
// takes; any other field is refused, so nothing a client asks for is
// silently ignored.
type chatRequest struct {
	Model               string          `json:"model"`
	Messages            []chatMessage   `json:"messages"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Temperature         *float64        `json:"temperature"`
	Seed                *uint64         `json:"seed"`
	Stop                json.RawMessage `json:"stop"`
	Stream              bool            `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	N    *int   `json:"n"`
	User string `json:"user"` // an end user's id, for the caller's own logs: accepted and not stored
}

type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// text is a message's content: a string, or text parts.
func (m chatMessage) text() (string, error) {
	var s string
	if err := json.Unmarshal(m.Content, &s); err == nil {
		return s, nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(m.Content, &parts); err != nil {
		return "", abi.Errorf(abi.CodeBadRequest, "message content: want a string or text parts")
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type != "text" {
			return "", abi.Errorf(abi.CodeBadRequest, "message content part of type %q: only text is taken", p.Type)
		}
		b.WriteString(p.Text)
	}
	return b.String(), nil
}

// openAIError writes err in OpenAI's error shape, with the status its
// Connect code maps to.
func openAIError(w http.ResponseWriter, err error) {
	code := abi.CodeOf(err)
	cc, ok := connectCodes[code]
	if !ok {
		cc = connect.CodeAborted
	}
	status := map[connect.Code]int{
		connect.CodeInvalidArgument: http.StatusBadRequest, connect.CodeNotFound: http.StatusNotFound,
		connect.CodePermissionDenied: http.StatusForbidden, connect.CodeUnauthenticated: http.StatusUnauthorized,
		connect.CodeFailedPrecondition: http.StatusPaymentRequired, connect.CodeResourceExhausted: http.StatusTooManyRequests,
		connect.CodeUnavailable: http.StatusServiceUnavailable, connect.CodeDeadlineExceeded: http.StatusGatewayTimeout,
		connect.CodeAlreadyExists: http.StatusConflict, connect.CodeAborted: http.StatusUnprocessableEntity,
	}[cc]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if code == CodeTooLarge {
		status = http.StatusRequestEntityTooLarge
	}
	msg := errorMessage(err, code, cc)
	if len(msg) > MaxErrorBytes {
		msg = strings.ToValidUTF8(msg[:MaxErrorBytes], "") + "…"
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(CodeHeader, string(code))
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": strings.ReplaceAll(cc.String(), " ", "_"), "code": string(code)}})
}

// openAI wraps an OpenAI endpoint in the edge: authenticated by bearer
// token, the body bounded, and the account's rate and in-flight limits.
func (e *edge) openAI(next func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := e.auth.Authenticate(r.Header)
		if err != nil {
			openAIError(w, err)
			return
		}
		if r.ContentLength > e.limits.MaxBodyBytes {
			openAIError(w, abi.Errorf(CodeTooLarge, "request body is %d bytes, limit %d", r.ContentLength, e.limits.MaxBodyBytes))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, e.limits.MaxBodyBytes)
		release, err := e.admit(p.Account)
		if err != nil {
			openAIError(w, err)
			return
		}
		defer release()
		next(w, r, p.Account)
	}
}

// chatCall is a chat completion request as the node runs it.
type chatCall struct {
	agent  string // set for an agent
	gen    abi.GenerateRequest
	input  string // an agent's input: the last user message
	stream bool
	usage  bool
}

func parseChat(r *http.Request) (*chatCall, error) {
	body := new(bytes.Buffer)
	if _, err := body.ReadFrom(r.Body); err != nil {
		if _, ok := err.(*http.MaxBytesError); ok {
			return nil, abi.Errorf(CodeTooLarge, "request body past its limit")
		}
		return nil, abi.Wrap(abi.CodeBadRequest, err, "read the request")
	}
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	var req chatRequest
	if err := dec.Decode(&req); err != nil {
		return nil, abi.Wrap(abi.CodeBadRequest, err, "chat completion request (the node takes model, messages, max_tokens, max_completion_tokens, temperature, seed, stop, stream, stream_options, n=1 and user)")
	}
	if req.N != nil && *req.N != 1 {
		return nil, abi.Errorf(abi.CodeBadRequest, "n=%d: the node answers one choice a request", *req.N)
	}
	if len(req.Messages) == 0 {
		return nil, abi.Errorf(abi.CodeBadRequest, "no messages")
	}
	c := &chatCall{stream: req.Stream, usage: req.StreamOptions != nil && req.StreamOptions.IncludeUsage}
	var err error
	if req.StreamOptions != nil && !req.Stream {
		return nil, abi.Errorf(abi.CodeBadRequest, "stream_options without stream")
	}
	for _, m := range req.Messages {
		switch m.Role {
		case "system", "developer", "user", "assistant":
		default:
			return nil, abi.Errorf(abi.CodeBadRequest, "message role %q: want system, developer, user or assistant", m.Role)
		}
		text, err := m.text()
		if err != nil {
			return nil, err
		}
		c.gen.Messages = append(c.gen.Messages, abi.Message{Role: m.Role, Content: text})
		if m.Role == "user" {
			c.input = text
		}
	}
	if agent, ok := strings.CutPrefix(req.Model, AgentPrefix); ok {
		if req.MaxTokens != nil || req.MaxCompletionTokens != nil || req.Temperature != nil || req.Seed != nil || len(req.Stop) > 0 {
			return nil, abi.Errorf(abi.CodeBadRequest, "%s is an agent: it takes the last user message as its input, and no max_tokens, temperature, seed or stop", req.Model)
		}
		if c.input == "" {
			return nil, abi.Errorf(abi.CodeBadRequest, "%s is an agent: send its input as a user message", req.Model)
		}
		if c.agent, err = pinned(agent); err != nil {
			return nil, err
		}
		return c, nil
	}
	if c.gen.Model, err = pinned(req.Model); err != nil {
		return nil, err
	}
	if req.MaxTokens != nil && req.MaxCompletionTokens != nil && *req.MaxTokens != *req.MaxCompletionTokens {
		return nil, abi.Errorf(abi.CodeBadRequest, "max_tokens %d and max_completion_tokens %d disagree", *req.MaxTokens, *req.MaxCompletionTokens)
	}
	for _, n := range []*int{req.MaxTokens, req.MaxCompletionTokens} {
		if n != nil {
			if *n <= 0 {
				return nil, abi.Errorf(abi.CodeBadRequest, "max_tokens %d: want at least 1", *n)
			}
			c.gen.MaxTokens = *n
		}
	}
	if req.Temperature != nil {
		c.gen.Temperature = *req.Temperature
	} else {
		c.gen.Temperature = 1 // OpenAI's default
	}
	if req.Seed != nil {
		c.gen.Seed = *req.Seed
	}
	if len(req.Stop) > 0 && string(req.Stop) != "null" {
		var one string
		if err := json.Unmarshal(req.Stop, &one); err == nil {
			c.gen.Stop = []string{one}
		} else if err := json.Unmarshal(req.Stop, &c.gen.Stop); err != nil {
			return nil, abi.Errorf(abi.CodeBadRequest, "stop: want a string or a list of strings")
		}
	}
	return c, nil
}

// pinned refuses a model or agent named without its version: this API has
// no max_price, so a request names the version whose prices its caller
// saw (GET /v1/models lists them), and a new version at a higher price
// cannot take its place.
func pinned(ref string) (string, error) {
	_, version, err := registry.ParseRef(ref)
	if err != nil || version == "latest" {
		return "", abi.Errorf(abi.CodeBadRequest, "model %q: name a version, name@X.Y.Z, as GET /v1/models lists them: a version's prices never change", ref)
	}
	return ref, nil
}

// chatAnswer is what a chat completion answers, from either path.
type chatAnswer struct {
	model     string
	text      string
	finish    string
	tokensIn  int
	tokensOut int
	receipt   *ledger.Receipt
}

func (a *api) chat(ctx context.Context, caller string, c *chatCall, requestID string) (*chatAnswer, error) {
	if c.agent != "" {
		res, err := a.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: c.agent, Input: []byte(c.input), RequestID: requestID})
		if err != nil {
			return nil, err
		}
		ans := &chatAnswer{model: AgentPrefix + res.Receipt.Agent, text: strings.ToValidUTF8(string(res.Output), "\uFFFD"), finish: "stop", receipt: res.Receipt}
		for _, g := range res.Receipt.Generations {
			ans.tokensIn += g.TokensIn
			ans.tokensOut += g.TokensOut
		}
		return ans, nil
	}
	res, err := a.h.Generate(ctx, host.GenerateRequest{Caller: caller, Request: c.gen, RequestID: requestID})
	if err != nil {
		return nil, err
	}
	g := res.Receipt.Generations[0]
	finish := "stop"
	if res.Response.FinishReason == "length" {
		finish = "length"
	}
	return &chatAnswer{model: g.Model, text: res.Response.Text, finish: finish, tokensIn: res.Response.TokensIn, tokensOut: res.Response.TokensOut, receipt: res.Receipt}, nil
}

// receiptField is the "tollgate" extension of every answer: the receipt
// that paid for it, as the Connect API shows it.
func receiptField(rc *ledger.Receipt) json.RawMessage {
	b, _ := protojson.Marshal(receiptProto(rc))
	return json.RawMessage(fmt.Appendf(nil, `{"receipt_id":%q,"charged":%q,"receipt":%s}`, rc.ID, rc.Debit().String(), b))
}

func (a *api) chatCompletions(w http.ResponseWriter, r *http.Request, caller string) {
	c, err := parseChat(r)
	if err != nil {
		openAIError(w, err)
		return
	}
	ans, err := a.chat(r.Context(), caller, c, r.Header.Get("Idempotency-Key"))
	if err != nil {
		openAIError(w, err)
		return
	}
	id := "chatcmpl-" + ans.receipt.ID
	created := ans.receipt.Time.Unix()
	usage := map[string]int{"prompt_tokens": ans.tokensIn, "completion_tokens": ans.tokensOut, "total_tokens": ans.tokensIn + ans.tokensOut}
	if !c.stream {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"id": id, "object": "chat.completion", "created": created, "model": ans.model,
			"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": ans.text}, "finish_reason": ans.finish}},
			"usage":   usage, "tollgate": receiptField(ans.receipt),
		})
		return
	}
	// The receipt is durable before the first byte, as for every answer:
	// the stream sends the committed text, a word at a time.
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	flusher, _ := w.(http.Flusher)
	send := func(v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "data: %s\n\n", b)
		if flusher != nil {
			flusher.Flush()
		}
	}
	chunk := func(delta map[string]any, finish any) map[string]any {
		return map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": ans.model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}}
	}
	send(chunk(map[string]any{"role": "assistant", "content": ""}, nil))
	for _, piece := range words(ans.text) {
		send(chunk(map[string]any{"content": piece}, nil))
	}
	last := chunk(map[string]any{}, ans.finish)
	last["tollgate"] = receiptField(ans.receipt)
	send(last)
	if c.usage {
		send(map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": ans.model, "choices": []any{}, "usage": usage})
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
}

// words splits text into pieces that concatenate back to it: each word
// with the spaces before it.
func words(text string) []string {
	var out []string
	start := 0
	inSpace := true
	for i, r := range text {
		space := r == ' ' || r == '\n' || r == '\t'
		if !space && inSpace && i > start && strings.TrimSpace(text[start:i]) != "" {
			out = append(out, text[start:i])
			start = i
		}
		inSpace = space
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	if !utf8.ValidString(strings.Join(out, "")) {
		return []string{strings.ToValidUTF8(text, "\uFFFD")}
	}
	return out
}

// models lists what "model" may name: the models and agents published and
// not yanked.
func (a *api) models(w http.ResponseWriter, r *http.Request, _ string) {
	var data []map[string]any
	for after := ""; ; {
		page, err := a.reg.Plugins(r.Context(), after, 1000)
		if err != nil {
			openAIError(w, err)
			return
		}
		for _, p := range page {
			m := p.Manifest
			id := ""
			switch {
			case p.Yanked:
			case m.Kind == abi.KindModel:
				id = m.Ref()
			case m.Kind == abi.KindAgent:
				id = AgentPrefix + m.Ref()
			}
			if id != "" {
				data = append(data, map[string]any{"id": id, "object": "model", "created": p.Published.Unix(), "owned_by": m.Publisher})
			}
		}
		if len(page) < 1000 {
			break
		}
		after = page[len(page)-1].Manifest.Ref()
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data})
}
