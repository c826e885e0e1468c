package settle

import (
	"context"
	"time"
)

// OnChain is what the contract holds for an epoch, as last read.
type OnChain struct {
	Root, Bundle string // empty: no root posted for the epoch
	Operator     string // the operator the contract named at the epoch
	read         time.Time
}

// onChainTTL is how long a read of an epoch's root and operator answers
// EpochOnChain: anyone may ask, and each read scans the chain's logs.
const onChainTTL = 15 * time.Second

// EpochOnChain returns what the contract holds for epoch n, read at most
// onChainTTL ago.
func (s *Settler) EpochOnChain(ctx context.Context, n uint64) (OnChain, error) {
	if s.chain == nil {
		return OnChain{}, ErrNoChain
	}
	s.onChainMu.Lock()
	c, ok := s.onChain[n]
	s.onChainMu.Unlock()
	if ok && time.Since(c.read) < onChainTTL {
		return c, nil
	}
	root, bundle, found, err := s.chain.RootOf(ctx, n)
	if err != nil {
		return OnChain{}, err
	}
	c = OnChain{read: time.Now()}
	if found {
		c.Root, c.Bundle = root, bundle
	}
	if c.Operator, err = s.chain.OperatorAt(ctx, n); err != nil {
		return OnChain{}, err
	}
	s.onChainMu.Lock()
	if s.onChain == nil || len(s.onChain) >= 1024 {
		s.onChain = map[uint64]OnChain{}
	}
	s.onChain[n] = c
	s.onChainMu.Unlock()
	return c, nil
}
