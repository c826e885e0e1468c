package auth

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/siwe"
)

// Sign-in refusals, each with its own code.
const (
	CodeUnknownNonce abi.Code = "siwe_unknown_nonce" // a nonce this node never issued, or issued too long ago
	CodeNonceReused  abi.Code = "siwe_nonce_reused"  // a nonce already used to sign in
	CodeWrongDomain  abi.Code = "siwe_wrong_domain"  // a message for another site
	CodeWrongChain   abi.Code = "siwe_wrong_chain"   // a message for another chain
	CodeWrongAddress abi.Code = "siwe_wrong_address" // a message for another address than the one challenged
	CodeExpired      abi.Code = "siwe_expired"       // a message past its expiration time
	CodeTokenExpired abi.Code = "token_expired"      // a bearer token past its expiry
)

// SignIn issues Sign-In with Ethereum challenges and exchanges signed ones
// for short-lived bearer tokens. Challenges live in memory: a restart
// voids the unanswered ones, which is harmless.
type SignIn struct {
	Domain   string // the host (and port) a message must name
	URI      string
	ChainID  uint64
	Operator string        // who signs in as the operator
	TokenTTL time.Duration // default 24 h
	// ChallengeTTL is how long a challenge may be answered (default 5 min).
	ChallengeTTL time.Duration
	Tokens       TokenStore

	mu     sync.Mutex
	nonces map[string]*challenge
}

type challenge struct {
	address common.Address
	expires time.Time
	used    bool
}

// Challenge returns the message address must sign to sign in.
func (s *SignIn) Challenge(address string) (siwe.Message, error) {
	if !common.IsHexAddress(address) {
		return siwe.Message{}, abi.Errorf(abi.CodeBadRequest, "address is not an Ethereum address")
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return siwe.Message{}, err
	}
	now := time.Now().UTC().Truncate(time.Second)
	ttl := s.ChallengeTTL
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	m := siwe.Message{
		Domain: s.Domain, Address: common.HexToAddress(address), URI: s.URI, ChainID: s.ChainID,
		Statement: "Sign in to Tollgate.", Nonce: hex.EncodeToString(b[:]), IssuedAt: now, Expires: now.Add(ttl),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nonces == nil {
		s.nonces = map[string]*challenge{}
	}
	// Forget challenges long past, so unanswered ones cannot pile up.
	for n, c := range s.nonces {
		if now.After(c.expires.Add(ttl)) {
			delete(s.nonces, n)
		}
	}
	s.nonces[m.Nonce] = &challenge{address: m.Address, expires: m.Expires}
	return m, nil
}

// Complete checks a signed challenge and issues a token for its address.
func (s *SignIn) Complete(text string, sig []byte) (string, Principal, error) {
	m, err := siwe.Parse(text)
	if err != nil {
		return "", Principal{}, err
	}
	if m.Domain != s.Domain || m.URI != s.URI {
		return "", Principal{}, abi.Errorf(CodeWrongDomain, "the message is for %s, this node is %s", m.Domain, s.Domain)
	}
	if m.ChainID != s.ChainID {
		return "", Principal{}, abi.Errorf(CodeWrongChain, "the message is for chain %d, this node settles on %d", m.ChainID, s.ChainID)
	}
	now := time.Now()
	if m.Expires.IsZero() || !now.Before(m.Expires) {
		return "", Principal{}, abi.Errorf(CodeExpired, "the message expired at %s", m.Expires.Format(time.RFC3339))
	}
	signer, err := siwe.Recover(text, sig)
	if err != nil {
		return "", Principal{}, err
	}
	if signer != m.Address {
		return "", Principal{}, abi.Errorf(abi.CodeBadSignature, "the message is signed by %s, not %s", signer.Hex(), m.Address.Hex())
	}
	// The nonce is checked and spent last, under the lock: a message that
	// fails any other check leaves its nonce usable for a corrected one.
	s.mu.Lock()
	c := s.nonces[m.Nonce]
	switch {
	case c == nil:
		s.mu.Unlock()
		return "", Principal{}, abi.Errorf(CodeUnknownNonce, "nonce %.40q was not issued by this node, or long ago", m.Nonce)
	case c.used:
		s.mu.Unlock()
		return "", Principal{}, abi.Errorf(CodeNonceReused, "nonce %s was used already", m.Nonce)
	case c.address != m.Address:
		s.mu.Unlock()
		return "", Principal{}, abi.Errorf(CodeWrongAddress, "the challenge was for %s", c.address.Hex())
	case !now.Before(c.expires):
		s.mu.Unlock()
		return "", Principal{}, abi.Errorf(CodeExpired, "the challenge expired at %s", c.expires.Format(time.RFC3339))
	}
	c.used = true
	s.mu.Unlock()
	ttl := s.TokenTTL
	if ttl <= 0 {
		ttl = 24 * time.Hour
	}
	p := Principal{Account: m.Address.Hex(), Operator: strings.EqualFold(m.Address.Hex(), s.Operator), Expires: now.Add(ttl).UTC().Truncate(time.Second)}
	tok, err := s.Tokens.Issue(p)
	return tok, p, err
}
