package model

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
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
// records, as package infgram builds it. Its record ids say whose each
// record is (see recordKey).
type Infgram struct {
	m *infgram.Model
}

// recordKey is a record's id in the model: its datanet, id and contributor.
func recordKey(datanet, id, contributor string) string {
	return datanet + "\x00" + id + "\x00" + contributor
}

// Files is a store that keeps built models as files (a registry on disk):
// where, and the datanet roots that name a model's training data.
type Files interface {
	ModelFiles() string // "" keeps models in memory
	VersionRoot(ctx context.Context, datanet string, version uint64) (string, error)
}

// filesFormat names the way a model's files are built: a change to the
// tokenizer, the record order or the files' layout changes it, so files
// an older build wrote are never read as this one's. The Go version is
// part of it, as the tokenizer's Unicode tables come with it.
var filesFormat = "tollgate infgram 1 " + runtime.Version()

// filesName names the directory of spec's model files: the sha256 of
// filesFormat and each training datanet at its version, with its root.
func filesName(ctx context.Context, f Files, spec *registry.ModelSpec) (string, error) {
	h := sha256.New()
	fmt.Fprintln(h, filesFormat)
	for _, t := range spec.Training {
		root, err := f.VersionRoot(ctx, t.Datanet, t.Version)
		if err != nil {
			return "", fmt.Errorf("model: training data %s@%d: %w", t.Datanet, t.Version, err)
		}
		fmt.Fprintf(h, "%s@%d %s\n", t.Datanet, t.Version, root)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// SweepFiles deletes the model directories under reg's ModelFiles that no
// published embedded model (yanked or not) would map: those of training
// sets no manifest names any more, or written by another build's format.
// Run it before any model is built; it returns how many it deleted.
func SweepFiles(ctx context.Context, reg *registry.Registry) (int, error) {
	dir := reg.ModelFiles()
	if dir == "" {
		return 0, nil
	}
	keep := map[string]bool{}
	for after := ""; ; {
		page, err := reg.Plugins(ctx, after, 1000)
		if err != nil {
			return 0, err
		}
		for _, p := range page {
			if m := p.Manifest.Model; m != nil && m.Backend == registry.BackendInfgram {
				name, err := filesName(ctx, reg, m)
				if err != nil {
					return 0, err
				}
				keep[name] = true
			}
		}
		if len(page) < 1000 {
			break
		}
		after = page[len(page)-1].Manifest.Ref()
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, e := range entries {
		if keep[e.Name()] || strings.HasSuffix(e.Name(), ".tmp") {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return removed, err
		}
		removed++
	}
	return removed, nil
}

// BuildInfgram builds the model a spec describes from its training
// records at their pinned versions, in the order the spec lists them. A
// src that keeps files (see [Files]) builds each model once, as files
// named by its training data's roots, and maps them after: a model larger
// than memory is served from the page cache, and a restart does not
// rebuild it. Files found damaged are built again.
func BuildInfgram(ctx context.Context, src Records, spec *registry.ModelSpec) (*Infgram, error) {
	dir := ""
	if f, ok := src.(Files); ok && f.ModelFiles() != "" {
		name, err := filesName(ctx, f, spec)
		if err != nil {
			return nil, err
		}
		dir = filepath.Join(f.ModelFiles(), name)
		m, err := infgram.Open(dir)
		switch {
		case err == nil:
			return &Infgram{m: m}, nil
		case errors.Is(err, infgram.ErrBadFiles):
			// Damaged, or a deletion cut short: built again below.
			if err := os.RemoveAll(dir); err != nil {
				return nil, abi.Wrap(abi.CodeModelFailed, err, "remove damaged model files")
			}
		case !errors.Is(err, os.ErrNotExist):
			// The files may be good but cannot be read now: build this
			// one in memory, and keep them.
			dir = ""
		}
	}
	b, err := infgram.NewBuilder(dir)
	if err != nil {
		return nil, abi.Wrap(abi.CodeModelFailed, err, "build the model")
	}
	seen := map[string]bool{}
	for _, t := range spec.Training {
		for after := uint64(0); after < t.Version; {
			page, _, err := src.RecordsAt(ctx, t.Datanet, t.Version, after, 1000)
			if err == nil && len(page) == 0 {
				err = fmt.Errorf("no records after version %d", after)
			}
			if err != nil {
				b.Abort()
				return nil, fmt.Errorf("model: training data %s@%d: %w", t.Datanet, t.Version, err)
			}
			for _, r := range page {
				if seen[r.ID] {
					continue // the same content in another datanet: counted once, where first seen
				}
				seen[r.ID] = true
				if err := b.Add(infgram.Record{ID: recordKey(t.Datanet, r.ID, r.Contributor), Content: r.Content}); err != nil {
					return nil, abi.Wrap(abi.CodeModelFailed, err, "build the model")
				}
			}
			after = page[len(page)-1].Version
		}
	}
	m, err := b.Model()
	if err != nil {
		return nil, abi.Wrap(abi.CodeModelFailed, err, "build the model")
	}
	return &Infgram{m: m}, nil
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
		src := strings.SplitN(k, "\x00", 3)
		res.Shares = append(res.Shares, ledger.TokenShare{Datanet: src[0], Record: src[1], Contributor: src[2], Tokens: tokens[k]})
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
