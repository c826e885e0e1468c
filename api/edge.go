package api

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	"golang.org/x/time/rate"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/api/auth"
	"github.com/tollgate-dev/tollgate/host"
)

// Error codes of the edge: refusals made before a request reaches a service.
const (
	CodeTooLarge             = host.CodeTooLarge    // a request body (or a module) past its size limit
	CodeRateLimited abi.Code = "rate_limited"       // an account sent more requests than its rate allows
	CodeBusy        abi.Code = "too_many_in_flight" // an account has too many calls running
	CodeBadHost     abi.Code = "bad_host"           // a Host header the node does not answer to
	// CodeStreamTooLong: a streamed request still sending at its MaxStreamTime.
	CodeStreamTooLong abi.Code = "stream_too_long"
)

// Limits bound what one request, and one account, may cost the node before
// any service code runs.
type Limits struct {
	// MaxBodyBytes caps a request body; a larger one is refused after
	// reading at most that much. Default 1 MiB.
	MaxBodyBytes int64
	// Rate and Burst bound each account's requests per second (Rate 0:
	// unlimited).
	Rate  float64
	Burst int
	// MaxInFlight bounds each account's concurrent requests (0: unlimited).
	MaxInFlight int
	// Hosts are the Host header names the web page answers to besides
	// loopback names (localhost, 127.0.0.1, ::1), against DNS rebinding.
	Hosts []string
	// ReadTimeout bounds reading a whole request (default 30 s), so a
	// slowly sent body cannot hold a connection.
	ReadTimeout time.Duration
	// MaxStreamTime bounds reading a whole streamed request, such as an
	// import (default DefaultMaxStreamTime): within it each read may wait
	// ReadTimeout, so a stream may run long, but neither stall nor trickle
	// for ever.
	MaxStreamTime time.Duration
}

// DefaultMaxStreamTime is how long a streamed request may take to send.
const DefaultMaxStreamTime = time.Hour

// DefaultLimits are the limits `serve` starts with.
func DefaultLimits() Limits {
	return Limits{MaxBodyBytes: 1 << 20, Rate: 50, Burst: 100, MaxInFlight: 32, ReadTimeout: 30 * time.Second}
}

// publicProcedures answer without a token: what anyone may read (proofs,
// and receipts of closed epochs, which the handler decides).
var publicProcedures = map[string]bool{
	"/tollgate.v1.DatanetService/GetDatanet":     true,
	"/tollgate.v1.LedgerService/GetDeployment":   true,
	"/tollgate.v1.RegistryService/GetPlugin":     true,
	"/tollgate.v1.RegistryService/ListPlugins":   true,
	"/tollgate.v1.RegistryService/GetPluginWasm": true,
	"/tollgate.v1.AuthService/Challenge":         true,
	"/tollgate.v1.AuthService/SignIn":            true,
	"/tollgate.v1.LedgerService/GetProof":        true,
	"/tollgate.v1.LedgerService/GetReceipt":      true,
	"/tollgate.v1.LedgerService/TraceReceipt":    true,
	"/tollgate.v1.LedgerService/ListEpochs":      true,
	"/tollgate.v1.LedgerService/GetEpoch":        true,
	"/tollgate.v1.LedgerService/ExportEpoch":     true,
	"/tollgate.v1.DatanetService/GetVersion":     true,
	"/tollgate.v1.DatanetService/ListRecords":    true,
}

// streamedProcedures read a stream of messages, each capped on its own, for
// as long as the sender keeps sending: the body cap does not apply, and the
// read deadline is idle time between reads rather than the whole request.
var streamedProcedures = map[string]bool{
	"/tollgate.v1.DatanetService/ImportRecords": true,
}

// edge authenticates each API request from its headers before any of its
// body is read, caps the body, and applies the account's rate and
// in-flight limits; errors are written in the request's own protocol
// (Connect, gRPC or gRPC-Web).
type edge struct {
	auth   auth.Authenticator
	limits Limits
	errors *connect.ErrorWriter

	mu       sync.Mutex
	accounts map[string]*accountLimit
}

type accountLimit struct {
	rate     *rate.Limiter
	inFlight int
}

func newEdge(authn auth.Authenticator, l Limits) *edge {
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = DefaultLimits().MaxBodyBytes
	}
	return &edge{auth: authn, limits: l, errors: connect.NewErrorWriter(), accounts: map[string]*accountLimit{}}
}

type principalKey struct{}

// principalOf returns the principal the edge authenticated, if any.
func principalOf(ctx context.Context) (auth.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(auth.Principal)
	return p, ok
}

