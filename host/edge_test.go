package host_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/api"
	"golang.org/x/sys/unix"

	"connectrpc.com/connect"
	"connectrpc.com/grpcreflect"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/api/auth"
	"github.com/tollgate-dev/tollgate/registry"
)

// countingReader yields n bytes of JSON-ish filler, counting what was read.
type countingReader struct {
	left, read int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := min(int64(len(p)), r.left)
	for i := range p[:n] {
		p[i] = ' '
	}
	r.left -= n
	atomic.AddInt64(&r.read, n)
	return int(n), nil
}

// serveWith starts the env's host behind other limits on a new listener.
func (e *env) serveWith(t *testing.T, l api.Limits) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return e.serveOn(t, ln, l)
}

// smallBuffers sets a socket's kernel buffer (SO_RCVBUF or SO_SNDBUF) to
// 64 KB, which also stops the kernel growing it: what a test counts as
// written then differs from what the other end read by little more.
func smallBuffers(opt int) func(network, address string, c syscall.RawConn) error {
	return func(_, _ string, c syscall.RawConn) error {
		var err error
		c.Control(func(fd uintptr) { err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, opt, 64<<10) })
		return err
	}
}

// smallBufferClient sends through sockets of small send buffers.
var smallBufferClient = &http.Client{Transport: &http.Transport{
	DialContext: (&net.Dialer{Control: smallBuffers(unix.SO_SNDBUF)}).DialContext,
}}

// serveOn starts the env's host behind limits l on ln.
func (e *env) serveOn(t *testing.T, ln net.Listener, l api.Limits) string {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	go api.Serve(ctx, api.NewServer(e.handler(t, api.Config{Limits: l}), l), ln)
	return "http://" + ln.Addr().String()
}

func call(t *testing.T, url, method, token string, body io.Reader, size int64) (int, string, map[string]any) {
	t.Helper()
	return callVia(t, http.DefaultClient, url, method, token, body, size)
}

func callVia(t *testing.T, client *http.Client, url, method, token string, body io.Reader, size int64) (int, string, map[string]any) {
	t.Helper()
	req, err := http.NewRequest("POST", url+"/tollgate.v1."+method, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&out)
	return res.StatusCode, res.Header.Get(api.CodeHeader), out
}

