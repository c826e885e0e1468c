package auth_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/api/auth"
)

func bearer(tok string) http.Header {
	return http.Header{"Authorization": []string{"Bearer " + tok}}
}

func sha(tok string) string {
	s := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(s[:])
}

func openTokens(t testing.TB, path string) *auth.Tokens {
	t.Helper()
	tk, err := auth.OpenTokens(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tk.Close() })
	return tk
}

func issue(t testing.TB, tk *auth.Tokens, p auth.Principal) string {
	t.Helper()
	tok, err := tk.Issue(p)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func mustAuth(t *testing.T, tk *auth.Tokens, tok, account string) {
	t.Helper()
	p, err := tk.Authenticate(bearer(tok))
	if err != nil || p.Account != account {
		t.Fatalf("token of %s: %+v, %v", account, p, err)
	}
}

// A sign-in appends one record to the token file and rewrites nothing: the
// file stays the same file, what it held stays its prefix, and it grows by
// one bounded record per token, however many tokens came before.
func TestIssueAppendsWithoutRewriting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	tk := openTokens(t, path)
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	issue(t, tk, auth.Principal{Account: "0x0000000000000000000000000000000000000001", Expires: exp})
	first, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	const maxRecord = 256
	for i := range 300 {
		issue(t, tk, auth.Principal{Account: fmt.Sprintf("0x%040x", i+2), Expires: exp})
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if !os.SameFile(first, fi) {
			t.Fatalf("issue %d replaced the token file instead of appending to it", i)
		}
		after, _ := os.ReadFile(path)
		if !bytes.HasPrefix(after, before) {
			t.Fatalf("issue %d rewrote what the file held", i)
		}
		if grew := len(after) - len(before); grew <= 0 || grew > maxRecord {
			t.Fatalf("issue %d grew the file by %d bytes, want 1..%d", i, grew, maxRecord)
		}
		before = after
	}
}

// Tokens long expired are dropped: from memory and, once they are a large
// part of the file, from the file (compacted); a reopened store has none of
// them. Live tokens and the node's own never-expiring ones stay.
func TestExpiredTokensArePruned(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	tk := openTokens(t, path)
	own := issue(t, tk, auth.Principal{Account: "0x00000000000000000000000000000000000000aa", Operator: true})
	live := issue(t, tk, auth.Principal{Account: "0x00000000000000000000000000000000000000bb", Expires: time.Now().Add(time.Hour)})
	long := time.Now().Add(-72 * time.Hour).UTC().Truncate(time.Second)
	var dead []string
	for i := range 1500 {
		dead = append(dead, issue(t, tk, auth.Principal{Account: fmt.Sprintf("0x%040x", i+1), Expires: long}))
	}
	check := func(stage string) {
		t.Helper()
		mustAuth(t, tk, own, "0x00000000000000000000000000000000000000aa")
		mustAuth(t, tk, live, "0x00000000000000000000000000000000000000bb")
		for _, tok := range dead[:len(dead)-1] {
			if _, err := tk.Authenticate(bearer(tok)); abi.CodeOf(err) != abi.CodeBadSignature {
				t.Fatalf("%s: a long-expired token: %v, want it unknown", stage, err)
			}
		}
		b, _ := os.ReadFile(path)
		if n := bytes.Count(b, []byte("\n")); n > 1100 {
			t.Fatalf("%s: the token file still has %d lines for 2 live tokens", stage, n)
		}
		if bytes.Contains(b, []byte(sha(dead[0]))) {
			t.Fatalf("%s: the token file still holds a long-expired token", stage)
		}
	}
	check("while open")
	if err := tk.Close(); err != nil {
		t.Fatal(err)
	}
	tk = openTokens(t, path)
	check("reopened")
	b, _ := os.ReadFile(path)
	if n := bytes.Count(b, []byte("\n")); n > 3 {
		t.Fatalf("reopened: the token file has %d lines for 2 live tokens", n)
	}
}

// A token just past its expiry says so (rather than "unknown"), so its
// holder knows to sign in again.
func TestRecentlyExpiredTokenSaysExpired(t *testing.T) {
	tk := openTokens(t, filepath.Join(t.TempDir(), "tokens.json"))
	tok := issue(t, tk, auth.Principal{Account: "0x00000000000000000000000000000000000000cc", Expires: time.Now().Add(-time.Minute)})
	issue(t, tk, auth.Principal{Account: "0x00000000000000000000000000000000000000dd", Expires: time.Now().Add(time.Hour)})
	if _, err := tk.Authenticate(bearer(tok)); abi.CodeOf(err) != auth.CodeTokenExpired {
		t.Fatalf("a token a minute past expiry: %v", err)
	}
}