func (e *edge) api(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Who is asking, from the headers alone: nothing of the body is
		// read for a request that will be refused.
		p, authErr := e.auth.Authenticate(r.Header)
		if authErr != nil && !publicProcedures[r.URL.Path] {
			e.errors.Write(w, r, connectErr(authErr))
			return
		}
		limit := e.limits.MaxBodyBytes
		if r.URL.Path == "/tollgate.v1.RegistryService/PublishPlugin" {
			limit = max(limit, host.MaxModuleBytes+1<<20) // a module, and its manifest
		}
		switch {
		case streamedProcedures[r.URL.Path]:
			rc := http.NewResponseController(w)
			rc.SetWriteDeadline(time.Time{}) // the answer comes after the whole stream; the idle read deadline bounds it
			r.Body = &idleBody{ReadCloser: r.Body, rc: rc, idle: e.limits.readTimeout(), end: time.Now().Add(e.limits.maxStreamTime())}
		case r.URL.Path == "/tollgate.v1.LedgerService/ExportEpoch":
			// A long export keeps going while the client keeps reading.
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			w = &progressWriter{ResponseWriter: w, rc: http.NewResponseController(w)}
		case r.ContentLength > limit:
			e.errors.Write(w, r, connectErr(abi.Errorf(CodeTooLarge, "request body is %d bytes, limit %d", r.ContentLength, limit)))
			return
		default:
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		account := p.Account
		if authErr != nil {
			// A public procedure, asked anonymously: limited per address,
			// so nobody can make the node read its chain or stores for free
			// without end.
			account = "anonymous " + remoteIP(r)
		}
		release, err := e.admit(account)
		if err != nil {
			e.errors.Write(w, r, connectErr(err))
			return
		}
		defer release()
		if authErr != nil {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// remoteIP is the address a request came from, without its port; for
// IPv6, its /64, which one host is usually given whole.
func remoteIP(r *http.Request) string {
	h, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		h = r.RemoteAddr
	}
	if ip := net.ParseIP(h); ip != nil && ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return h
}

func (l Limits) readTimeout() time.Duration {
	if l.ReadTimeout <= 0 {
		return DefaultLimits().ReadTimeout
	}
	return l.ReadTimeout
}

func (l Limits) maxStreamTime() time.Duration {
	if l.MaxStreamTime <= 0 {
		return DefaultMaxStreamTime
	}
	return l.MaxStreamTime
}

// idleBody moves a streamed request's read deadline forward after every
// read, up to the stream's end: a stream may run long, but not stall, and
// not past end.
type idleBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
	end  time.Time
}

func (b *idleBody) Read(p []byte) (int, error) {
	now := time.Now()
	if !now.Before(b.end) {
		return 0, abi.Errorf(CodeStreamTooLong, "the stream was still sending at its end, %s", b.end.Format(time.RFC3339))
	}
	deadline := now.Add(b.idle)
	if deadline.After(b.end) {
		deadline = b.end
	}
	b.rc.SetReadDeadline(deadline) // best effort: not every connection has deadlines
	return b.ReadCloser.Read(p)
}

// maxTrackedAccounts bounds the accounts (and anonymous addresses) the
// edge keeps limits for; past it, those idle with a full rate bucket go.
const maxTrackedAccounts = 100_000

// prune forgets accounts with nothing in flight whose rate bucket has
// refilled: keeping them would change nothing. Under e.mu.
func (e *edge) prune() {
	for k, a := range e.accounts {
		if a.inFlight == 0 && (a.rate == nil || a.rate.Tokens() >= float64(a.rate.Burst())) {
			delete(e.accounts, k)
		}
	}
}

// progressWriter moves a streamed answer's write deadline forward after
// every write: an export may run long, but not stall.
type progressWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
}

// streamWriteTimeout bounds one write of a streamed answer.
const streamWriteTimeout = 2 * time.Minute

func (w *progressWriter) Write(p []byte) (int, error) {
	w.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	return w.ResponseWriter.Write(p)
}

// Flush lets the stream's messages go out as they are written.
func (w *progressWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w *progressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// admit applies an account's rate and in-flight limits.
func (e *edge) admit(account string) (func(), error) {
	if e.limits.Rate <= 0 && e.limits.MaxInFlight <= 0 {
		return func() {}, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.accounts[account]
	if a == nil {
		if len(e.accounts) >= maxTrackedAccounts {
			e.prune()
		}
		a = &accountLimit{}
		if e.limits.Rate > 0 {
			a.rate = rate.NewLimiter(rate.Limit(e.limits.Rate), max(e.limits.Burst, 1))
		}
		e.accounts[account] = a
	}
	if a.rate != nil && !a.rate.Allow() {
		return nil, abi.Errorf(CodeRateLimited, "more than %g requests per second from %s", e.limits.Rate, account)
	}
	if e.limits.MaxInFlight > 0 && a.inFlight >= e.limits.MaxInFlight {
		return nil, abi.Errorf(CodeBusy, "%s already has %d requests running", account, a.inFlight)
	}
	a.inFlight++
	return func() {
		e.mu.Lock()
		a.inFlight--
		e.mu.Unlock()
	}, nil
}

// page refuses a web page request whose Host the node does not answer to:
// a DNS-rebinding page would otherwise reach a node on loopback.
func (e *edge) page(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			host = h
		}
		host = strings.Trim(strings.ToLower(host), "[]")
		ok := host == "localhost" || host == "127.0.0.1" || host == "::1"
		for _, h := range e.limits.Hosts {
			ok = ok || strings.EqualFold(h, host)
		}
		if !ok {
			http.Error(w, string(CodeBadHost)+": this node does not answer to that Host", http.StatusMisdirectedRequest)
			return
		}
		next(w, r)
	}
}

// NewServer returns an HTTP server for handler with timeouts that stop a
// slow client from holding a connection: headers in 10 s, the whole
// request in l.ReadTimeout, idle connections closed after 2 minutes.
func NewServer(handler http.Handler, l Limits) *http.Server {
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = DefaultLimits().ReadTimeout
	}
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: min(10*time.Second, l.ReadTimeout),
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}
