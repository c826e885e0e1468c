package host

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/fsutil"
)

// Principal is who a request comes from.
type Principal struct {
	Account  string `json:"account"`
	Operator bool   `json:"operator,omitempty"`
	// Expires is when the token stops working (zero: never, for tokens
	// the node issued itself at first start).
	Expires time.Time `json:"expires,omitzero"`
}

// Authenticator tells who sent a request from its headers.
type Authenticator interface {
	Authenticate(h http.Header) (Principal, error)
}

// Tokens authenticates bearer tokens ("Authorization: Bearer tg_…"). Only
// their sha256 is kept, in a JSON file written atomically.
type Tokens struct {
	path   string
	mu     sync.RWMutex
	byHash map[string]Principal
}

var _ Authenticator = (*Tokens)(nil)

// OpenTokens loads the token file at path, or starts an empty one.
func OpenTokens(path string) (*Tokens, error) {
	t := &Tokens{path: path, byHash: map[string]Principal{}}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return t, nil
	}
	if err != nil {
		return nil, fmt.Errorf("host: tokens: %w", err)
	}
	if err := json.Unmarshal(b, &t.byHash); err != nil {
		return nil, fmt.Errorf("host: tokens %s: %w", path, err)
	}
	return t, nil
}

// Issue creates a token for p and persists it. The token itself is returned
// once and never stored.
func (t *Tokens) Issue(p Principal) (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	tok := "tg_" + hex.EncodeToString(b[:])
	t.mu.Lock()
	defer t.mu.Unlock()
	t.byHash[tokenHash(tok)] = p
	data, err := json.MarshalIndent(t.byHash, "", "  ")
	if err != nil {
		return "", err
	}
	if t.path != "" {
		if err := os.MkdirAll(filepath.Dir(t.path), 0o700); err != nil {
			return "", err
		}
		// Synced before the token is handed out: a token that was given
		// must survive a crash.
		if err := fsutil.WriteFileAtomic(t.path, data, 0o600); err != nil {
			return "", err
		}
	}
	return tok, nil
}

// Authenticate implements [Authenticator].
func (t *Tokens) Authenticate(h http.Header) (Principal, error) {
	auth := h.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || tok == "" {
		return Principal{}, abi.Errorf(abi.CodeBadSignature, "missing bearer token")
	}
	t.mu.RLock()
	p, ok := t.byHash[tokenHash(tok)]
	t.mu.RUnlock()
	if !ok {
		return Principal{}, abi.Errorf(abi.CodeBadSignature, "unknown token")
	}
	if !p.Expires.IsZero() && !time.Now().Before(p.Expires) {
		return Principal{}, abi.Errorf(CodeTokenExpired, "the token expired at %s; sign in again", p.Expires.Format(time.RFC3339))
	}
	return p, nil
}

func tokenHash(tok string) string {
	s := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(s[:])
}