// A request without a token, or too large, is refused before its body is
// read; an error never echoes a large input back. The bytes counted are
// those the client wrote, so both ends' sockets keep small buffers: the
// kernel would otherwise grow a loopback receive buffer to tens of MB
// (tcp_rmem), counted as read though the server never read them.
func TestEdgeRefusesBeforeReadingTheBody(t *testing.T) {
	e := newEnv(t)
	ln, err := (&net.ListenConfig{Control: smallBuffers(unix.SO_RCVBUF)}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := e.serveOn(t, ln, api.DefaultLimits())
	const big = 50 << 20
	for _, c := range []struct {
		name, token string
		code        abi.Code
	}{
		{"no token", "", abi.CodeBadSignature},
		{"too large", "", ""},
	} {
		tok := c.token
		code := c.code
		if c.name == "too large" {
			_, tok = e.fund(t, 0)
			code = api.CodeTooLarge
		}
		body := &countingReader{left: big}
		status, got, _ := callVia(t, smallBufferClient, url, "AgentService/Invoke", tok, body, big)
		if status < 400 || abi.Code(got) != code {
			t.Fatalf("%s: %d %q, want %s", c.name, status, got, code)
		}
		if read := atomic.LoadInt64(&body.read); read > 4<<20 {
			t.Fatalf("%s: the server read %d of %d bytes before refusing", c.name, read, big)
		}
	}
	// A body with no declared length stops at the limit too.
	_, tok := e.fund(t, 0)
	body := &countingReader{left: big}
	status, _, _ := callVia(t, smallBufferClient, url, "AgentService/Invoke", tok, body, -1)
	if status < 400 || atomic.LoadInt64(&body.read) > 4<<20 {
		t.Fatalf("chunked 50 MB: %d after %d bytes", status, body.read)
	}
	// An error about a long input does not quote it.
	long, _ := json.Marshal(map[string]any{"account": strings.Repeat("x", 900_000)})
	status, code, out := call(t, e.url, "LedgerService/GetBalance", tok, bytes.NewReader(long), int64(len(long)))
	if status != 400 || abi.Code(code) != abi.CodeBadRequest {
		t.Fatalf("long account: %d %s", status, code)
	}
	if msg, _ := out["message"].(string); len(msg) > api.MaxErrorBytes+8 {
		t.Fatalf("an error echoed %d bytes of input", len(msg))
	}
	// The node still serves.
	_, ok := e.fund(t, 5_000)
	if status, _, out := call(t, e.url, "AgentService/Invoke", ok, strings.NewReader(`{"agent":"acme/qa@1.0.0","inputText":"Why is the sky blue?"}`), -1); status != 200 {
		t.Fatalf("invoke after the refusals: %d %v", status, out)
	}
}

// Balances and open-epoch receipts are their owners' (and the operator's);
// a closed epoch's receipts are public.
func TestEdgeKeepsAccountsPrivate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice, aliceTok := e.fund(t, 5_000)
	_, bobTok := e.fund(t, 5_000)
	opTok, _ := e.tokens.Issue(auth.Principal{Account: registry.Address(e.operator), Operator: true})
	balance := func(tok, acct string) (int, abi.Code) {
		st, code, _ := e.post(t, "LedgerService/GetBalance", tok, map[string]any{"account": acct})
		return st, abi.Code(code.Get(api.CodeHeader))
	}
	for _, c := range []struct {
		who, tok string
		status   int
		code     abi.Code
	}{
		{"nobody", "", 401, abi.CodeBadSignature},
		{"another account", bobTok, 403, abi.CodeGrantDenied},
		{"its owner", aliceTok, 200, ""},
		{"the operator", opTok, 200, ""},
	} {
		if st, code := balance(c.tok, alice); st != c.status || code != c.code {
			t.Fatalf("alice's balance read by %s: %d %s", c.who, st, code)
		}
	}
	_, _, res := e.post(t, "AgentService/Invoke", aliceTok, map[string]any{"agent": "acme/qa@1.0.0", "inputText": "Why is the sky blue?"})
	id := res["receipt"].(map[string]any)["id"].(string)
	receipt := func(tok string) (int, abi.Code) {
		st, hdr, _ := e.post(t, "LedgerService/GetReceipt", tok, map[string]any{"id": id})
		return st, abi.Code(hdr.Get(api.CodeHeader))
	}
	for _, c := range []struct {
		who, tok string
		status   int
	}{{"nobody", "", 401}, {"a stranger", bobTok, 403}, {"its caller", aliceTok, 200}, {"the operator", opTok, 200}} {
		if st, code := receipt(c.tok); st != c.status {
			t.Fatalf("an open-epoch receipt read by %s: %d %s", c.who, st, code)
		}
	}
	if _, err := e.s.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	if st, code := receipt(""); st != 200 {
		t.Fatalf("a closed epoch's receipt, read by anyone: %d %s", st, code)
	}
}

// Per-account rate and in-flight limits refuse with their own codes, and
// a slowly sent body does not hold a connection past the read timeout.
func TestEdgeLimitsEachAccount(t *testing.T) {
	e := newEnv(t)
	_, tok := e.fund(t, 100_000)
	url := e.serveWith(t, api.Limits{Rate: 1, Burst: 2, ReadTimeout: time.Second})
	var codes []string
	for range 3 {
		_, code, _ := call(t, url, "LedgerService/GetBalance", tok, strings.NewReader(`{}`), -1)
		codes = append(codes, code)
	}
	if codes[0] != "" || codes[1] != "" || codes[2] != string(api.CodeRateLimited) {
		t.Fatalf("three requests at a burst of 2: %q", codes)
	}
	// Anonymous requests to public procedures are limited by address.
	codes = nil
	for range 3 {
		_, code, _ := call(t, url, "LedgerService/ListEpochs", "", strings.NewReader(`{}`), -1)
		codes = append(codes, code)
	}
	if codes[0] != "" || codes[1] != "" || codes[2] != string(api.CodeRateLimited) {
		t.Fatalf("three anonymous requests at a burst of 2: %q", codes)
	}

	url = e.serveWith(t, api.Limits{MaxInFlight: 1})
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]int{}
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, code, _ := call(t, url, "AgentService/Invoke", tok, strings.NewReader(`{"agent":"acme/qa@1.0.0","inputText":"Why is the sky blue?"}`), -1)
			mu.Lock()
			seen[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if seen[""] == 0 || seen[string(api.CodeBusy)] == 0 || len(seen) != 2 {
		t.Fatalf("12 concurrent calls with one allowed in flight: %v", seen)
	}

	// A body trickled in: the connection is closed at the read timeout.
	url = e.serveWith(t, api.Limits{ReadTimeout: time.Second})
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /tollgate.v1.LedgerService/GetBalance HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", tok)
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, err := conn.Write([]byte(" ")); err != nil {
			break
		}
		if _, err := conn.Read(make([]byte, 1)); err != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if held := time.Since(start); held > 5*time.Second {
		t.Fatalf("a slow body held its connection for %v", held)
	}
}

