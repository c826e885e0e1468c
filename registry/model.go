package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"slices"
	"strings"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/grant"
)

// Model backends.
const (
	// BackendInfgram is the embedded ∞-gram model over the model's
	// training datanets: it installs nothing, and its generation and its
	// attribution re-run exactly.
	BackendInfgram = "infgram"
	// BackendOpenAI is a model on an OpenAI-compatible server the operator
	// configures (llama.cpp, vLLM, Ollama, a hosted API).
	BackendOpenAI = "openai"
)

// Tokenizers a model may declare: what its token counts, and so its
// prices, are counted in.
const (
	// TokenizerInfgram is the embedded model's own: words and single
	// punctuation characters (package infgram's Tokens).
	TokenizerInfgram = "infgram/words-1"
	// TokenizerServer takes the counts the server reports in its usage.
	TokenizerServer = "server"
)

// Bounds on a model's manifest.
const (
	// MaxModelTokens bounds the tokens one call may generate.
	MaxModelTokens = 1024
	// MaxTrainingDatanets bounds the datanets a model is trained on.
	MaxTrainingDatanets = 16
)

// ModelSpec is what a model's manifest says beyond any plugin's: the
// backend it runs on, its prices, and the data it was built from. It is
// signed with the rest of the manifest.
type ModelSpec struct {
	Backend string `json:"backend"` // BackendInfgram or BackendOpenAI
	// Server names the operator's OpenAI-compatible server, and Remote the
	// model's name there (BackendOpenAI only).
	Server    string `json:"server,omitempty"`
	Remote    string `json:"remote,omitempty"`
	Tokenizer string `json:"tokenizer"`
	// Prices per 1,000 tokens in base units, decimal integers. A call is
	// charged ceil((in × PriceIn + out × PriceOut) / 1000).
	PriceIn  string `json:"price_in_per_1k"`
	PriceOut string `json:"price_out_per_1k"`
	// MaxTokens bounds the tokens one call generates (0: MaxModelTokens).
	MaxTokens int `json:"max_tokens,omitempty"`
	// Training is the data the model was built from, each datanet pinned
	// at a version and its root: the records its outputs pay.
	Training []TrainingData `json:"training"`
}

// TrainingData is one datanet a model was built from, at a version.
type TrainingData struct {
	Datanet string `json:"datanet"`
	Version uint64 `json:"version"`
	Root    string `json:"root"` // hex Merkle root of its records at Version
}

// Prices returns the prices per 1,000 input and output tokens.
func (s *ModelSpec) Prices() (in, out *big.Int) {
	in, _ = new(big.Int).SetString(s.PriceIn, 10)
	out, _ = new(big.Int).SetString(s.PriceOut, 10)
	if in == nil {
		in = new(big.Int)
	}
	if out == nil {
		out = new(big.Int)
	}
	return in, out
}

// TokenCap returns the most tokens one call may generate.
func (s *ModelSpec) TokenCap() int {
	if s.MaxTokens <= 0 {
		return MaxModelTokens
	}
	return s.MaxTokens
}

// TrainingVersions returns the pinned versions by datanet name.
func (s *ModelSpec) TrainingVersions() map[string]uint64 {
	m := make(map[string]uint64, len(s.Training))
	for _, t := range s.Training {
		m[t.Datanet] = t.Version
	}
	return m
}

// Hash returns the hex sha256 of the manifest's signed bytes: what a
// receipt binds a model (or any plugin's manifest) by.
func (m Manifest) Hash() string {
	s := sha256.Sum256(m.SigningBytes())
	return hex.EncodeToString(s[:])
}

func priceOK(s string) bool {
	p, ok := new(big.Int).SetString(s, 10)
	return ok && p.Sign() >= 0 && p.BitLen() <= 128
}

