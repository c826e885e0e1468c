package settle_test

import (
	"testing"

	"github.com/tollgate-dev/tollgate/settle"
)

// Each kind of chain gets the confirmations its reorganisations call for.
func TestDefaultConfirmations(t *testing.T) {
	for _, c := range []struct {
		name string
		id   uint64
		want uint64
	}{
		{"geth --dev and the embedded chain", 1337, 0},
		{"hardhat, anvil", 31337, 0},
		{"mainnet", 1, settle.PublicConfirmations},
		{"sepolia", 11155111, settle.PublicConfirmations},
		{"unknown", 424242, settle.FallbackConfirmations},
	} {
		if got := settle.DefaultConfirmations(c.id); got != c.want {
			t.Errorf("%s (%d): %d, want %d", c.name, c.id, got, c.want)
		}
	}
}