// A streamed import that keeps sending a byte now and then, never stalling
// past the read timeout, is cut off at the stream's overall deadline.
func TestEdgeEndsATrickledStream(t *testing.T) {
	e := newEnv(t)
	_, tok := e.fund(t, 100_000)
	url := e.serveWith(t, api.Limits{ReadTimeout: time.Second, MaxStreamTime: 2 * time.Second})
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /tollgate.v1.DatanetService/ImportRecords HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/connect+json\r\nTransfer-Encoding: chunked\r\n\r\n", tok)
	// An envelope announcing a large message, then its body a byte at a
	// time, each well within the read timeout.
	fmt.Fprintf(conn, "5\r\n\x00\x00\x10\x00\x00\r\n")
	start := time.Now()
	done := make(chan time.Duration, 1)
	go func() {
		b := make([]byte, 4096)
		for {
			if _, err := conn.Read(b); err != nil {
				done <- time.Since(start)
				return
			}
		}
	}()
	var held time.Duration
	for held == 0 {
		if _, err := fmt.Fprintf(conn, "1\r\n \r\n"); err != nil {
			held = time.Since(start)
			break
		}
		select {
		case held = <-done:
		case <-time.After(300 * time.Millisecond):
		}
		if time.Since(start) > 20*time.Second {
			t.Fatal("a trickled stream was held for 20 s")
		}
	}
	if held > 6*time.Second {
		t.Fatalf("a trickled stream was held for %v, its limit 2 s", held)
	}
}

// The web page answers only to loopback names and configured hosts.
func TestEdgeChecksTheHostOfThePage(t *testing.T) {
	e := newEnv(t)
	for host, want := range map[string]int{"evil.example": http.StatusMisdirectedRequest, "127.0.0.1:80": 200, "localhost": 200} {
		req, _ := http.NewRequest("GET", e.url+"/", nil)
		req.Host = host
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Fatalf("page for Host %s: %d, want %d", host, res.StatusCode, want)
		}
	}
}

// Health and reflection answer without a token, so grpcurl and buf curl
// can list and call every service.
func TestHealthAndReflection(t *testing.T) {
	e := newEnv(t)
	res, err := http.Post(e.url+"/grpc.health.v1.Health/Check", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	res.Body.Close()
	if res.StatusCode != 200 || out["status"] != "SERVING_STATUS_SERVING" {
		t.Fatalf("health: %d %v", res.StatusCode, out)
	}
	// gRPC over cleartext HTTP/2, as grpcurl -plaintext speaks it.
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	h2c := &http.Client{Transport: &http.Transport{Protocols: &protocols}}
	stream := grpcreflect.NewClient(h2c, e.url, connect.WithGRPC()).NewStream(context.Background())
	defer stream.Close()
	names, err := stream.ListServices()
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(names)
	for _, want := range []string{"tollgate.v1.AgentService", "tollgate.v1.LedgerService"} {
		if !strings.Contains(got, want) {
			t.Fatalf("reflection lists %s, not %s", got, want)
		}
	}
	files, err := stream.FileContainingSymbol("tollgate.v1.LedgerService")
	if err != nil || len(files) == 0 {
		t.Fatalf("descriptor of LedgerService: %v", err)
	}
}
