package model

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/tokenize"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/registry"
)

// Server is an OpenAI-compatible server an operator configures for the
// models published on it (llama.cpp's server, vLLM, Ollama, a hosted API).
type Server struct {
	URL    string // base URL; requests go to URL/v1/chat/completions
	APIKey string // sent as a bearer token, if set
	// Client makes the requests (nil: a client without a timeout of its
	// own: the agent's wall-clock limit bounds each call).
	Client *http.Client
}

// Matcher finds spans of a text verbatim in a datanet at a version, and
// reads the records they are in: what attributes a server's output to the
// model's training data. A registry View is one.
type Matcher interface {
	CorpusMatch(ctx context.Context, datanet, text string, minTokens int) ([]abi.Span, error)
	Get(ctx context.Context, datanet, id string) (abi.Record, error)
}

// MinSpanTokens is the shortest span of a server's output, in words, that
// counts as reproduced from a training record.
const MinSpanTokens = 4

// promptOverhead bounds the tokens a server's chat template adds to a
// prompt: what a call's worst case allows beyond the prompt's bytes.
const promptOverhead = 64

// OpenAI is a model on an OpenAI-compatible server. Its text cannot be
// re-run by anyone else; its attribution can: each generated token counts
// for the training records whose text the output reproduces verbatim
// (spans of at least MinSpanTokens words), split evenly over the records
// holding a span.
type OpenAI struct {
	server   Server
	remote   string
	training []registry.TrainingData
	match    Matcher
}

// NewOpenAI returns the backend of a model spec on server, attributing
// through m (a view of the training datanets at their pinned versions).
func NewOpenAI(server Server, spec *registry.ModelSpec, m Matcher) *OpenAI {
	if server.Client == nil {
		// Calls to one server come many at once: keep their connections
		// (the default transport keeps two a host, and dials the rest anew).
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 256
		server.Client = &http.Client{Transport: t}
	}
	return &OpenAI{server: server, remote: spec.Remote, training: spec.Training, match: m}
}

// PromptTokens bounds the prompt's tokens before the server counts them:
// no tokenizer makes more tokens than bytes, and the chat template adds
// at most promptOverhead.
func (o *OpenAI) PromptTokens(prompt string) int {
	return PromptTokens(&registry.ModelSpec{Backend: registry.BackendOpenAI}, prompt)
}

type openAIRequest struct {
	Model       string        `json:"model"`
	Messages    []abi.Message `json:"messages"`
	MaxTokens   int           `json:"max_tokens"`
	Temperature float64       `json:"temperature"`
	Seed        uint64        `json:"seed"`
	Stop        []string      `json:"stop,omitempty"`
	Stream      bool          `json:"stream"`
}

