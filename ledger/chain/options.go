package chain

import (
	"context"
	"math/big"
	"time"
)

// Option configures [Deploy] and [Attach].
type Option func(*options)

type options struct {
	durable func(ctx context.Context, block uint64) error
	// replaceAfter is how long a sent transaction may stay unmined before
	// it is replaced with higher fees (0: DefaultReplaceAfter).
	replaceAfter time.Duration
	// maxLogBlocks bounds a log query's range (0: MaxLogBlocks).
	maxLogBlocks uint64
	// firstFees, if set, are the first attempt's tip and fee cap.
	firstFees *[2]*big.Int
	// Deployment settings (Deploy only).
	guardian       string
	challengeDelay uint64
	rotationDelay  uint64
}

// WithGuardian deploys with guardian as the Settlement's guardian (who may
// veto pending roots, pause, and rotate the operator); by default the
// deployer, which suits a development chain only.
func WithGuardian(guardian string) Option { return func(o *options) { o.guardian = guardian } }

// WithDelays deploys with a challenge delay before a posted root becomes
// claimable and a delay before a proposed operator may take over, in
// seconds; both are 0 by default (a development chain).
func WithDelays(challenge, rotation uint64) Option {
	return func(o *options) { o.challengeDelay, o.rotationDelay = challenge, rotation }
}

// WithDurability makes every wait for a transaction also wait until wait
// says its block is on disk (the embedded chain's [Node.WaitDurable]), so
// nothing is reported mined that a crash of the node could take back.
func WithDurability(wait func(ctx context.Context, block uint64) error) Option {
	return func(o *options) { o.durable = wait }
}

// WithMaxLogBlocks bounds the blocks one log query spans, for an RPC
// endpoint whose limit is below MaxLogBlocks.
func WithMaxLogBlocks(n uint64) Option { return func(o *options) { o.maxLogBlocks = n } }

// WithReplaceAfter sets how long a sent transaction may stay unmined before
// it is replaced at higher fees.
func WithReplaceAfter(d time.Duration) Option { return func(o *options) { o.replaceAfter = d } }

func optionsOf(opts []Option) options {
	var o options
	for _, f := range opts {
		f(&o)
	}
	if o.replaceAfter == 0 {
		o.replaceAfter = DefaultReplaceAfter
	}
	if o.maxLogBlocks == 0 {
		o.maxLogBlocks = MaxLogBlocks
	}
	return o
}

// DefaultReplaceAfter is how long a transaction may wait unmined before it
// is sent again, with the same nonce, at higher fees: a few blocks on
// Ethereum.
const DefaultReplaceAfter = 45 * time.Second

// MaxLogBlocks is the default bound on the blocks one log query spans:
// public RPC endpoints refuse wide ranges.
const MaxLogBlocks = 2000

// LogRange is the most blocks one of the client's log queries spans.
func (c *Client) LogRange() uint64 { return c.opts.maxLogBlocks }