// Authentication never waits for a sign-in's disk sync, and a sign-in
// does not return its token before the sync.
func TestAuthenticateDoesNotWaitForIssueSync(t *testing.T) {
	tk := openTokens(t, filepath.Join(t.TempDir(), "tokens.json"))
	old := issue(t, tk, auth.Principal{Account: "0x00000000000000000000000000000000000000ee"})
	syncing, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	auth.SetTokensSync(tk, func(f *os.File) error {
		once.Do(func() { close(syncing) })
		<-release
		return f.Sync()
	})
	issued := make(chan string)
	go func() {
		tok, err := tk.Issue(auth.Principal{Account: "0x00000000000000000000000000000000000000ff"})
		if err != nil {
			t.Error(err)
		}
		issued <- tok
	}()
	select {
	case <-syncing:
	case <-time.After(10 * time.Second):
		t.Fatal("a sign-in never synced the token file")
	}
	authed := make(chan error)
	go func() { _, err := tk.Authenticate(bearer(old)); authed <- err }()
	select {
	case err := <-authed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		close(release)
		t.Fatal("Authenticate waited for a sign-in's disk sync")
	}
	select {
	case <-issued:
		t.Fatal("a token was handed out before it was synced")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	mustAuth(t, tk, <-issued, "0x00000000000000000000000000000000000000ff")
}

// A crash in the middle of an append leaves a torn last record: the file
// still opens, with every token before it, and later tokens are not glued
// onto the torn bytes.
func TestTornTokenRecordIsDropped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	tk := openTokens(t, path)
	var toks []string
	for i := range 3 {
		toks = append(toks, issue(t, tk, auth.Principal{Account: fmt.Sprintf("0x%040x", i+1)}))
	}
	tk.Close()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"hash":"0123456789abcdef","account":"0x00`)
	f.Close()
	tk = openTokens(t, path)
	for i, tok := range toks {
		mustAuth(t, tk, tok, fmt.Sprintf("0x%040x", i+1))
	}
	toks = append(toks, issue(t, tk, auth.Principal{Account: fmt.Sprintf("0x%040x", 4)}))
	tk.Close()
	tk = openTokens(t, path)
	for i, tok := range toks {
		mustAuth(t, tk, tok, fmt.Sprintf("0x%040x", i+1))
	}
}

// A data dir from before the log keeps its tokens: the JSON map is read
// and rewritten as a log, which later sign-ins append to.
func TestOldTokenFileIsMigrated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	oldTok := "tg_" + strings.Repeat("ab", 24)
	expTok := "tg_" + strings.Repeat("cd", 24)
	old := map[string]auth.Principal{
		sha(oldTok): {Account: "0x0000000000000000000000000000000000000001", Operator: true},
		sha(expTok): {Account: "0x0000000000000000000000000000000000000002", Expires: time.Now().Add(-72 * time.Hour).UTC().Truncate(time.Second)},
	}
	b, _ := json.MarshalIndent(old, "", "  ")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	tk := openTokens(t, path)
	mustAuth(t, tk, oldTok, "0x0000000000000000000000000000000000000001")
	if p, _ := tk.Authenticate(bearer(oldTok)); !p.Operator {
		t.Fatal("the migrated token lost the operator's role")
	}
	if _, err := tk.Authenticate(bearer(expTok)); err == nil {
		t.Fatal("a long-expired migrated token authenticated")
	}
	b, _ = os.ReadFile(path)
	if bytes.HasPrefix(b, []byte("{\n")) || bytes.Contains(b, []byte(sha(expTok))) {
		t.Fatalf("the token file was not migrated:\n%s", b)
	}
	tok := issue(t, tk, auth.Principal{Account: "0x0000000000000000000000000000000000000003"})
	tk.Close()
	tk = openTokens(t, path)
	mustAuth(t, tk, oldTok, "0x0000000000000000000000000000000000000001")
	mustAuth(t, tk, tok, "0x0000000000000000000000000000000000000003")
}

// Sign-ins from many goroutines, some of them forcing compactions, lose no
// token, open or reopened.
func TestConcurrentIssueAndCompaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	tk := openTokens(t, path)
	long := time.Now().Add(-72 * time.Hour)
	var mu sync.Mutex
	live := map[string]string{}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 700 {
				acct := fmt.Sprintf("0x%038x%02x", i, g)
				if i%5 != 0 {
					tk.Issue(auth.Principal{Account: acct, Expires: long})
					continue
				}
				tok, err := tk.Issue(auth.Principal{Account: acct, Expires: time.Now().Add(time.Hour)})
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := tk.Authenticate(bearer(tok)); err != nil {
					t.Error(err)
				}
				mu.Lock()
				live[tok] = acct
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for tok, acct := range live {
		mustAuth(t, tk, tok, acct)
	}
	tk.Close()
	tk = openTokens(t, path)
	for tok, acct := range live {
		mustAuth(t, tk, tok, acct)
	}
}

// BenchmarkIssue measures a sign-in's token write (ns/op, and bytes the
// file grows by) with 100 and with 100,000 tokens already issued, loaded
// from a token file of the older format.
func BenchmarkIssue(b *testing.B) {
	for _, n := range []int{100, 100_000} {
		b.Run(fmt.Sprintf("tokens=%d", n), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "tokens.json")
			old := make(map[string]auth.Principal, n)
			exp := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
			for i := range n {
				old[sha(fmt.Sprint("tg_", i))] = auth.Principal{Account: fmt.Sprintf("0x%040x", i), Expires: exp}
			}
			data, _ := json.MarshalIndent(old, "", "  ")
			if err := os.WriteFile(path, data, 0o600); err != nil {
				b.Fatal(err)
			}
			tk := openTokens(b, path)
			fi, _ := os.Stat(path)
			p := auth.Principal{Account: "0x00000000000000000000000000000000000000aa", Expires: exp}
			start := time.Now()
			for b.Loop() {
				issue(b, tk, p)
			}
			b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N), "ns/op")
			if fi2, err := os.Stat(path); err == nil {
				b.ReportMetric(float64(fi2.Size()-fi.Size())/float64(b.N), "file-bytes/issue")
			}
		})
	}
}