// validateModel checks a model manifest's own fields.
func (m *Manifest) validateModel() error {
	s := m.Model
	switch {
	case s == nil:
		return errorf(abi.CodeBadRequest, "model %s: manifest has no model section", m.Ref())
	case m.WasmSHA256 != "" || m.Price != "" || len(m.Datanets) > 0 || len(m.Models) > 0 || m.Attribution != "" || m.Export != "" ||
		m.Limits != nil || m.ReuseWithinCaller || len(m.Config) > 0:
		return errorf(abi.CodeBadRequest, "model %s: a model has no module, price per call, grants, attribution, export, limits or config; its prices and data are in its model section", m.Ref())
	case !priceOK(s.PriceIn) || !priceOK(s.PriceOut):
		return errorf(abi.CodeBadRequest, "model %s: prices per 1k tokens %q and %q: want decimal integers in [0, 2^128)", m.Ref(), s.PriceIn, s.PriceOut)
	case s.MaxTokens < 0 || s.MaxTokens > MaxModelTokens:
		return errorf(abi.CodeBadRequest, "model %s: max_tokens %d: want 0..%d", m.Ref(), s.MaxTokens, MaxModelTokens)
	case len(s.Training) == 0 || len(s.Training) > MaxTrainingDatanets:
		return errorf(abi.CodeBadRequest, "model %s: trained on %d datanets, want 1..%d", m.Ref(), len(s.Training), MaxTrainingDatanets)
	}
	switch s.Backend {
	case BackendInfgram:
		if s.Tokenizer != TokenizerInfgram || s.Server != "" || s.Remote != "" {
			return errorf(abi.CodeBadRequest, "model %s: the %s backend takes tokenizer %q and no server", m.Ref(), BackendInfgram, TokenizerInfgram)
		}
	case BackendOpenAI:
		if s.Tokenizer != TokenizerServer || !nameRE.MatchString(s.Server) || s.Remote == "" || len(s.Remote) > 128 {
			return errorf(abi.CodeBadRequest, "model %s: the %s backend takes tokenizer %q, a server name and the model's remote name", m.Ref(), BackendOpenAI, TokenizerServer)
		}
	default:
		return errorf(abi.CodeBadRequest, "model %s: backend %q: want %q or %q", m.Ref(), s.Backend, BackendInfgram, BackendOpenAI)
	}
	for i, t := range s.Training {
		switch {
		case !nameRE.MatchString(t.Datanet):
			return errorf(abi.CodeBadRequest, "model %s: training datanet %.80q is not a valid name", m.Ref(), t.Datanet)
		case t.Version == 0:
			return errorf(abi.CodeBadRequest, "model %s: training datanet %s at version 0 holds no records", m.Ref(), t.Datanet)
		case !hashRE.MatchString(t.Root):
			return errorf(abi.CodeBadRequest, "model %s: training datanet %s: root %q: want 64 lowercase hex digits", m.Ref(), t.Datanet, t.Root)
		case slices.ContainsFunc(s.Training[:i], func(o TrainingData) bool { return o.Datanet == t.Datanet }):
			return errorf(abi.CodeBadRequest, "model %s: training datanet %s named twice", m.Ref(), t.Datanet)
		}
	}
	return nil
}

// validateModelGrants checks an agent's grants of models: each a pinned
// name@version (a version's prices never change, so a publisher cannot
// reprice what an agent calls), at most once, with a cap on tokens per
// call.
func (m *Manifest) validateModelGrants() error {
	if len(m.Models) > 0 && m.Kind != abi.KindAgent {
		return errorf(abi.CodeBadRequest, "manifest models: only agents are granted models")
	}
	if len(m.Models) > MaxTrainingDatanets {
		return errorf(abi.CodeBadRequest, "manifest grants %d models, at most %d", len(m.Models), MaxTrainingDatanets)
	}
	for i, g := range m.Models {
		_, version, err := ParseRef(g.Model)
		switch {
		case err != nil:
			return err
		case version == "latest":
			return errorf(abi.CodeBadRequest, "manifest model %s: grant a version, not latest: a version's prices never change", g.Model)
		case g.MaxTokens <= 0 || g.MaxTokens > MaxModelTokens:
			return errorf(abi.CodeBadRequest, "manifest model %s: max_tokens %d: want 1..%d", g.Model, g.MaxTokens, MaxModelTokens)
		case slices.ContainsFunc(m.Models[:i], func(o grant.Model) bool { return o.Model == g.Model }):
			return errorf(abi.CodeBadRequest, "manifest model %s granted twice", g.Model)
		}
	}
	return nil
}

// checkTraining checks a model's training data as published: each datanet
// exists, holds the pinned version with the pinned root, and its owner's
// policy admits the model (a model reproduces what it was built from, so
// it reads the datanet as an agent would).
func (r *Registry) checkTraining(ctx context.Context, m Manifest) error {
	for _, t := range m.Model.Training {
		d, err := r.Datanet(ctx, t.Datanet)
		if err != nil {
			return err
		}
		if t.Version > d.Version {
			return errorf(abi.CodeNotFound, "model %s: datanet %s has no version %d (it is at %d)", m.Ref(), t.Datanet, t.Version, d.Version)
		}
		root, err := r.VersionRoot(ctx, t.Datanet, t.Version)
		if err != nil {
			return err
		}
		if !strings.EqualFold(root, t.Root) {
			return errorf(abi.CodeHashMismatch, "model %s: datanet %s at version %d has root %s, the manifest pins %s", m.Ref(), t.Datanet, t.Version, root, t.Root)
		}
		if err := d.Allows(m); err != nil {
			return err
		}
	}
	return nil
}

// CheckServerName refuses a model server name a manifest could not give:
// lowercase [owner/]name, as plugin names are.
func CheckServerName(name string) error {
	if !nameRE.MatchString(name) {
		return errorf(abi.CodeBadIdentifier, "model server name %.80q: want lowercase [a-z0-9._-]", name)
	}
	return nil
}
