package model

import (
	"context"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/infgram"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/registry"
)

// MaxSources is the most corpus positions a generated token may be drawn
// from and still be attributed to the records holding them. A token seen
// after its context in more places than that (a common word after a
// common word) was shaped by no record in particular: its share of the
// contributors' pool goes to the model's publisher. The bound keeps a
// receipt's shares to at most MaxSources records per token.
const MaxSources = 32

// Infgram is the embedded backend: an ∞-gram model over the training
// records, as package infgram builds it.
type Infgram struct {
	m       *infgram.Model
	records map[string]source // by the model's record key
}

type source struct{ datanet, id, contributor string }

// recordKey is a record's id in the model: its datanet and id.
func recordKey(datanet, id string) string { return datanet + "\x00" + id }

// BuildInfgram builds the model a spec describes from its training
// records at their pinned versions, in the order the spec lists them.
func BuildInfgram(ctx context.Context, src Records, spec *registry.ModelSpec) (*Infgram, error) {
	var recs []infgram.Record
	seen := map[string]bool{}
	g := &Infgram{records: map[string]source{}}
	for _, t := range spec.Training {
		for after := uint64(0); after < t.Version; {
			page, _, err := src.RecordsAt(ctx, t.Datanet, t.Version, after, 1000)
			if err != nil {
				return nil, fmt.Errorf("model: training data %s@%d: %w", t.Datanet, t.Version, err)
			}
			if len(page) == 0 {
				return nil, fmt.Errorf("model: training data %s@%d: no records after version %d", t.Datanet, t.Version, after)
			}
			for _, r := range page {
				if seen[r.ID] {
					continue // the same content in another datanet: counted once, where first seen
				}
				seen[r.ID] = true
				k := recordKey(t.Datanet, r.ID)
				recs = append(recs, infgram.Record{ID: k, Content: r.Content})
				g.records[k] = source{datanet: t.Datanet, id: r.ID, contributor: r.Contributor}
			}
			after = page[len(page)-1].Version
		}
	}
	m, err := infgram.New(recs)
	if err != nil {
		return nil, abi.Wrap(abi.CodeModelFailed, err, "build the model")
	}
	g.m = m
	return g, nil
}

// PromptTokens counts prompt's tokens in the model's tokenizer.
func (g *Infgram) PromptTokens(prompt string) int { return infgramPromptTokens(prompt) }

func infgramPromptTokens(prompt string) int { return len(infgram.Tokens(prompt)) }

// Generate continues the prompt; see package infgram. A token drawn from
// at most MaxSources records counts for each in proportion to how many of
// its positions the record holds. It samples at temperature 0 or 1 only:
// other temperatures reshape counts with floating-point powers, which
// another machine may round differently, and a re-run must be exact. The
// text stops ("length") before it outgrows what a receipt keeps; a
// generation cut short by ctx returns its error and nothing to charge.
func (g *Infgram) Generate(ctx context.Context, req Request) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, abi.FromContext(err)
	}
	if req.Temperature != 0 && req.Temperature != 1 {
		return Result{}, abi.Errorf(abi.CodeBadRequest, "temperature %v: the embedded model samples at 0 (the most likely token) or 1 (as counted), so that every machine re-runs it exactly", req.Temperature)
	}
	gen := g.m.Generate(req.Prompt, infgram.Params{MaxTokens: req.MaxTokens, Temperature: req.Temperature, Seed: req.Seed, Stop: req.Stop,
		MaxBytes: ledger.MaxGenerationText, Continue: func() bool { return ctx.Err() == nil }})
	if gen.FinishReason == "canceled" {
		return Result{}, abi.Wrap(abi.CodeTimeout, ctx.Err(), "the model ran past the agent's time")
	}
	res := Result{Text: gen.Text, TokensIn: gen.PromptTokens, TokensOut: len(gen.Steps), Finish: gen.FinishReason}
	tokens := map[string]*big.Rat{}
	for _, s := range gen.Steps {
		if len(s.ByRecord) > MaxSources {
			continue
		}
		for k, n := range s.ByRecord {
			if tokens[k] == nil {
				tokens[k] = new(big.Rat)
			}
			tokens[k].Add(tokens[k], big.NewRat(int64(n), int64(s.Count)))
		}
	}
	keys := make([]string, 0, len(tokens))
	for k := range tokens {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		src := g.records[k]
		res.Shares = append(res.Shares, ledger.TokenShare{Datanet: src.datanet, Record: src.id, Contributor: src.contributor, Tokens: tokens[k]})
	}
	return res, nil
}

// Records is how many training records the model holds.
func (g *Infgram) Records() int { return g.m.Records() }

// checkStop refuses stop strings a receipt could not sign faithfully.
func checkStop(stop []string) error {
	if len(stop) > 4 {
		return abi.Errorf(abi.CodeBadRequest, "%d stop strings, at most 4", len(stop))
	}
	for _, s := range stop {
		if s == "" || len(s) > 64 || strings.ContainsRune(s, 0) {
			return abi.Errorf(abi.CodeBadRequest, "stop string %.80q: want 1..64 bytes", s)
		}
	}
	return nil
}

// CheckRequest refuses a request model spec should not run: stop strings
// out of bounds, a temperature that is not a finite number in [0, 2] (for
// the embedded model, 0 or 1: see [Infgram.Generate]), or a prompt past
// what a receipt keeps.
func CheckRequest(spec *registry.ModelSpec, req Request) error {
	if err := checkStop(req.Stop); err != nil {
		return err
	}
	if !(req.Temperature >= 0 && req.Temperature <= 2) {
		return abi.Errorf(abi.CodeBadRequest, "temperature %v: want 0..2", req.Temperature)
	}
	if spec.Backend == registry.BackendInfgram && req.Temperature != 0 && req.Temperature != 1 {
		return abi.Errorf(abi.CodeBadRequest, "temperature %v: the embedded model samples at 0 (the most likely token) or 1 (as counted), so that every machine re-runs it exactly", req.Temperature)
	}
	if len(req.Prompt) > ledger.MaxGenerationText {
		return abi.Errorf(abi.CodeBadRequest, "prompt of %d bytes, at most %d", len(req.Prompt), ledger.MaxGenerationText)
	}
	return nil
}
