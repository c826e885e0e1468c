package host

import (
	"context"
	"encoding/json"
	"math/big"
	"time"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/model"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/rules"
)

// GenerateRequest is a caller's call of a model with no agent between, as
// the OpenAI-compatible endpoint makes it.
type GenerateRequest struct {
	Caller string
	// Request names the model (name@version or name@latest) and what to
	// generate; MaxTokens 0 takes the model's cap.
	Request   abi.GenerateRequest
	RequestID string // empty: the host picks one
}

// GenerateResult is the model's answer and the committed receipt.
type GenerateResult struct {
	Response abi.GenerateResponse
	Receipt  *ledger.Receipt
	Replayed bool
}

// Generate calls a model for a caller: the worst case (the prompt and
// max_tokens at the model's prices) is held before the model runs, the
// tokens used are charged, and the receipt (method "generate", no agent)
// pays the model's publisher and its training records as an agent's call
// of the model would. It returns after the receipt is durable. A backend
// that fails charges what it reports having used, and nothing if nothing.
func (h *Host) Generate(ctx context.Context, req GenerateRequest) (*GenerateResult, error) {
	start := time.Now()
	caller, err := registry.CanonicalAddress(req.Caller)
	if err != nil {
		return nil, err
	}
	id, err := ledger.RequestKey(ledger.RequestGenerate, caller, req.RequestID)
	if err != nil {
		return nil, err
	}
	salt := h.inputSalt(id)
	prompt := model.PromptText(req.Request)
	input := generationInput(prompt, req.Request)
	if req.RequestID != "" {
		if rc, err := h.led.Receipt(ctx, id); err == nil {
			return h.replayGeneration(rc, req.Request.Model, input, salt)
		} else if abi.CodeOf(err) != abi.CodeNotFound {
			return nil, err
		}
	}
	p, err := h.loadModel(ctx, req.Request.Model)
	if err != nil {
		return nil, err
	}
	r := req.Request
	r.Model = p.Manifest.Ref()
	switch limit := p.Manifest.Model.TokenCap(); {
	case r.MaxTokens == 0:
		r.MaxTokens = limit
	case r.MaxTokens < 0 || r.MaxTokens > limit:
		return nil, abi.Errorf(abi.CodeBadRequest, "max_tokens %d: %s generates 1..%d tokens a call", r.MaxTokens, r.Model, limit)
	}
	res, err := h.led.Reserve(ctx, caller, new(big.Int))
	if err != nil {
		return nil, err
	}
	defer res.Release()
	// The embedded model runs on the node's cores and takes a turn like a
	// plugin; a model on a server waits on the network and takes none.
	done := func() {}
	if p.Manifest.Model.Backend == registry.BackendInfgram {
		t, err := h.turn(ctx)
		if err != nil {
			return nil, err
		}
		done = t.done
	}
	mc := &modelCalls{h: h, res: res}
	resp, genErr := mc.Generate(ctx, r)
	done()
	if len(mc.gens) == 0 {
		return nil, genErr // refused or failed before using anything: nothing to charge
	}
	g := mc.gens[0]
	rc := &ledger.Receipt{
		ID: id, RequestID: req.RequestID, Caller: caller, Method: ledger.MethodGenerate, InputHash: saltedHash(salt, input),
		OutputHash: sha256Hex([]byte(g.Text)), Generations: mc.gens, Time: time.Now().UTC(),
	}
	if genErr != nil {
		rc.Method = "failed:" + string(abi.CodeModelFailed)
	}
	rc.Postings = rules.Bill{Caller: caller, Operator: h.opAddr, Fees: h.fees, Models: mc.uses}.Postings()
	if err := h.commit(ctx, rc, []byte(g.Text), res); err != nil {
		if abi.CodeOf(err) == abi.CodeAlreadyExists {
			if prev, perr := h.led.Receipt(ctx, id); perr == nil {
				return h.replayGeneration(prev, req.Request.Model, input, salt)
			}
		}
		return nil, err
	}
	h.metrics.Invoked(start, rc, false, genErr)
	if genErr != nil {
		return nil, genErr
	}
	h.logger.Info("generated", "id", rc.ID, "model", r.Model, "caller", caller, "charged", rc.Debit(), "tokens_out", g.TokensOut)
	return &GenerateResult{Response: resp, Receipt: rc}, nil
}

// generationInput is what a direct model call's input hash covers: the
// prompt and every parameter, so a retry that changes any of them is a
// conflict, not the old answer.
func generationInput(prompt string, r abi.GenerateRequest) []byte {
	b, _ := json.Marshal(struct {
		Prompt      string   `json:"prompt"`
		MaxTokens   int      `json:"max_tokens"`
		Temperature float64  `json:"temperature"`
		Seed        uint64   `json:"seed"`
		Stop        []string `json:"stop"`
	}{prompt, r.MaxTokens, r.Temperature, r.Seed, r.Stop})
	return b
}

// replayGeneration answers a retried model call with its receipt, if the
// retry asks the same model (and version, if it names one) the same
// prompt with the same parameters.
func (h *Host) replayGeneration(rc *ledger.Receipt, ref string, input, salt []byte) (*GenerateResult, error) {
	name, version, err := registry.ParseRef(ref)
	if err != nil {
		return nil, err
	}
	if !rc.IsGeneration() {
		return nil, abi.Errorf(ledger.CodeRequestConflict, "request id %q already answered another request; use a new id", rc.RequestID)
	}
	g := rc.Generations[0]
	prevName, prevVersion, _ := registry.ParseRef(g.Model)
	if name != prevName || (version != "latest" && version != prevVersion) || rc.InputHash != saltedHash(salt, input) {
		return nil, abi.Errorf(ledger.CodeRequestConflict, "request id %q already answered another request (%s); use a new id", rc.RequestID, g.Model)
	}
	if rc.Method != ledger.MethodGenerate {
		return nil, abi.Errorf(abi.CodeModelFailed, "request %q failed before (receipt %s, charged %s)", rc.RequestID, rc.ID, rc.Debit())
	}
	return &GenerateResult{Receipt: rc, Replayed: true, Response: abi.GenerateResponse{
		Text: g.Text, TokensIn: g.TokensIn, TokensOut: g.TokensOut, FinishReason: g.Finish}}, nil
}
