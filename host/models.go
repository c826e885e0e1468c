package host

import (
	"context"
	"fmt"
	"math/big"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/model"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/rules"
)

// modelCalls answers one invocation's model_generate calls: each holds its
// worst case (the prompt and max_tokens at the model's prices) from the
// caller's reservation before the model runs, then gives back what the
// tokens generated did not cost. A call runs on one goroutine, so it
// needs no lock.
type modelCalls struct {
	h   *Host
	res *ledger.Reservation
	// turn is the agent's turn to run, which a call to a model server
	// gives up while it waits (nil: none is held).
	turn *turn
	gens []ledger.Generation
	uses []rules.ModelUse
}

// Generate runs one model call for the agent; the runtime has checked the
// grant and the cap on tokens.
func (mc *modelCalls) Generate(ctx context.Context, r abi.GenerateRequest) (abi.GenerateResponse, error) {
	p, err := mc.h.loadModel(ctx, r.Model)
	if err != nil {
		return abi.GenerateResponse{}, err
	}
	spec := p.Manifest.Model
	req := model.Request{Prompt: model.PromptText(r), MaxTokens: min(r.MaxTokens, spec.TokenCap()), Temperature: r.Temperature, Seed: r.Seed, Stop: r.Stop}
	if err := model.CheckRequest(spec, req); err != nil {
		return abi.GenerateResponse{}, err
	}
	if len(mc.gens) >= ledger.MaxGenerations {
		return abi.GenerateResponse{}, abi.Errorf(abi.CodeBadRequest, "more than %d model calls in one call", ledger.MaxGenerations)
	}
	// The worst case is held before the model is built or run: a caller
	// who cannot pay for the call costs the node nothing.
	pin, pout := spec.Prices()
	promptTokens := model.PromptTokens(spec, req.Prompt)
	worst := rules.ModelCost(pin, pout, promptTokens, req.MaxTokens)
	if err := mc.res.Extend(worst); err != nil {
		return abi.GenerateResponse{}, fmt.Errorf("%s may cost %s: %w", p.Manifest.Ref(), worst, err)
	}
	backend, err := mc.h.models.Backend(ctx, p)
	if err != nil {
		mc.res.Shrink(worst)
		return abi.GenerateResponse{}, err
	}
	var out model.Result
	var genErr error
	generate := func() { out, genErr = backend.Generate(ctx, req) }
	if spec.Backend == registry.BackendInfgram {
		generate() // on the node's cores, in the agent's turn
	} else {
		mc.turn.away(ctx, generate)
	}
	// What the backend used, never more than was held for it.
	out.TokensIn = min(max(out.TokensIn, 0), promptTokens)
	out.TokensOut = min(max(out.TokensOut, 0), req.MaxTokens)
	cost := rules.ModelCost(pin, pout, out.TokensIn, out.TokensOut)
	if err := mc.res.Shrink(new(big.Int).Sub(worst, cost)); err != nil {
		return abi.GenerateResponse{}, err
	}
	if genErr == nil && len(out.Text) > ledger.MaxGenerationText {
		genErr = abi.Errorf(abi.CodeModelFailed, "%s answered %d bytes, more than a receipt keeps", p.Manifest.Ref(), len(out.Text))
		out.Text = ""
	}
	if genErr != nil {
		out.Text, out.Shares, out.Finish = "", nil, "error"
	}
	if cost.Sign() > 0 || genErr == nil {
		mc.gens = append(mc.gens, ledger.Generation{
			Model: p.Manifest.Ref(), ModelHash: p.ManifestHash(), Backend: spec.Backend, Seed: req.Seed, Temperature: req.Temperature,
			MaxTokens: req.MaxTokens, Stop: req.Stop, Prompt: req.Prompt, TokensIn: out.TokensIn, TokensOut: out.TokensOut,
			Finish: out.Finish, Text: out.Text, Cost: cost, Shares: out.Shares,
		})
		mc.uses = append(mc.uses, rules.ModelUse{Model: p.Manifest.Ref(), Publisher: p.Manifest.Publisher, Cost: cost, TokensOut: out.TokensOut, Shares: out.Shares})
	}
	if genErr != nil {
		return abi.GenerateResponse{TokensIn: out.TokensIn, TokensOut: out.TokensOut}, abi.Wrap(abi.CodeModelFailed, genErr, "%s", p.Manifest.Ref())
	}
	return abi.GenerateResponse{Text: out.Text, TokensIn: out.TokensIn, TokensOut: out.TokensOut, FinishReason: out.Finish}, nil
}

// loadModel loads a model an agent calls and checks it may run: a model,
// not yanked, and every datanet it was built from still admits it (an
// owner may have tightened its policy since).
func (h *Host) loadModel(ctx context.Context, ref string) (*registry.Plugin, error) {
	p, err := h.reg.Load(ctx, ref)
	if err != nil {
		return nil, err
	}
	m := p.Manifest
	switch {
	case m.Kind != abi.KindModel || m.Model == nil:
		return nil, abi.Errorf(abi.CodeBadRequest, "%s is not a model", m.Ref())
	case p.Yanked:
		return nil, abi.Errorf(abi.CodeNotFound, "%s was yanked", m.Ref())
	}
	for _, t := range m.Model.Training {
		d, err := h.reg.Datanet(ctx, t.Datanet)
		if err != nil {
			return nil, err
		}
		if err := d.Allows(m); err != nil {
			return nil, err
		}
	}
	return p, nil
}
