package main

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/examples"
	"github.com/tollgate-dev/tollgate/host"
	"github.com/tollgate-dev/tollgate/internal/grant"
	"github.com/tollgate-dev/tollgate/registry"
)

// One token is 10^18 base units, as for the test token's 18 decimals.
var (
	oneToken     = new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)
	agentPrice   = new(big.Int).Div(oneToken, big.NewInt(100))  // 0.01 TGT a call
	readPrice    = new(big.Int).Div(oneToken, big.NewInt(1000)) // 0.001 TGT a record read
	callerCredit = new(big.Int).Set(oneToken)                   // 1 TGT deposited
)

const (
	exampleDatanet = "examples/facts"
	exampleAgent   = "examples/qa"
	// exampleAgentVersion changes with the example agent's bytes.
	exampleAgentVersion = "1.3.0"
)

// party is a key with a name, for printing.
type party struct {
	name string
	key  *ecdsa.PrivateKey
}

func (p party) addr() string { return registry.Address(p.key) }

func newParty(name string) party {
	k, err := crypto.GenerateKey()
	if err != nil {
		panic(err) // only if the system's randomness fails
	}
	return party{name, k}
}

// facts are the example datanet's records, by contributor.
var facts = []struct{ contributor, content string }{
	{"alice", "The sky looks blue because air molecules scatter short blue wavelengths of sunlight far more than red ones. This is Rayleigh scattering."},
	{"alice", "Sunsets look red and orange because sunlight crosses more air near the horizon, and the blue light is scattered away before it reaches you."},
	{"bob", "Water boils at 100 degrees Celsius at sea level. At higher altitude the air pressure is lower, so water boils at a lower temperature."},
	{"bob", "Ice floats because water expands when it freezes, which makes ice less dense than liquid water."},
	{"carol", "Bees communicate where flowers are with a waggle dance. The angle of the dance shows the direction of the food relative to the sun."},
	{"carol", "The moon has phases because we see different parts of its sunlit half as it orbits the Earth."},
}

// example is what seeding created.
type example struct {
	agent            *registry.Plugin // the example agent as published
	owner, developer party
	contributors     map[string]party
	records          map[string]string // record id -> contributor name
}

// seedExample creates the example datanet, taking records from three
// contributors, with records they signed, and publishes the example agent
// reading it.
func seedExample(ctx context.Context, n *node) (*example, error) {
	ex := &example{owner: newParty("datanet owner"), developer: newParty("developer"),
		contributors: map[string]party{}, records: map[string]string{}}
	for _, name := range []string{"alice", "bob", "carol"} {
		ex.contributors[name] = newParty(name)
	}
	// The owner admits the three contributors it knows, and no one else.
	var writers []string
	for _, name := range []string{"alice", "bob", "carol"} {
		writers = append(writers, ex.contributors[name].addr())
	}
	dn := registry.Datanet{
		Name: exampleDatanet, Owner: ex.owner.addr(), Description: "Short science facts", License: "CC-BY-4.0",
		PricePerRead: readPrice.String(), Policy: registry.Policy{Write: registry.WriteAllowList, Writers: writers, Models: []string{exampleModel}},
	}
	dsig, err := registry.Sign(ex.owner.key, n.reg.Domain().DatanetDigest(dn))
	if err != nil {
		return nil, err
	}
	if _, err := n.reg.CreateDatanet(ctx, dn, dsig); err != nil {
		return nil, err
	}
	for _, f := range facts {
		c := ex.contributors[f.contributor]
		sig, err := registry.Sign(c.key, n.reg.Domain().RecordDigest(exampleDatanet, f.content))
		if err != nil {
			return nil, err
		}
		rec, _, err := n.reg.AddRecord(ctx, exampleDatanet, c.addr(), f.content, sig)
		if err != nil {
			return nil, fmt.Errorf("add record: %w", err)
		}
		ex.records[rec.ID] = f.contributor
	}
	// examples/ is the operator's namespace (see reservedNamespaces): the
	// node's operator publishes the example agent and is its developer.
	ex.developer = party{"operator", n.operator}
	ex.agent, err = n.host.Publish(ctx, ex.developer.key, registry.Manifest{
		Name: exampleAgent, Version: exampleAgentVersion, Kind: abi.KindAgent, Price: agentPrice.String(),
		Datanets: []string{exampleDatanet}, Attribution: registry.DefaultAttribution,
		Limits: &registry.Limits{MaxRecords: 16},
	}, examples.QA)
	if err != nil {
		return nil, fmt.Errorf("publish agent: %w", err)
	}
	return ex, nil
}

// fund gives a caller credit the way a real caller gets it: the operator
// mints test tokens and a little ETH for gas, the caller deposits the tokens
// into the settlement contract, and the host credits the deposit it sees
// on-chain.
func fund(ctx context.Context, n *node, caller party, amount *big.Int) (string, error) {
	if _, err := n.client.SendETH(ctx, n.operator, caller.addr(), new(big.Int).Div(oneToken, big.NewInt(10))); err != nil {
		return "", err
	}
	if _, err := n.client.Mint(ctx, n.operator, caller.addr(), amount); err != nil {
		return "", err
	}
	d, err := n.client.Deposit(ctx, caller.key, caller.addr(), amount)
	if err != nil {
		return "", err
	}
	if _, err := n.settle.SyncDeposits(ctx); err != nil {
		return "", err
	}
	return d.Ref, nil
}

func invokeReq(caller string) host.InvokeRequest {
	return host.InvokeRequest{Caller: caller, Agent: exampleAgent + "@latest", Input: []byte("Why is the sky blue?")}
}

const (
	exampleModel    = "examples/facts-lm"
	exampleRAG      = "examples/rag"
	exampleModelVer = "1.0.0"
)

// seedModel publishes a model built from the example datanet as it is now
// (the embedded ∞-gram backend) and the rag example agent, which searches
// the datanet and asks the model.
func seedModel(ctx context.Context, n *node, ex *example) (*registry.Plugin, error) {
	d, err := n.reg.Datanet(ctx, exampleDatanet)
	if err != nil {
		return nil, err
	}
	perK := new(big.Int).Div(oneToken, big.NewInt(100)) // 0.01 TGT per 1,000 tokens in, 10× that out
	m, err := n.host.Publish(ctx, ex.developer.key, registry.Manifest{Name: exampleModel, Version: exampleModelVer, Kind: abi.KindModel,
		Model: &registry.ModelSpec{Backend: registry.BackendInfgram, Tokenizer: registry.TokenizerInfgram, PriceIn: perK.String(),
			PriceOut: new(big.Int).Mul(perK, big.NewInt(10)).String(), MaxTokens: 64,
			Training: []registry.TrainingData{{Datanet: exampleDatanet, Version: d.Version, Root: d.Root}}}}, nil)
	if err != nil {
		return nil, fmt.Errorf("publish model: %w", err)
	}
	if _, err := n.host.Publish(ctx, ex.developer.key, registry.Manifest{Name: exampleRAG, Version: exampleModelVer, Kind: abi.KindAgent,
		Price: agentPrice.String(), Datanets: []string{exampleDatanet}, Models: grant.Models{{Model: m.Manifest.Ref(), MaxTokens: 24}},
		Limits: &registry.Limits{MaxRecords: 16}}, examples.RAG); err != nil {
		return nil, fmt.Errorf("publish agent: %w", err)
	}
	return m, nil
}
