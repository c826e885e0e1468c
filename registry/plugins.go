package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/kv"
)

// Plugin is a published plugin: its manifest, the publisher's signature and
// the module's bytes.
type Plugin struct {
	Manifest  Manifest  `json:"manifest"`
	Signature []byte    `json:"signature"`
	Published time.Time `json:"published"`
	Yanked    bool      `json:"yanked,omitempty"`
	YankedAt  time.Time `json:"yanked_at,omitzero"`
	Wasm      []byte    `json:"-"`

	manifestHash string // Manifest.Hash(), worked out once by Load
}

// Hash returns the hex sha256 of the module (empty for a model).
func (p *Plugin) Hash() string { return p.Manifest.WasmSHA256 }

// ManifestHash is Manifest.Hash(). A plugin Load returns carries it, worked
// out when the plugin was read and checked, so a call that names the
// manifest in its receipt does not encode it again.
func (p *Plugin) ManifestHash() string {
	if p.manifestHash != "" {
		return p.manifestHash
	}
	return p.Manifest.Hash()
}

// IsModel reports whether the entry is a model, which has no module.
func (p *Plugin) IsModel() bool { return p.Manifest.Kind == abi.KindModel }

// CodeReservedName refuses a publication in a reserved namespace (see
// [Options.Reserved]) by anyone but the operator, and one in a key's own
// namespace by any other key.
const CodeReservedName abi.Code = "reserved_name"

// keyNamespaceRE matches a key's own namespace: its address in lower case
// ("0xab…/agent"). Whatever names others claim first, a publisher can
// always publish under its own address, and nobody else can.
var keyNamespaceRE = regexp.MustCompile(`^0x[0-9a-f]{40}$`)

// CheckPublish makes every check of a publication that needs no more than
// the manifest, the signature and the module's bytes, in order of cost:
// the manifest is valid, wasm hashes to its WasmSHA256, sig is the
// publisher's signature of the manifest, a reserved namespace is the
// operator's, the name belongs to its first publisher, the version is new,
// and the datanets it reads admit it. It writes nothing. A host runs it
// before compiling the module, so work follows authorship: nobody makes
// the node compile a module they could not publish.
func (r *Registry) CheckPublish(ctx context.Context, m Manifest, sig, wasm []byte) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if m.Kind == abi.KindModel {
		if len(wasm) != 0 {
			return errorf(abi.CodeBadRequest, "%s: a model is published without a module", m.Ref())
		}
	} else if got := sha256Hex(wasm); got != m.WasmSHA256 {
		return errorf(abi.CodeHashMismatch, "%s: module hashes to %s, manifest says %s", m.Ref(), got, m.WasmSHA256)
	}
	if err := verifySigner(r.domain.ManifestDigest(m), sig, m.Publisher); err != nil {
		return fmt.Errorf("registry: publish %s: %w", m.Ref(), err)
	}
	ns, _, _ := strings.Cut(m.Name, "/")
	if slices.Contains(r.reserved, ns) && m.Publisher != r.operator {
		return errorf(CodeReservedName, "%s is in the namespace %s/, reserved for the operator %s", m.Name, ns, r.operator)
	}
	if keyNamespaceRE.MatchString(ns) && ns != strings.ToLower(m.Publisher) {
		return errorf(CodeReservedName, "%s is in the namespace of the key %s: only that key publishes there", m.Name, ns)
	}
	if err := r.db.View(func(txn kv.Txn) error {
		_, err := checkNew(txn, m)
		return err
	}); err != nil {
		return err
	}
	if err := r.CheckGrants(ctx, m); err != nil {
		return fmt.Errorf("registry: publish %s: %w", m.Ref(), err)
	}
	return nil
}

// checkNew refuses a version already published and a name another
// publisher owns; claim is true when the name has no owner yet.
func checkNew(txn kv.Txn, m Manifest) (claim bool, err error) {
	if _, err := txn.Get(pluginKey(m.Name, m.Version)); err == nil {
		return false, errorf(abi.CodeAlreadyExists, "%s is already published", m.Ref())
	} else if !errors.Is(err, kv.ErrNotFound) {
		return false, err
	}
	owner, err := getString(txn, ownerKey(m.Name))
	switch {
	case errors.Is(err, kv.ErrNotFound):
		return true, nil
	case err != nil:
		return false, err
	case owner != m.Publisher:
		return false, errorf(abi.CodeBadSignature, "%s belongs to %s, not %s", m.Name, owner, m.Publisher)
	}
	return false, nil
}

