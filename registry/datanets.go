package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/kv"
)

// Datanet is a named collection of records with a price per record read.
type Datanet struct {
	Name         string    `json:"name"`
	Owner        string    `json:"owner"`
	Description  string    `json:"description,omitempty"`
	License      string    `json:"license,omitempty"`
	PricePerRead string    `json:"price_per_read"` // base units, decimal
	Version      uint64    `json:"version"`        // number of appends so far
	Root         string    `json:"root,omitempty"` // Merkle root of the records at Version
	Created      time.Time `json:"created"`
	Policy       Policy    `json:"policy"` // which agents may read it
	// PolicyNonce counts policy changes; the next change is signed with it.
	PolicyNonce uint64 `json:"policy_nonce"`
	// Creation is what the owner signed to create the datanet, so anyone
	// can check its price and terms (see [Domain.DatanetDigest]).
	Creation *DatanetCreation `json:"creation,omitempty"`

	Frontier []frontierNode `json:"frontier,omitempty"`
}

// DatanetCreation is a datanet's signed creation: the policy it was created
// with (a later SetPolicy changes Policy) and the owner's signature.
type DatanetCreation struct {
	Policy    Policy `json:"policy"`
	Signature []byte `json:"signature"`
}

// CheckCreation reports whether d's name, owner, description, licence and
// price are the ones its owner signed for domain.
func (d Datanet) CheckCreation(domain Domain) error {
	if d.Creation == nil {
		return errorf(abi.CodeBadSignature, "datanet %s carries no creation signature", d.Name)
	}
	spec := d
	spec.Policy = d.Creation.Policy
	if err := verifySigner(domain.DatanetDigest(spec), d.Creation.Signature, d.Owner); err != nil {
		return fmt.Errorf("registry: datanet %s is not as its owner created it: %w", d.Name, err)
	}
	return nil
}

// Price returns PricePerRead as an integer.
func (d Datanet) Price() *big.Int {
	p, ok := new(big.Int).SetString(d.PricePerRead, 10)
	if !ok {
		return new(big.Int)
	}
	return p
}

// CreateDatanet creates a datanet; its name must be new, and sig must be
// its owner's signature of [Domain.DatanetDigest].
func (r *Registry) CreateDatanet(ctx context.Context, d Datanet, sig []byte) (*Datanet, error) {
	if !nameRE.MatchString(d.Name) {
		return nil, errorf(abi.CodeBadRequest, "datanet name %q is not valid", d.Name)
	}
	owner, err := CanonicalAddress(d.Owner)
	if err != nil {
		return nil, err
	}
	d.Owner = owner
	if d.PricePerRead == "" {
		d.PricePerRead = "0"
	}
	if p, ok := new(big.Int).SetString(d.PricePerRead, 10); !ok || p.Sign() < 0 || p.BitLen() > 256 {
		return nil, errorf(abi.CodeBadRequest, "datanet price %q: want a decimal integer in [0, 2^256)", d.PricePerRead)
	}
	if err := d.Policy.validate(); err != nil {
		return nil, err
	}
	if err := verifySigner(r.domain.DatanetDigest(d), sig, d.Owner); err != nil {
		return nil, fmt.Errorf("registry: create datanet %s: %w", d.Name, err)
	}
	d.Version, d.Created, d.PolicyNonce = 0, time.Now().UTC(), 0
	d.Creation = &DatanetCreation{Policy: d.Policy, Signature: sig}
	err = r.update(func(txn kv.Txn) error {
		if _, err := txn.Get(datanetKey(d.Name)); err == nil {
			return errorf(abi.CodeAlreadyExists, "datanet %s exists", d.Name)
		}
		return kv.SetJSON(txn, datanetKey(d.Name), d)
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// Datanet returns a datanet by name.
func (r *Registry) Datanet(ctx context.Context, name string) (*Datanet, error) {
	if err := checkDatanet(name); err != nil {
		return nil, err
	}
	var d Datanet
	item, err := kv.Get(r.db, datanetKey(name))
	if err == nil {
		// Decoding a datanet costs far more than finding it; the decoded
		// datanet is kept with the bytes it came from.
		if c, ok := r.datanets.Load(name); ok && bytes.Equal(c.(*cachedDatanet).raw, item) {
			d = c.(*cachedDatanet).d.clone()
		} else if err = json.Unmarshal(item, &d); err == nil {
			r.datanets.Store(name, &cachedDatanet{raw: item, d: d.clone()})
		}
	}
	if errors.Is(err, kv.ErrNotFound) {
		return nil, errorf(abi.CodeNotFound, "no datanet %s", name)
	}
	if err != nil {
		return nil, fmt.Errorf("registry: datanet %s: %w", name, err)
	}
	return &d, nil
}

// cachedDatanet is a decoded datanet and the stored bytes it was decoded
// from: comparing them costs far less than decoding.
type cachedDatanet struct {
	raw []byte
	d   Datanet
}

// clone copies d deeply enough that changing the copy leaves d alone.
func (d Datanet) clone() Datanet {
	d.Policy = d.Policy.clone()
	d.Frontier = slices.Clone(d.Frontier)
	for i := range d.Frontier {
		d.Frontier[i].Hash = slices.Clone(d.Frontier[i].Hash)
	}
	if d.Creation != nil {
		c := *d.Creation
		c.Policy = c.Policy.clone()
		c.Signature = slices.Clone(c.Signature)
		d.Creation = &c
	}
	return d
}
