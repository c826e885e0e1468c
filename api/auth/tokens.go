package auth

import (
	"bytes"
	"container/heap"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
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

const (
	// tokenLogHeader opens a token file in the log format: one JSON
	// record per line after it. A file without it is the older single JSON
	// map, migrated on open.
	tokenLogHeader = `{"tollgate_tokens":2}` + "\n"
	// expiredTokenGrace is how long a token past its expiry is still
	// recognised (and refused as expired, telling its holder to sign in
	// again) before it is forgotten.
	expiredTokenGrace = 24 * time.Hour
	// compactMinDead is the fewest forgotten records that make the token
	// file worth rewriting; it is rewritten once they also outnumber the
	// live ones, so each record is rewritten O(1) times on average.
	compactMinDead = 1024
)

// Tokens authenticates bearer tokens ("Authorization: Bearer tg_…"). Only
// their sha256 is kept, in an append-only log: a sign-in appends one line
// and syncs it (sign-ins in flight together share a sync) before its
// token is handed out, so its cost does not grow with the tokens issued
// before. Tokens long expired are forgotten, and the log is rewritten
// without them when they are most of it. Authentication reads memory only
// and never waits for the disk.
type Tokens struct {
	path string

	// mu guards byHash and is held for map operations only, never across
	// I/O, so Authenticate never waits for a write.
	mu     sync.RWMutex
	byHash map[string]Principal

	// wmu serialises appends, pruning and compaction. The map changes only
	// under wmu (and mu), so a wmu holder may read it without mu.
	wmu      sync.Mutex
	file     *os.File // swapped only under wmu and smu
	size     int64    // bytes of whole records in the file
	records  int      // records in the file, live or not
	retryAt  int      // records at which a failed compaction is retried
	expiring expiryHeap
	err      error // a write the store could not undo: sign-ins are refused until reopened

	// written counts appended records; smu serialises syncs, and synced is
	// the count the last sync made durable (a sync covers every record
	// written before it started).
	written atomic.Uint64
	smu     sync.Mutex
	synced  uint64
	syncErr error

	sync func(*os.File) error
	now  func() time.Time
}

var _ Authenticator = (*Tokens)(nil)

type tokenRecord struct {
	Hash string `json:"hash"`
	Principal
}

type expiry struct {
	at   time.Time
	hash string
}

type expiryHeap []expiry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// OpenTokens loads the token file at path, or starts an empty one. A file
// in the older format (one JSON map) is rewritten as a log; a record torn
// by a crash in the middle of an append (its token was never handed out)
// is dropped. With path "", tokens live in memory only.
func OpenTokens(path string) (*Tokens, error) {
	t := &Tokens{path: path, byHash: map[string]Principal{}, sync: (*os.File).Sync, now: time.Now}
	if path == "" {
		return t, nil
	}
	if err := t.load(); err != nil {
		return nil, fmt.Errorf("host: tokens %s: %w", path, err)
	}
	return t, nil
}

func (t *Tokens) load() error {
	if err := os.MkdirAll(filepath.Dir(t.path), 0o700); err != nil {
		return err
	}
	b, err := os.ReadFile(t.path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	rewrite := false
	switch {
	case len(b) == 0:
		rewrite = true
	case bytes.HasPrefix(b, []byte(tokenLogHeader)):
		torn, err := t.readLog(b)
		if err != nil {
			return err
		}
		rewrite = torn
	default:
		if err := json.Unmarshal(b, &t.byHash); err != nil {
			return fmt.Errorf("neither a token log nor a token map: %w", err)
		}
		if t.byHash == nil { // the file held "null"
			t.byHash = map[string]Principal{}
		}
		t.records, rewrite = len(t.byHash), true
	}
	grace := t.now().Add(-expiredTokenGrace)
	for h, p := range t.byHash {
		switch {
		case p.Expires.IsZero():
		case p.Expires.Before(grace):
			delete(t.byHash, h)
		default:
			t.expiring = append(t.expiring, expiry{p.Expires, h})
		}
	}
	heap.Init(&t.expiring)
	if rewrite || t.records > len(t.byHash) {
		return t.rewrite()
	}
	t.file, err = os.OpenFile(t.path, os.O_WRONLY|os.O_APPEND, 0)
	t.size = int64(len(b))
	return err
}

// readLog reads the records of a token log. It reports a torn last record
// (no newline, or a partial one); an unreadable record with readable ones
// after it is damage no crash explains, and an error.
func (t *Tokens) readLog(b []byte) (torn bool, err error) {
	lines := bytes.SplitAfter(b[len(tokenLogHeader):], []byte("\n"))
	for i, line := range lines {
		if len(line) == 0 {
			continue
		}
		var r tokenRecord
		if bytes.HasSuffix(line, []byte("\n")) && json.Unmarshal(line, &r) == nil && r.Hash != "" {
			t.byHash[r.Hash] = r.Principal
			t.records++
			continue
		}
		for _, rest := range lines[i+1:] {
			if json.Unmarshal(rest, &r) == nil && r.Hash != "" {
				return false, fmt.Errorf("unreadable record %d before readable ones", i+1)
			}
		}
		return true, nil
	}
	return false, nil
}

// rewrite replaces the token file with the live records, atomically, and
// appends to the new file from then on. The caller holds wmu (or has the
// store to itself, opening it).
func (t *Tokens) rewrite() error {
	buf := bytes.NewBufferString(tokenLogHeader)
	enc := json.NewEncoder(buf)
	for h, p := range t.byHash {
		if err := enc.Encode(tokenRecord{h, p}); err != nil {
			return err
		}
	}
	if err := fsutil.WriteFileAtomic(t.path, buf.Bytes(), 0o600); err != nil {
		return err
	}
	f, err := os.OpenFile(t.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if t.file != nil {
		t.file.Close()
	}
	t.file, t.size, t.records = f, int64(buf.Len()), len(t.byHash)
	return nil
}

// Issue creates a token for p and persists it. The token itself is returned
// once and never stored.
func (t *Tokens) Issue(p Principal) (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	tok := "tg_" + hex.EncodeToString(b[:])
	h := tokenHash(tok)
	if t.path == "" {
		t.mu.Lock()
		t.byHash[h] = p
		t.mu.Unlock()
		return tok, nil
	}
	line, err := json.Marshal(tokenRecord{h, p})
	if err != nil {
		return "", err
	}
	line = append(line, '\n')
	t.wmu.Lock()
	if t.err == nil {
		t.prune()
	}
	if t.err != nil {
		t.wmu.Unlock()
		return "", fmt.Errorf("host: tokens: %w", t.err)
	}
	if n, err := t.file.Write(line); err != nil {
		if n > 0 {
			// The next record must not follow torn bytes.
			if terr := t.file.Truncate(t.size); terr != nil {
				t.err = terr
			}
		}
		t.wmu.Unlock()
		return "", fmt.Errorf("host: tokens: %w", err)
	}
	t.size += int64(len(line))
	t.records++
	t.mu.Lock()
	t.byHash[h] = p
	t.mu.Unlock()
	if !p.Expires.IsZero() {
		heap.Push(&t.expiring, expiry{p.Expires, h})
	}
	seq := t.written.Add(1)
	t.wmu.Unlock()
	// Synced before the token is handed out: a token that was given must
	// survive a crash.
	if err := t.syncTo(seq); err != nil {
		return "", fmt.Errorf("host: tokens: %w", err)
	}
	return tok, nil
}

// syncTo returns once record seq is durable. While one sync runs, the
// sign-ins behind it queue; the first of them syncs for all.
func (t *Tokens) syncTo(seq uint64) error {
	t.smu.Lock()
	defer t.smu.Unlock()
	if t.synced >= seq {
		return nil
	}
	if t.syncErr != nil {
		// After a failed fsync the kernel may have dropped the pages:
		// nothing written since can be trusted durable.
		return t.syncErr
	}
	target := t.written.Load()
	if err := t.sync(t.file); err != nil {
		t.syncErr = err
		return err
	}
	t.synced = target
	return nil
}

// prune forgets tokens expired for longer than [expiredTokenGrace], and
// rewrites the file once forgotten records are most of it. The caller
// holds wmu.
func (t *Tokens) prune() {
	grace := t.now().Add(-expiredTokenGrace)
	var gone []expiry
	for len(t.expiring) > 0 && t.expiring[0].at.Before(grace) {
		gone = append(gone, heap.Pop(&t.expiring).(expiry))
	}
	if len(gone) > 0 {
		t.mu.Lock()
		for _, e := range gone {
			if p, ok := t.byHash[e.hash]; ok && p.Expires.Equal(e.at) {
				delete(t.byHash, e.hash)
			}
		}
		t.mu.Unlock()
	}
	live := len(t.byHash)
	if dead := t.records - live; dead < compactMinDead || dead <= live || t.records < t.retryAt {
		return
	}
	// Every record written is in the map, so the new file holds them all
	// and is synced: the syncs waiting on the old one have nothing left
	// to do.
	t.smu.Lock()
	defer t.smu.Unlock()
	if t.syncErr != nil {
		return
	}
	old := t.file
	if err := t.rewrite(); err != nil {
		if fi, serr := os.Stat(t.path); serr != nil || !sameFile(fi, old) {
			// The old file is no longer at path: appends to it are lost.
			t.err = err
			return
		}
		t.retryAt = t.records + compactMinDead
		return
	}
	t.synced = t.written.Load()
}

func sameFile(fi os.FileInfo, f *os.File) bool {
	fi2, err := f.Stat()
	return err == nil && os.SameFile(fi, fi2)
}

// Close syncs and closes the token file; later sign-ins are refused.
func (t *Tokens) Close() error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	t.smu.Lock()
	defer t.smu.Unlock()
	if t.file == nil {
		return nil
	}
	var err error
	if w := t.written.Load(); t.synced < w && t.syncErr == nil {
		if err = t.sync(t.file); err == nil {
			t.synced = w
		}
	}
	err = errors.Join(err, t.file.Close())
	t.file = nil
	if t.err == nil {
		t.err = errors.New("closed")
	}
	return err
}

// Authenticate implements [Authenticator].
func (t *Tokens) Authenticate(h http.Header) (Principal, error) {
	auth := h.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || tok == "" {
		return Principal{}, abi.Errorf(abi.CodeBadSignature, "missing bearer token: sign in (AuthService.SignIn, or tollgate login) and send it as Authorization: Bearer TOKEN")
	}
	t.mu.RLock()
	p, ok := t.byHash[tokenHash(tok)]
	t.mu.RUnlock()
	if !ok {
		return Principal{}, abi.Errorf(abi.CodeBadSignature, "unknown token: this node did not issue it (or has restarted); sign in again")
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
