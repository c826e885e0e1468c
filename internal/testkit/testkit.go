// Package testkit sets up the real components tests run against — keys,
// the embedded chain with the settlement contract deployed, and a node's
// stores in a temporary directory — once, so each test says only what is
// particular to it. Everything it starts is closed by t.Cleanup.
package testkit

import (
	"context"
	"crypto/ecdsa"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/ledger/chain"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/runtime"
)

// Key returns a new Ethereum key.
func Key(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Addr is a key's checksummed address.
func Addr(k *ecdsa.PrivateKey) string { return crypto.PubkeyToAddress(k.PublicKey).Hex() }

// Chain is the embedded chain with the settlement contract and its token
// deployed by the operator, and a client attached to them.
type Chain struct {
	Node       *chain.Node
	Client     *chain.Client
	Deployment chain.Deployment
}

// NewChain starts the embedded chain in dir (a new temporary directory if
// empty), deploys the contracts with operator and attaches to them; opts
// go to the deployment (guardian, delays, durability).
func NewChain(t testing.TB, dir string, operator *ecdsa.PrivateKey, opts ...chain.Option) *Chain {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	node, err := chain.StartNode(dir, crypto.PubkeyToAddress(operator.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	ctx := context.Background()
	dep, err := chain.Deploy(ctx, node.Client(), operator, opts...)
	if err != nil {
		t.Fatal(err)
	}
	c, err := chain.Attach(ctx, node.Client(), dep, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return &Chain{Node: node, Client: c, Deployment: dep}
}

// Stores are a node's registry, ledger and runtime in a temporary
// directory, the ledger signing with operator.
type Stores struct {
	Registry *registry.Registry
	Ledger   *ledger.Ledger
	Runtime  *runtime.Runtime
}

// NewStores opens a node's stores in a new temporary directory.
func NewStores(t testing.TB, operator *ecdsa.PrivateKey) *Stores {
	t.Helper()
	dir := t.TempDir()
	reg, err := registry.Open(dir+"/registry", registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	led, err := ledger.Open(dir+"/ledger", ledger.Options{Signer: operator})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { led.Close() })
	rt, err := runtime.New(runtime.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	return &Stores{Registry: reg, Ledger: led, Runtime: rt}
}
