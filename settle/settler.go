package settle

import (
	"crypto/ecdsa"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/ledger/chain"
	"github.com/tollgate-dev/tollgate/metrics"
	"github.com/tollgate-dev/tollgate/registry"
)

// Config wires a Settler. Ledger and Operator are required; without Chain
// every operation that needs the chain says so with chain.CodeChain.
type Config struct {
	Ledger *ledger.Ledger
	Chain  *chain.Client
	// Operator posts roots, relays claims and runs the faucet.
	Operator *ecdsa.PrivateKey
	Logger   *slog.Logger
	// Metrics, if set, counts epochs, deposits and the operator's gas.
	Metrics *metrics.Metrics
	// Confirmations is how many blocks must follow a deposit's block
	// before it is credited (0: at once, for a dev chain that seals a block
	// only when a transaction arrives; AutoConfirmations: as
	// DefaultConfirmations of the chain's id).
	Confirmations uint64
	// Faucet, if set, gives new callers test credit (development chains
	// only: the operator must be the token's minter).
	Faucet *Faucet
	// RelayClaimEvery is how often one account may have the node relay a
	// claim for it (0: DefaultRelayClaimEvery).
	RelayClaimEvery time.Duration
}

// Settler drives the chain for a node: it credits deposits (and undoes
// those a reorganisation removed), closes epochs and posts their roots,
// resumes a post a crash interrupted, takes withdrawals, runs the faucet
// and relays claims. It is safe for concurrent use.
type Settler struct {
	led      *ledger.Ledger
	chain    *chain.Client
	operator *ecdsa.PrivateKey
	opAddr   string
	logger   *slog.Logger
	metrics  *metrics.Metrics
	confirms uint64
	faucet   *Faucet
	relays   relays

	// settleMu makes closing, posting and resuming one at a time.
	settleMu sync.Mutex
	// syncMu makes deposit syncs one at a time.
	syncMu sync.Mutex
	// faucetMu makes faucet drips one at a time.
	faucetMu sync.Mutex

	// pendingLogged is the deposits whose wait for confirmations was
	// logged, so each is logged once.
	pendingMu     sync.Mutex
	pendingLogged map[string]bool

	onChainMu sync.Mutex
	onChain   map[uint64]OnChain // EpochOnChain's reads, by epoch
}

// New returns a Settler.
func New(cfg Config) (*Settler, error) {
	if cfg.Ledger == nil || cfg.Operator == nil {
		return nil, errors.New("settle: Ledger and Operator are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Confirmations == AutoConfirmations {
		cfg.Confirmations = FallbackConfirmations
		if cfg.Chain != nil {
			cfg.Confirmations = DefaultConfirmations(cfg.Chain.ChainID().Uint64())
		}
	}
	if cfg.RelayClaimEvery <= 0 {
		cfg.RelayClaimEvery = DefaultRelayClaimEvery
	}
	return &Settler{
		led: cfg.Ledger, chain: cfg.Chain, operator: cfg.Operator, opAddr: registry.Address(cfg.Operator),
		logger: cfg.Logger, metrics: cfg.Metrics, confirms: cfg.Confirmations, faucet: cfg.Faucet,
		relays: relays{every: cfg.RelayClaimEvery, last: map[string]time.Time{}, busy: map[string]bool{}},
	}, nil
}

// Chain is the chain the settler settles on (nil: none).
func (s *Settler) Chain() *chain.Client { return s.chain }