type openAIResponse struct {
	Choices []struct {
		Message struct {
			Content string `json:"content"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// MaxResponseBytes bounds what a server's answer may take.
const MaxResponseBytes = 4 << 20

// Generate asks the server for a completion. A failed call charges the
// usage the server reports, and nothing when it reports none.
func (o *OpenAI) Generate(ctx context.Context, req Request) (Result, error) {
	body, _ := json.Marshal(openAIRequest{Model: o.remote, Messages: []abi.Message{{Role: "user", Content: req.Prompt}},
		MaxTokens: req.MaxTokens, Temperature: req.Temperature, Seed: req.Seed, Stop: req.Stop})
	hreq, err := http.NewRequestWithContext(ctx, "POST", strings.TrimRight(o.server.URL, "/")+"/v1/chat/completions", bytes.NewReader(body))
	if err != nil {
		return Result{}, &abi.Error{Code: abi.CodeModelFailed, Message: "the model server's URL is not usable", Cause: err}
	}
	hreq.Header.Set("Content-Type", "application/json")
	if o.server.APIKey != "" {
		hreq.Header.Set("Authorization", "Bearer "+o.server.APIKey)
	}
	start := time.Now()
	resp, err := o.server.Client.Do(hreq)
	if err != nil {
		// The cause stays in the node's logs: its text names the server's
		// address, which is the operator's to know.
		if ctx.Err() != nil {
			return Result{}, &abi.Error{Code: abi.CodeTimeout, Message: fmt.Sprintf("the model server did not answer within the agent's time (%s)", time.Since(start).Round(time.Millisecond)), Cause: err}
		}
		return Result{}, &abi.Error{Code: abi.CodeModelFailed, Message: "the model server could not be reached", Cause: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	var r openAIResponse
	decodeErr := json.Unmarshal(raw, &r)
	// The server's counts, never more than were held for.
	res := Result{}
	if r.Usage != nil {
		res.TokensIn = min(max(r.Usage.PromptTokens, 0), o.PromptTokens(req.Prompt))
		res.TokensOut = min(max(r.Usage.CompletionTokens, 0), req.MaxTokens)
	}
	switch {
	case err != nil:
		return res, abi.Wrap(abi.CodeModelFailed, err, "model server: read the answer")
	case len(raw) > MaxResponseBytes:
		return res, abi.Errorf(abi.CodeModelFailed, "model server answered more than %d bytes", MaxResponseBytes)
	case resp.StatusCode != http.StatusOK:
		msg := strings.TrimSpace(string(raw))
		if r.Error != nil {
			msg = r.Error.Message
		}
		return res, &abi.Error{Code: abi.CodeModelFailed, Message: "the model server answered " + resp.Status, Cause: fmt.Errorf("%.200s", msg)}
	case decodeErr != nil:
		return res, abi.Wrap(abi.CodeModelFailed, decodeErr, "model server answered something that is not a chat completion")
	case len(r.Choices) != 1 || r.Usage == nil:
		return res, abi.Errorf(abi.CodeModelFailed, "model server answered %d choices (want 1) and usage %v", len(r.Choices), r.Usage != nil)
	}
	res.Text = r.Choices[0].Message.Content
	if len(res.Text) > ledger.MaxGenerationText {
		return res, abi.Errorf(abi.CodeModelFailed, "the model server answered %d bytes, more than a receipt keeps", len(res.Text))
	}
	switch r.Choices[0].FinishReason {
	case "length":
		res.Finish = "length"
	default:
		res.Finish = "stop"
	}
	res.Shares, err = o.Trace(ctx, res.Text, res.TokensOut)
	if err != nil {
		return res, err
	}
	return res, nil
}

// Trace attributes text, of tokens server tokens, to the training
// records it reproduces: each record is owed tokens × (the words of the
// spans it holds, each span's split evenly over the records holding it) /
// the words of text (or of all spans, where they overlap to more). A span
// held by more than MaxSources records counts for none. It is
// what a verifier re-runs on a server's recorded output.
func (o *OpenAI) Trace(ctx context.Context, text string, tokens int) ([]ledger.TokenShare, error) {
	return Trace(ctx, o.match, o.training, text, tokens)
}

// Trace is [OpenAI.Trace] for any matcher and training data.
func Trace(ctx context.Context, m Matcher, training []registry.TrainingData, text string, tokens int) ([]ledger.TokenShare, error) {
	words := len(tokenize.Tokens(text))
	if words == 0 || tokens <= 0 {
		return nil, nil
	}
	type key struct{ datanet, id string }
	weight := map[key]*big.Rat{}
	total := new(big.Rat)
	for _, t := range training {
		spans, err := m.CorpusMatch(ctx, t.Datanet, text, MinSpanTokens)
		if err != nil {
			return nil, fmt.Errorf("model: trace the output in %s: %w", t.Datanet, err)
		}
		for _, s := range spans {
			if len(s.Records) == 0 || len(s.Records) > MaxSources {
				continue // in no record, or common to many: no record in particular made it
			}
			each := big.NewRat(int64(s.Tokens), int64(len(s.Records)))
			for _, id := range s.Records {
				k := key{t.Datanet, id}
				if weight[k] == nil {
					weight[k] = new(big.Rat)
				}
				weight[k].Add(weight[k], each)
			}
			total.Add(total, big.NewRat(int64(s.Tokens), 1))
		}
	}
	denom := big.NewRat(int64(words), 1)
	if total.Cmp(denom) > 0 {
		denom = total
	}
	keys := make([]key, 0, len(weight))
	for k := range weight {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].datanet != keys[j].datanet {
			return keys[i].datanet < keys[j].datanet
		}
		return keys[i].id < keys[j].id
	})
	var out []ledger.TokenShare
	for _, k := range keys {
		rec, err := m.Get(ctx, k.datanet, k.id)
		if err != nil {
			return nil, fmt.Errorf("model: training record %s/%s: %w", k.datanet, k.id, err)
		}
		share := new(big.Rat).Mul(weight[k], big.NewRat(int64(tokens), 1))
		share.Quo(share, denom)
		out = append(out, ledger.TokenShare{Datanet: k.datanet, Record: k.id, Contributor: rec.Contributor, Tokens: share})
	}
	return out, nil
}
