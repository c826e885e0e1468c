package verify

import (
	"context"
	"fmt"
	"strings"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/model"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/rules"
)

// rerunModels re-runs the model calls a receipt records and returns them
// as the bill charges them. Each model must be the one the receipt names
// (its manifest hash) and granted to the agent; its training data must
// hash to the roots the manifest pins. An embedded model's generation is
// re-run from the recorded prompt and parameters and must give the same
// text, token counts, finish and shares, exactly; a model on a server
// cannot be re-run, so its recorded counts stand and the report says so.
func (v *Verifier) rerunModels(ctx context.Context, rc *ledger.Receipt, agent *registry.Manifest) ([]rules.ModelUse, error) {
	var uses []rules.ModelUse
	for i, g := range rc.Generations {
		p, err := v.data.Plugin(ctx, g.Model)
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", g.Model, err)
		}
		m := p.Manifest
		switch {
		case m.Kind != abi.KindModel || m.Model == nil:
			return nil, abi.Errorf(abi.CodeBadRequest, "%s is not a model", g.Model)
		case m.Hash() != g.ModelHash:
			return nil, abi.Errorf(abi.CodeHashMismatch, "model %s's manifest is %s, the receipt called %s", g.Model, m.Hash(), g.ModelHash)
		case g.Backend != m.Model.Backend:
			return nil, fmt.Errorf("generation %d: backend %q, the model's is %q", i, g.Backend, m.Model.Backend)
		}
		// What the node enforces before and after a model runs, a
		// receipt must keep: within the model's cap and the agent's
		// grant, a request the node takes, and no more prompt tokens than
		// were held for.
		if agent != nil {
			if limit, ok := agent.Models.Cap(g.Model); !ok || g.MaxTokens > limit {
				return nil, fmt.Errorf("generation %d: %s with max_tokens %d is not granted to %s", i, g.Model, g.MaxTokens, agent.Ref())
			}
		}
		req := model.Request{Prompt: g.Prompt, MaxTokens: g.MaxTokens, Temperature: g.Temperature, Seed: g.Seed, Stop: g.Stop}
		switch {
		case g.MaxTokens > m.Model.TokenCap():
			return nil, fmt.Errorf("generation %d: max_tokens %d past %s's cap of %d", i, g.MaxTokens, g.Model, m.Model.TokenCap())
		case g.TokensIn > model.PromptTokens(m.Model, g.Prompt):
			return nil, fmt.Errorf("generation %d: %d prompt tokens charged, at most %d held", i, g.TokensIn, model.PromptTokens(m.Model, g.Prompt))
		case rc.IsGeneration() && (g.Finish == "error") != (rc.Method != ledger.MethodGenerate):
			return nil, fmt.Errorf("generation %d finished %q in a receipt whose method is %q", i, g.Finish, rc.Method)
		}
		if err := model.CheckRequest(m.Model, req); err != nil {
			return nil, fmt.Errorf("generation %d: %w", i, err)
		}
		for _, t := range m.Model.Training {
			root, err := v.data.VersionRoot(ctx, t.Datanet, t.Version)
			if err != nil {
				return nil, err
			}
			if !strings.EqualFold(root, t.Root) {
				return nil, abi.Errorf(abi.CodeHashMismatch, "model %s: datanet %s at version %d has root %s, the manifest pins %s", g.Model, t.Datanet, t.Version, root, t.Root)
			}
		}
		got := model.Result{Text: g.Text, TokensIn: g.TokensIn, TokensOut: g.TokensOut, Finish: g.Finish, Shares: g.Shares}
		if m.Model.Backend == registry.BackendInfgram {
			b, err := v.models.Backend(ctx, p)
			if err != nil {
				return nil, err
			}
			got, err = b.Generate(ctx, req)
			if err != nil {
				return nil, err
			}
			if got.Text != g.Text || got.TokensIn != g.TokensIn || got.TokensOut != g.TokensOut || got.Finish != g.Finish {
				return nil, fmt.Errorf("generation %d of %s re-ran to %d tokens (%s) %.80q, the receipt says %d (%s) %.80q",
					i, g.Model, got.TokensOut, got.Finish, got.Text, g.TokensOut, g.Finish, g.Text)
			}
			if a, b := shareText(got.Shares), shareText(g.Shares); a != b {
				return nil, fmt.Errorf("generation %d of %s re-ran to shares %s, the receipt says %s", i, g.Model, a, b)
			}
		} else {
			// The server's text cannot be re-run; its attribution can.
			v.notes = append(v.notes, fmt.Sprintf("receipt %s: generation %d of %s ran on the server %q: its text and token counts are as signed, not re-run; its attribution was", rc.ID, i, g.Model, m.Model.Server))
			if g.Finish != "error" {
				shares, err := model.Trace(ctx, v.data.At(m.Model.TrainingVersions()), m.Model.Training, g.Text, g.TokensOut)
				if err != nil {
					return nil, err
				}
				if a, b := shareText(shares), shareText(g.Shares); a != b {
					return nil, fmt.Errorf("generation %d of %s traces to shares %s, the receipt says %s", i, g.Model, a, b)
				}
			} else if len(g.Shares) > 0 {
				return nil, fmt.Errorf("generation %d of %s failed and attributes tokens", i, g.Model)
			}
		}
		pin, pout := m.Model.Prices()
		cost := rules.ModelCost(pin, pout, got.TokensIn, got.TokensOut)
		if g.Cost == nil || cost.Cmp(g.Cost) != 0 {
			return nil, fmt.Errorf("generation %d of %s costs %s at its prices, the receipt says %v", i, g.Model, cost, g.Cost)
		}
		uses = append(uses, rules.ModelUse{Model: g.Model, Publisher: m.Publisher, Cost: cost, TokensOut: got.TokensOut, Shares: got.Shares})
	}
	return uses, nil
}

// rerunGeneration re-runs the receipt of a model called directly: its one
// generation, whose text is the receipt's output, charged as the model's
// prices and split say.
func (v *Verifier) rerunGeneration(ctx context.Context, rc *ledger.Receipt, operator string, outputs map[string][]byte) ([]ledger.Posting, error) {
	if len(rc.Accesses) != 0 || rc.Attribution != "" {
		return nil, fmt.Errorf("a model call that records an agent's reads or attribution")
	}
	out, err := v.output(ctx, rc.ID, outputs)
	if err != nil {
		return nil, err
	}
	if string(out) != rc.Generations[0].Text || sha256Hex(out) != rc.OutputHash {
		return nil, abi.Errorf(abi.CodeHashMismatch, "stored output is not the generation's text")
	}
	uses, err := v.rerunModels(ctx, rc, nil)
	if err != nil {
		return nil, err
	}
	return rules.Bill{Caller: rc.Caller, Operator: operator, Fees: v.fees, Models: uses}.Postings(), nil
}

// dataSource is EpochData as a model.Source.
type dataSource struct{ EpochData }

func (d dataSource) At(versions map[string]uint64) model.Matcher { return d.EpochData.At(versions) }

// shareText is a canonical text of token shares.
func shareText(shares []ledger.TokenShare) string {
	var b strings.Builder
	for _, s := range shares {
		fmt.Fprintf(&b, "%s/%s %s %s; ", s.Datanet, s.Record, s.Contributor, s.Tokens.RatString())
	}
	return b.String()
}
