package registry

import (
	"context"
	"errors"
	"math/big"
	"slices"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/kv"
)

// Access modes of a datanet's [Policy].
const (
	AccessOpen      = "open"      // any agent may be granted it
	AccessAllowList = "allowlist" // only the agents named in Agents
	AccessTier      = "tier"      // agents priced at MinAgentPrice or more per call
)

// Write modes of a datanet's [Policy]: who may add records. The rule
// applies to a record's contributor, the key that signed it, whoever sends
// it.
const (
	WriteOwner     = "owner"     // the owner only; also what an empty Write means
	WriteAllowList = "allowlist" // the owner and the addresses in Writers
	WriteOpen      = "open"      // anyone, each contributor within WriterQuota
)

// Policy is a datanet owner's rule for which agents may read it, who may
// write to it, and which attribution plugins may read the records agents
// touched. Empty fields keep the JSON, and so the signed digest, of a
// policy written before they existed.
type Policy struct {
	Access        string   `json:"access"`
	Agents        []string `json:"agents,omitempty"`          // agent names, for allowlist
	MinAgentPrice string   `json:"min_agent_price,omitempty"` // base units, for tier
	// Write is who may add records (WriteOwner, WriteAllowList,
	// WriteOpen); empty means WriteOwner, so a datanet whose owner said
	// nothing takes no stranger's records.
	Write string `json:"write,omitempty"`
	// Writers are the contributors an allowlist admits besides the owner,
	// as EIP-55 checksummed addresses.
	Writers []string `json:"writers,omitempty"`
	// WriterQuota bounds the records each contributor other than the owner
	// may add to an open datanet, WriterQuotaBytes their content's bytes;
	// 0 leaves that bound off, so open with no quota takes anything.
	WriterQuota      uint64 `json:"writer_quota,omitempty"`
	WriterQuotaBytes uint64 `json:"writer_quota_bytes,omitempty"`
	// Attribution names the attribution plugins (names, not versions)
	// that may read the datanet's records; empty admits the built-ins
	// only ([BuiltinAttribution]).
	Attribution []string `json:"attribution,omitempty"`
	// Models names the models (names, not versions) that may be built
	// from the datanet; "*" admits any. Empty admits none: a model
	// reproduces what it is built from, so its owner opts in.
	Models []string `json:"models,omitempty"`
}

// clone copies p's lists, so changing the copy leaves p alone.
func (p Policy) clone() Policy {
	p.Agents = slices.Clone(p.Agents)
	p.Writers = slices.Clone(p.Writers)
	p.Attribution = slices.Clone(p.Attribution)
	p.Models = slices.Clone(p.Models)
	return p
}

// MaxPolicyNames bounds each list of names or addresses in a [Policy].
const MaxPolicyNames = 256

// BuiltinAttribution returns the names of the attribution plugins the node
// publishes itself, which a datanet admits when its policy names none. The
// list is explicit, not the builtin/ namespace, so what a datanet admits
// by default does not grow with what is published there.
func BuiltinAttribution() []string { return []string{"builtin/ngram", "builtin/access"} }

func (p Policy) validate() error {
	switch p.Access {
	case "", AccessOpen, AccessAllowList:
	case AccessTier:
		if v, ok := new(big.Int).SetString(p.MinAgentPrice, 10); !ok || v.Sign() < 0 {
			return errorf(abi.CodeBadRequest, "tier policy needs a min_agent_price, got %q", p.MinAgentPrice)
		}
	default:
		return errorf(abi.CodeBadRequest, "policy access %q: want open, allowlist or tier", p.Access)
	}
	if err := p.validateWrite(); err != nil {
		return err
	}
	if len(p.Attribution) > MaxPolicyNames {
		return errorf(abi.CodeBadRequest, "policy names %d attribution plugins, at most %d", len(p.Attribution), MaxPolicyNames)
	}
	for _, name := range p.Attribution {
		if !nameRE.MatchString(name) {
			return errorf(abi.CodeBadRequest, "policy attribution %.80q is not a plugin name (no version)", name)
		}
	}
	if len(p.Models) > MaxPolicyNames {
		return errorf(abi.CodeBadRequest, "policy names %d models, at most %d", len(p.Models), MaxPolicyNames)
	}
	for _, name := range p.Models {
		if name != "*" && !nameRE.MatchString(name) {
			return errorf(abi.CodeBadRequest, "policy model %.80q is not a model name (no version) or *", name)
		}
	}
	return nil
}

