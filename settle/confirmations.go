package settle

import "github.com/tollgate-dev/tollgate/ledger/chain"

// AutoConfirmations, as Config.Confirmations, asks the host to pick the
// confirmations for the chain it settles on: [DefaultConfirmations] of the
// chain's id.
const AutoConfirmations = ^uint64(0)

// Confirmations deposits wait for, by kind of chain.
const (
	// DevConfirmations is for development chains: a node such as
	// geth --dev seals a block only when a transaction arrives, so a
	// deposit that waited for blocks on top would wait for traffic that
	// may never come.
	DevConfirmations = 0
	// PublicConfirmations is for Ethereum mainnet and its public
	// testnets: beyond the depth of any reorganisation seen since the
	// merge, and well within the 64 blocks after which a block is final.
	PublicConfirmations = 12
	// FallbackConfirmations is for any other chain (an L2, a sidechain,
	// a private network): the same depth as mainnet, since the host cannot
	// know how such a chain reorganises. --confirmations overrides it.
	FallbackConfirmations = 12
)

// DefaultConfirmations is how many blocks must follow a deposit's block
// before the host credits it, on the chain with id chainID:
// DevConfirmations for development chains (1337, geth --dev and the
// embedded chain; 31337, Hardhat and Anvil), PublicConfirmations for
// Ethereum mainnet (1) and its public testnets (Sepolia 11155111, Holesky
// 17000, Hoodi 560048), FallbackConfirmations for any other.
func DefaultConfirmations(chainID uint64) uint64 {
	switch chainID {
	case chain.DevChainID, 31337: // chain.DevChainID is 1337, as geth --dev
		return DevConfirmations
	case 1, 11155111, 17000, 560048:
		return PublicConfirmations
	}
	return FallbackConfirmations
}