// Publish verifies and stores a plugin: everything [Registry.CheckPublish]
// checks, and the name's ownership and the version's novelty again in the
// write, which a concurrent publication may have changed. Nothing is
// written unless every check passes. name@latest is the highest semantic
// version not yanked and not a pre-release, so publishing a fix to an
// older line does not move it back, and a pre-release (1.0.0-rc.1) is
// loaded only by its exact version.
func (r *Registry) Publish(ctx context.Context, m Manifest, sig, wasm []byte) (*Plugin, error) {
	if err := r.CheckPublish(ctx, m, sig, wasm); err != nil {
		return nil, err
	}
	p := &Plugin{Manifest: m, Signature: sig, Published: time.Now().UTC(), Wasm: wasm}
	err := r.update(func(txn kv.Txn) error {
		claim, err := checkNew(txn, m)
		if err != nil {
			return err
		}
		if claim {
			if err := txn.Set(ownerKey(m.Name), []byte(m.Publisher)); err != nil {
				return err
			}
		}
		meta, err := json.Marshal(p)
		if err != nil {
			return err
		}
		if m.Kind != abi.KindModel {
			if err := txn.Set(blobKey(m.WasmSHA256), wasm); err != nil {
				return err
			}
		}
		if err := txn.Set(pluginKey(m.Name, m.Version), meta); err != nil {
			return err
		}
		if isPreRelease(m.Version) {
			return nil
		}
		cur, err := getString(txn, latestKey(m.Name))
		if err != nil && !errors.Is(err, kv.ErrNotFound) {
			return err
		}
		if cur != "" && compareVersions(cur, m.Version) >= 0 {
			return nil
		}
		return txn.Set(latestKey(m.Name), []byte(m.Version))
	})
	if err != nil {
		return nil, err
	}
	r.logger.Info("published plugin", "ref", m.Ref(), "sha256", m.WasmSHA256, "publisher", m.Publisher)
	return p, nil
}

// Load returns the plugin ref names ("name@version" or "name@latest"),
// checking again that its bytes match the manifest and the manifest the
// publisher's signature.
func (r *Registry) Load(ctx context.Context, ref string) (*Plugin, error) {
	name, version, err := ParseRef(ref)
	if err != nil {
		return nil, err
	}
	if version == "latest" {
		var v []byte
		v, err = kv.Get(r.db, latestKey(name))
		version = string(v)
		if errors.Is(err, kv.ErrNotFound) {
			return nil, r.noLatest(name)
		} else if err != nil {
			return nil, fmt.Errorf("registry: load %s: %w", ref, err)
		}
	}
	key := name + "@" + version
	r.verifiedMu.RLock()
	cached, gen := r.verified[key], r.verifiedGen
	r.verifiedMu.RUnlock()
	if cached != nil {
		cp := *cached // the module bytes are shared and never written
		return &cp, nil
	}
	var p Plugin
	err = r.db.View(func(txn kv.Txn) error {
		meta, err := kv.GetBytes(txn, pluginKey(name, version))
		if err != nil {
			return err
		}
		if err := json.Unmarshal(meta, &p); err != nil {
			return fmt.Errorf("decode manifest: %w", err)
		}
		if p.IsModel() {
			return nil
		}
		p.Wasm, err = kv.GetBytes(txn, blobKey(p.Manifest.WasmSHA256))
		return err
	})
	if errors.Is(err, kv.ErrNotFound) {
		return nil, errorf(abi.CodeNotFound, "no plugin %s", ref)
	}
	if err != nil {
		return nil, fmt.Errorf("registry: load %s: %w", ref, err)
	}
	if got := sha256Hex(p.Wasm); !p.IsModel() && got != p.Manifest.WasmSHA256 {
		return nil, errorf(abi.CodeHashMismatch, "%s: stored module hashes to %s, manifest says %s", ref, got, p.Manifest.WasmSHA256)
	}
	if err := verifySigner(r.domain.ManifestDigest(p.Manifest), p.Signature, p.Manifest.Publisher); err != nil {
		return nil, fmt.Errorf("registry: load %s: %w", ref, err)
	}
	p.manifestHash = p.Manifest.Hash()
	r.verifiedMu.Lock()
	defer r.verifiedMu.Unlock()
	if gen != r.verifiedGen {
		return &p, nil // a yank may have landed after this read
	}
	if r.verified == nil {
		r.verified = map[string]*Plugin{}
	}
	if len(r.verified) >= maxVerified {
		for k := range r.verified { // evict one; a miss only costs a check
			delete(r.verified, k)
			break
		}
	}
	cp := p
	r.verified[key] = &cp
	return &p, nil
}

// maxVerified bounds the verified-plugin cache (each holds its module).
const maxVerified = 64

// Plugins lists published plugin versions in name@version order, after
// the ref after ("" from the start), at most limit of them, without their
// modules.
func (r *Registry) Plugins(ctx context.Context, after string, limit int) ([]*Plugin, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	var out []*Plugin
	err := r.db.View(func(txn kv.Txn) error {
		it := txn.NewIterator(kv.IterOptions{Prefix: []byte("p/")})
		defer it.Close()
		start := []byte("p/")
		if after != "" {
			start = append([]byte("p/"+after), 0)
		}
		for it.Seek(start); it.Valid() && len(out) < limit; it.Next() {
			var p Plugin
			if err := kv.ValueOf(it, func(v []byte) error { return json.Unmarshal(v, &p) }); err != nil {
				return err
			}
			out = append(out, &p)
		}
		return nil
	})
	return out, err
}

// Module returns the module bytes whose sha256 is hash, checked against it,
// so anyone can re-run a plugin a receipt names.
func (r *Registry) Module(ctx context.Context, hash string) ([]byte, error) {
	var b []byte
	err := r.db.View(func(txn kv.Txn) (err error) {
		b, err = kv.GetBytes(txn, blobKey(strings.ToLower(hash)))
		return err
	})
	if errors.Is(err, kv.ErrNotFound) {
		return nil, errorf(abi.CodeNotFound, "no module %.64s", hash)
	}
	if err != nil {
		return nil, err
	}
	if sha256Hex(b) != strings.ToLower(hash) {
		return nil, errorf(abi.CodeHashMismatch, "stored module does not hash to %s", hash)
	}
	return b, nil
}