// AllowsAttribution reports whether the datanet's policy lets the
// attribution plugin called name (no version) read its records.
func (d *Datanet) AllowsAttribution(name string) error {
	allowed := d.Policy.Attribution
	if len(allowed) == 0 {
		allowed = BuiltinAttribution()
	}
	if slices.Contains(allowed, name) {
		return nil
	}
	return errorf(abi.CodeGrantDenied, "datanet %s admits attribution by %v, not %s", d.Name, allowed, name)
}

// Allows reports whether the datanet's policy lets agent m read it, or
// model m be built from it (policy Models, which names it or says *).
func (d *Datanet) Allows(m Manifest) error {
	if m.Kind == abi.KindModel {
		if slices.Contains(d.Policy.Models, m.Name) || slices.Contains(d.Policy.Models, "*") {
			return nil
		}
		return errorf(abi.CodeGrantDenied, "datanet %s admits models %v, not %s (its owner opts in: datanet policy --models)", d.Name, d.Policy.Models, m.Name)
	}
	switch d.Policy.Access {
	case "", AccessOpen:
		return nil
	case AccessAllowList:
		if slices.Contains(d.Policy.Agents, m.Name) {
			return nil
		}
		return errorf(abi.CodeGrantDenied, "datanet %s admits only %v, not %s", d.Name, d.Policy.Agents, m.Name)
	case AccessTier:
		min, _ := new(big.Int).SetString(d.Policy.MinAgentPrice, 10)
		if min != nil && m.PriceAmount().Cmp(min) >= 0 {
			return nil
		}
		return errorf(abi.CodeGrantDenied, "datanet %s admits agents priced from %s, %s costs %s", d.Name, d.Policy.MinAgentPrice, m.Ref(), m.PriceAmount())
	}
	return errorf(abi.CodeGrantDenied, "datanet %s has an unknown policy", d.Name)
}

// CheckGrants checks that every datanet a manifest names exists and admits
// it, and, for an agent, admits its attribution plugin too.
func (r *Registry) CheckGrants(ctx context.Context, m Manifest) error {
	for _, name := range m.Datanets {
		d, err := r.Datanet(ctx, name)
		if err != nil {
			return err
		}
		if err := d.Allows(m); err != nil {
			return err
		}
		if m.Kind == abi.KindAgent {
			if err := d.AllowsAttribution(m.AttributionName()); err != nil {
				return err
			}
		}
	}
	if m.Kind == abi.KindModel {
		return r.checkTraining(ctx, m)
	}
	for _, g := range m.Models {
		p, err := r.Load(ctx, g.Model)
		if err != nil {
			return err
		}
		if p.Manifest.Kind != abi.KindModel {
			return errorf(abi.CodeBadRequest, "%s grants %s, which is not a model", m.Ref(), g.Model)
		}
	}
	return nil
}

// SetPolicy changes a datanet's policy; sig is the owner's signature of
// [Domain.PolicyDigest] with the datanet's current PolicyNonce, which the
// change then advances, so no signature can be used twice.
func (r *Registry) SetPolicy(ctx context.Context, datanet string, p Policy, sig []byte) error {
	if err := p.validate(); err != nil {
		return err
	}
	if err := checkDatanet(datanet); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.update(func(txn kv.Txn) error {
		var d Datanet
		if err := kv.GetJSON(txn, datanetKey(datanet), &d); errors.Is(err, kv.ErrNotFound) {
			return errorf(abi.CodeNotFound, "no datanet %s", datanet)
		} else if err != nil {
			return err
		}
		signer, err := Recover(r.domain.PolicyDigest(datanet, d.PolicyNonce, p), sig)
		if err != nil {
			return err
		}
		if signer != d.Owner {
			return errorf(abi.CodeBadSignature, "%s does not own datanet %s, or signed another policy nonce than %d", signer, datanet, d.PolicyNonce)
		}
		d.Policy = p
		d.PolicyNonce++
		return kv.SetJSON(txn, datanetKey(datanet), d)
	})
}
