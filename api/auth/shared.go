package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/kv"
)

// TokenStore issues bearer tokens and tells who sent a request by one.
type TokenStore interface {
	Authenticator
	Issue(p Principal) (string, error)
	Close() error
}

var (
	_ TokenStore = (*Tokens)(nil)
	_ TokenStore = (*SharedTokens)(nil)
)

// SharedTokens keeps bearer tokens (their sha256, never the tokens) in a
// store every host behind a load balancer reads, so a token one host
// issued works on all. A token's record never changes once written, so
// each host keeps those it has seen in memory and reads the store only for
// one it has not; a token long expired is forgotten from memory, and
// refused either way.
type SharedTokens struct {
	db    kv.Store
	mu    sync.RWMutex
	known map[string]Principal
}

// OpenSharedTokens keeps tokens in db, which it closes when it closes.
func OpenSharedTokens(db kv.Store) *SharedTokens {
	return &SharedTokens{db: db, known: map[string]Principal{}}
}

func sharedTokenKey(hash string) []byte { return []byte("t/" + hash) }

// maxKnownTokens bounds the tokens a host keeps in memory; past it the
// memory starts again empty (every token is still in the store).
const maxKnownTokens = 1 << 16

// Issue creates a token for p and writes it to the store before returning
// it.
func (t *SharedTokens) Issue(p Principal) (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	tok := "tg_" + hex.EncodeToString(b[:])
	h := tokenHash(tok)
	if err := t.db.Update(func(txn kv.Txn) error { return kv.SetJSON(txn, sharedTokenKey(h), p) }); err != nil {
		return "", abi.Wrap(abi.CodeUnavailable, err, "auth: store the token")
	}
	t.remember(h, p)
	return tok, nil
}

func (t *SharedTokens) remember(h string, p Principal) {
	t.mu.Lock()
	if len(t.known) >= maxKnownTokens {
		t.known = map[string]Principal{}
	}
	t.known[h] = p
	t.mu.Unlock()
}

// Authenticate implements [Authenticator].
func (t *SharedTokens) Authenticate(h http.Header) (Principal, error) {
	tok, ok := strings.CutPrefix(h.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return Principal{}, abi.Errorf(abi.CodeBadSignature, "missing bearer token: sign in (AuthService.SignIn, or tollgate login) and send it as Authorization: Bearer TOKEN")
	}
	hash := tokenHash(tok)
	t.mu.RLock()
	p, ok := t.known[hash]
	t.mu.RUnlock()
	if !ok {
		err := t.db.View(func(txn kv.Txn) error { return kv.GetJSON(txn, sharedTokenKey(hash), &p) })
		if errors.Is(err, kv.ErrNotFound) {
			return Principal{}, abi.Errorf(abi.CodeBadSignature, "unknown token: no host of this node issued it; sign in again")
		}
		if err != nil {
			return Principal{}, abi.Wrap(abi.CodeUnavailable, err, "auth: read the token")
		}
		t.remember(hash, p)
	}
	if !p.Expires.IsZero() && !time.Now().Before(p.Expires) {
		return Principal{}, abi.Errorf(CodeTokenExpired, "the token expired at %s; sign in again", p.Expires.Format(time.RFC3339))
	}
	return p, nil
}

// Close closes the store.
func (t *SharedTokens) Close() error { return t.db.Close() }
