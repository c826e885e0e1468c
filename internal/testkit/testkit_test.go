package testkit_test

import (
	"context"
	"math/big"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/testkit"
)

// The kit's chain has the contracts deployed and the operator minting.
func TestNewChain(t *testing.T) {
	op, alice := testkit.Key(t), testkit.Key(t)
	kit := testkit.NewChain(t, "", op)
	ctx := context.Background()
	if _, err := kit.Client.Mint(ctx, op, testkit.Addr(alice), big.NewInt(7)); err != nil {
		t.Fatal(err)
	}
	if bal, err := kit.Client.TokenBalance(ctx, testkit.Addr(alice)); err != nil || bal.Int64() != 7 {
		t.Fatalf("alice holds %v (%v), want 7", bal, err)
	}
	st := testkit.NewStores(t, op)
	if err := st.Ledger.Check(ctx); err != nil {
		t.Fatalf("a new ledger fails its checks: %v", err)
	}
	if _, err := st.Registry.Datanet(ctx, "none/such"); err == nil {
		t.Fatal("an empty registry has a datanet")
	}
}
