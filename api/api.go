package api

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tollgate-dev/tollgate/api/auth"
	"github.com/tollgate-dev/tollgate/host"
	"github.com/tollgate-dev/tollgate/metrics"
	"github.com/tollgate-dev/tollgate/settle"
	"github.com/tollgate-dev/tollgate/web"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/tollgate-dev/tollgate/abi"
	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/gen/tollgate/v1/tollgatev1connect"
	"github.com/tollgate-dev/tollgate/internal/keys"
	"github.com/tollgate-dev/tollgate/internal/siwe"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/ledger/chain"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/rules"
)

// CodeHeader carries an error's abi code in Connect error metadata, so
// clients can branch on it exactly.
const CodeHeader = "Tollgate-Code"

// Config wires the API. Host, Settler, Registry, Ledger and Auth are
// required.
type Config struct {
	Host     *host.Host
	Settler  *settle.Settler
	Registry *registry.Registry
	Ledger   *ledger.Ledger
	Auth     auth.Authenticator
	// Limits bound each request and account at the edge, as given:
	// DefaultLimits are what serve starts with; a zero field is that
	// limit's default or none (see Limits).
	Limits Limits
	// SignIn, if set, serves AuthService's Challenge and SignIn.
	SignIn *auth.SignIn
	// Metrics, if set, are served at /metrics to the operator.
	Metrics *metrics.Metrics
	// ChainRPC is the URL of the embedded chain's JSON-RPC, if the node
	// serves one, which GetDeployment tells clients.
	ChainRPC string
}

// CompressMinBytes is the smallest response the API compresses.
const CompressMinBytes = 16 << 10

// New returns the HTTP handler serving the Connect API and the web page,
// behind the edge.
func New(cfg Config) (http.Handler, error) {
	if cfg.Host == nil || cfg.Settler == nil || cfg.Registry == nil || cfg.Ledger == nil || cfg.Auth == nil {
		return nil, errors.New("api: Host, Settler, Registry, Ledger and Auth are required")
	}
	authn := cfg.Auth
	e := newEdge(authn, cfg.Limits)
	mux := http.NewServeMux()
	api := &api{h: cfg.Host, settle: cfg.Settler, reg: cfg.Registry, led: cfg.Ledger, auth: authn, signIn: cfg.SignIn, chainRPC: cfg.ChainRPC}
	opts := handlerOptions(e.limits.MaxBodyBytes)
	for _, svc := range []func() (string, http.Handler){
		func() (string, http.Handler) { return tollgatev1connect.NewAgentServiceHandler(api, opts...) },
		func() (string, http.Handler) { return tollgatev1connect.NewLedgerServiceHandler(api, opts...) },
		func() (string, http.Handler) { return tollgatev1connect.NewAuthServiceHandler(api, opts...) },
		func() (string, http.Handler) { return tollgatev1connect.NewDatanetServiceHandler(api, opts...) },
		func() (string, http.Handler) {
			// Modules are larger than any other request.
			return tollgatev1connect.NewRegistryServiceHandler(api, handlerOptions(max(e.limits.MaxBodyBytes, host.MaxModuleBytes+1<<20))...)
		},
	} {
		path, handler := svc()
		mux.Handle(path, e.api(handler))
	}
	// Health and reflection are public, so grpcurl, buf curl and load
	// balancers can list and probe every service.
	services := []string{tollgatev1connect.AgentServiceName, tollgatev1connect.LedgerServiceName, tollgatev1connect.AuthServiceName, tollgatev1connect.RegistryServiceName, tollgatev1connect.DatanetServiceName}
	mux.Handle(grpchealth.NewHandler(grpchealth.NewStaticChecker(services...)))
	reflector := grpcreflect.NewStaticReflector(services...)
	mux.Handle(grpcreflect.NewHandlerV1(reflector))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector))
	if cfg.Metrics != nil {
		// Metrics describe the open epoch's traffic: the operator's to
		// read (Prometheus sends the operator's token as a bearer token).
		mux.Handle("GET /metrics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, err := authn.Authenticate(r.Header)
			if err == nil && !p.Operator {
				err = abi.Errorf(abi.CodeGrantDenied, "metrics are the operator's")
			}
			if err != nil {
				e.errors.Write(w, r, connectErr(err))
				return
			}
			cfg.Metrics.Handler().ServeHTTP(w, r)
		}))
	}
	mux.HandleFunc("POST /v1/chat/completions", e.openAI(api.chatCompletions))
	mux.HandleFunc("GET /v1/models", e.openAI(api.models))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	page := web.Handler()
	mux.HandleFunc("GET /{$}", e.page(page.ServeHTTP))
	mux.HandleFunc("GET /assets/", e.page(page.ServeHTTP))
	return mux, nil
}

// Serve serves srv on ln over HTTP/1.1 and cleartext HTTP/2, so curl,
// Connect, gRPC and gRPC-Web clients all reach it, until ctx is done.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener) error {
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv.Protocols = &protocols
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		<-ctx.Done()
		// Stop taking requests and let those running finish (each
		// invocation's receipt is durable before its response), then cut
		// whatever is left.
		dctx, cancel := context.WithTimeout(context.Background(), DrainTimeout)
		defer cancel()
		if srv.Shutdown(dctx) != nil {
			srv.Close()
		}
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-drained
	return nil
}

// DrainTimeout bounds how long a shutdown waits for requests in flight.
const DrainTimeout = 30 * time.Second

type api struct {
	h        *host.Host
	settle   *settle.Settler
	reg      *registry.Registry
	led      *ledger.Ledger
	auth     auth.Authenticator
	signIn   *auth.SignIn
	chainRPC string
	settled  settledVersions
	paused   pausedCache
}

// pausedCache keeps what the contract last said about its pause, so
// GetDeployment, which anyone may call, reads the chain at most once per
// pausedTTL and answers with the last reading when the chain cannot be read.
type pausedCache struct {
	mu      sync.Mutex
	read    time.Time
	paused  bool
	reading bool
}

const pausedTTL = 2 * time.Second

func (a *api) contractPaused(ctx context.Context) bool {
	c := &a.paused
	c.mu.Lock()
	if time.Since(c.read) < pausedTTL || c.reading {
		defer c.mu.Unlock()
		return c.paused
	}
	// One caller reads the chain, without the lock; the others answer
	// with the last reading meanwhile.
	c.reading = true
	c.mu.Unlock()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pausedTTL)
	defer cancel()
	p, err := a.settle.Chain().Paused(rctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	// A failed read is tried again after pausedTTL too, not at every call.
	c.reading, c.read = false, time.Now()
	if err == nil {
		c.paused = p
	}
	return c.paused
}

var (
	_ tollgatev1connect.AgentServiceHandler    = (*api)(nil)
	_ tollgatev1connect.LedgerServiceHandler   = (*api)(nil)
	_ tollgatev1connect.AuthServiceHandler     = (*api)(nil)
	_ tollgatev1connect.RegistryServiceHandler = (*api)(nil)
	_ tollgatev1connect.DatanetServiceHandler  = (*api)(nil)
)

// principal is who sent the request: as the edge authenticated it, or from
// its headers.
func (a *api) principal(ctx context.Context, hdr http.Header) (auth.Principal, error) {
	if p, ok := principalOf(ctx); ok {
		return p, nil
	}
	return a.auth.Authenticate(hdr)
}

func (a *api) Invoke(ctx context.Context, req *connect.Request[tollgatev1.InvokeRequest]) (*connect.Response[tollgatev1.InvokeResponse], error) {
	p, err := a.principal(ctx, req.Header())
	if err != nil {
		return nil, err
	}
	in := req.Msg.GetInput()
	if req.Msg.GetInputText() != "" {
		if len(in) > 0 {
			return nil, abi.Errorf(abi.CodeBadRequest, "set input or input_text, not both")
		}
		in = []byte(req.Msg.GetInputText())
	}
	maxPrice, err := parseMaxPrice(req.Msg.GetMaxPrice())
	if err != nil {
		return nil, err
	}
	res, err := a.h.Invoke(ctx, host.InvokeRequest{Caller: p.Account, Agent: req.Msg.GetAgent(), Input: in, RequestID: req.Msg.GetRequestId(), MaxPrice: maxPrice})
	if err != nil {
		return nil, err
	}
	out := &tollgatev1.InvokeResponse{Output: res.Output, Receipt: receiptProto(res.Receipt), Replayed: res.Replayed, InputSalt: hexutil.Encode(res.InputSalt)}
	if utf8.Valid(res.Output) {
		out.OutputText = string(res.Output)
	}
	return connect.NewResponse(out), nil
}

// parseMaxPrice reads an Invoke's max_price: a decimal integer of base
// units below 2^256, digits only; empty is no bound (nil).
func parseMaxPrice(s string) (*big.Int, error) {
	if s == "" {
		return nil, nil
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok || strings.Trim(s, "0123456789") != "" || v.BitLen() > 256 {
		return nil, abi.Errorf(abi.CodeBadRequest, "max_price %.80q: want a decimal integer of base units in [0, 2^256)", s)
	}
	return v, nil
}

func (a *api) GetBalance(ctx context.Context, req *connect.Request[tollgatev1.GetBalanceRequest]) (*connect.Response[tollgatev1.GetBalanceResponse], error) {
	acct, err := a.ownAccount(ctx, req.Header(), req.Msg.GetAccount(), "read its balance")
	if err != nil {
		return nil, err
	}
	bal, err := a.led.Balance(ctx, acct)
	if err != nil {
		return nil, err
	}
	earned, err := a.led.Earned(ctx, acct)
	if err != nil {
		return nil, err
	}
	out := &tollgatev1.GetBalanceResponse{Account: acct, Balance: bal.String(), Earned: earned.String()}
	if a.settle.Chain() != nil {
		if err := a.onChainBalance(ctx, acct, out); err != nil {
			return nil, err
		}
	}
	return connect.NewResponse(out), nil
}

// onChainBalance adds to a balance what the chain holds for account: its
// wallet's tokens, what it has claimed, and its deposits not yet credited.
func (a *api) onChainBalance(ctx context.Context, account string, out *tollgatev1.GetBalanceResponse) error {
	wallet, claimed, err := a.settle.Wallet(ctx, account)
	if err != nil {
		return err
	}
	out.Wallet, out.Claimed = wallet.String(), claimed.String()
	pending, err := a.settle.PendingDeposits(ctx, account)
	if err != nil {
		return err
	}
	for _, p := range pending {
		out.Pending = append(out.Pending, &tollgatev1.PendingDeposit{Amount: p.Amount, Ref: p.Ref, Block: p.Block, BlocksToGo: p.BlocksToGo})
	}
	return nil
}

func (a *api) GetProof(ctx context.Context, req *connect.Request[tollgatev1.GetProofRequest]) (*connect.Response[tollgatev1.GetProofResponse], error) {
	p, err := a.settle.Proof(ctx, req.Msg.GetEpoch(), req.Msg.GetAccount())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&tollgatev1.GetProofResponse{
		Epoch: p.Epoch.N, Account: p.Leaf.Account, Cumulative: p.Leaf.Cumulative.String(), Proof: p.Proof,
		Root: p.Epoch.Root, ChainId: p.ChainID, Settlement: p.Settlement, Posted: p.Epoch.PostTx != "", PostTx: p.Epoch.PostTx,
	}), nil
}

func (a *api) CloseEpoch(ctx context.Context, req *connect.Request[tollgatev1.CloseEpochRequest]) (*connect.Response[tollgatev1.CloseEpochResponse], error) {
	p, err := a.principal(ctx, req.Header())
	if err != nil {
		return nil, err
	}
	if !p.Operator {
		return nil, abi.Errorf(abi.CodeGrantDenied, "only the operator closes epochs")
	}
	e, err := a.settle.Settle(ctx)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&tollgatev1.CloseEpochResponse{
		Epoch: e.N, Root: e.Root, Total: e.Total.String(), Accounts: uint32(len(e.Leaves)), Receipts: uint32(e.Receipts), PostTx: e.PostTx,
	}), nil
}

func (a *api) GetReceipt(ctx context.Context, req *connect.Request[tollgatev1.GetReceiptRequest]) (*connect.Response[tollgatev1.GetReceiptResponse], error) {
	rc, err := a.receipt(ctx, req.Msg.GetId())
	if err != nil {
		return nil, err
	}
	// Once its epoch is closed a receipt is public: it is what lets anyone
	// check a payout. Before, only those it names and the operator see it.
	if open, err := a.led.OpenEpoch(ctx); err != nil {
		return nil, err
	} else if rc.Epoch >= open {
		p, err := a.principal(ctx, req.Header())
		if err != nil {
			return nil, err
		}
		if !p.Operator && !receiptNames(rc, p.Account) {
			return nil, abi.Errorf(abi.CodeGrantDenied, "receipt %s of the open epoch is visible to its caller, those it paid and the operator", rc.ID)
		}
	}
	return connect.NewResponse(&tollgatev1.GetReceiptResponse{Receipt: receiptProto(rc)}), nil
}

// receipt finds a receipt by its id or a unique prefix of one.
func (a *api) receipt(ctx context.Context, id string) (*ledger.Receipt, error) {
	if id == "" {
		return nil, abi.Errorf(abi.CodeBadRequest, "give a receipt id, or at least %d hex digits of one", ledger.MinReceiptPrefix)
	}
	rc, err := a.led.ReceiptByPrefix(ctx, id)
	if abi.CodeOf(err) == abi.CodeNotFound {
		// The id is quoted and capped: it is the caller's, not the ledger's.
		return nil, &abi.Error{Code: abi.CodeNotFound, Message: fmt.Sprintf("no receipt %.64q", id), Cause: err}
	}
	// A failing store is not a missing receipt.
	return rc, err
}

// receiptNames reports whether account is the receipt's caller or one of
// those it paid (the agent's publisher, contributors, the operator).
func receiptNames(rc *ledger.Receipt, account string) bool {
	if rc.Caller == account {
		return true
	}
	for _, p := range rc.Postings {
		if p.Account == account {
			return true
		}
	}
	return false
}

func (a *api) Withdraw(ctx context.Context, req *connect.Request[tollgatev1.WithdrawRequest]) (*connect.Response[tollgatev1.WithdrawResponse], error) {
	p, err := a.principal(ctx, req.Header())
	if err != nil {
		return nil, err
	}
	amount, ok := new(big.Int).SetString(req.Msg.GetAmount(), 10)
	if !ok || amount.Sign() <= 0 {
		return nil, abi.Errorf(abi.CodeBadRequest, "amount must be a positive decimal integer")
	}
	res, err := a.settle.Withdraw(ctx, p.Account, amount, req.Msg.GetRequestId())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&tollgatev1.WithdrawResponse{Receipt: receiptProto(res.Receipt), Replayed: res.Replayed}), nil
}

func (a *api) Faucet(ctx context.Context, req *connect.Request[tollgatev1.FaucetRequest]) (*connect.Response[tollgatev1.FaucetResponse], error) {
	p, err := a.principal(ctx, req.Header())
	if err != nil {
		return nil, err
	}
	res, err := a.settle.Drip(ctx, p.Account, req.Msg.GetToWallet())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&tollgatev1.FaucetResponse{Account: res.Account, Amount: res.Amount.String(), Gas: res.Gas.String(), DepositTx: res.DepositRef, ToWallet: res.ToWallet}), nil
}

func (a *api) GetDeployment(ctx context.Context, req *connect.Request[tollgatev1.GetDeploymentRequest]) (*connect.Response[tollgatev1.GetDeploymentResponse], error) {
	if a.settle.Chain() == nil {
		return nil, settle.ErrNoChain
	}
	d := a.settle.Chain().Deployment()
	return connect.NewResponse(&tollgatev1.GetDeploymentResponse{ChainId: d.ChainID, Settlement: d.Settlement, Token: d.Token, Operator: a.h.Operator(),
		Block: d.Block, Rpc: a.chainRPC, Paused: a.contractPaused(ctx)}), nil
}

func (a *api) Challenge(ctx context.Context, req *connect.Request[tollgatev1.ChallengeRequest]) (*connect.Response[tollgatev1.ChallengeResponse], error) {
	if a.signIn == nil {
		return nil, abi.Errorf(abi.CodeUnavailable, "this node does not offer sign-in")
	}
	m, err := a.signIn.Challenge(req.Msg.GetAddress())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&tollgatev1.ChallengeResponse{Message: m.String(), Nonce: m.Nonce, ExpiresAt: m.Expires.Unix()}), nil
}

func (a *api) SignIn(ctx context.Context, req *connect.Request[tollgatev1.SignInRequest]) (*connect.Response[tollgatev1.SignInResponse], error) {
	if a.signIn == nil {
		return nil, abi.Errorf(abi.CodeUnavailable, "this node does not offer sign-in")
	}
	sig, err := hexutil.Decode(req.Msg.GetSignature())
	if err != nil {
		return nil, abi.Errorf(abi.CodeBadSignature, "signature is not 0x-hex")
	}
	tok, p, err := a.signIn.Complete(req.Msg.GetMessage(), sig)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&tollgatev1.SignInResponse{Token: tok, Account: p.Account, Operator: p.Operator, ExpiresAt: p.Expires.Unix()}), nil
}

func (a *api) WhoAmI(ctx context.Context, req *connect.Request[tollgatev1.WhoAmIRequest]) (*connect.Response[tollgatev1.WhoAmIResponse], error) {
	p, err := a.principal(ctx, req.Header())
	if err != nil {
		return nil, err
	}
	out := &tollgatev1.WhoAmIResponse{Account: p.Account, Operator: p.Operator}
	if !p.Expires.IsZero() {
		out.ExpiresAt = p.Expires.Unix()
	}
	return connect.NewResponse(out), nil
}

func receiptProto(r *ledger.Receipt) *tollgatev1.Receipt {
	out := &tollgatev1.Receipt{
		Id: r.ID, Caller: r.Caller, Agent: r.Agent, AgentHash: r.AgentHash,
		Attribution: r.Attribution, AttributionHash: r.AttributionHash, Method: r.Method,
		InputHash: r.InputHash, OutputHash: r.OutputHash, Epoch: r.Epoch, Charged: r.Debit().String(),
		Signer: r.Signer, Signature: r.Signature, RequestId: r.RequestID, Time: r.Time.Format(time.RFC3339Nano),
		Fuel: r.Fuel, PrevBundle: r.PrevBundle,
	}
	if r.Domain != nil {
		out.ChainId, out.Settlement = r.Domain.ChainID.Uint64(), r.Domain.Settlement
	}
	for _, d := range r.Datanets {
		out.Datanets = append(out.Datanets, &tollgatev1.DatanetVersion{Name: d.Name, Version: d.Version, Root: d.Root})
	}
	for _, a := range r.Accesses {
		out.Accesses = append(out.Accesses, &tollgatev1.Access{Datanet: a.Datanet, Record: a.Record, Contributor: a.Contributor, Bytes: int64(a.Bytes), Fee: a.Fee.String()})
	}
	for _, s := range r.Scores {
		out.Scores = append(out.Scores, &tollgatev1.Score{Record: s.Record, Contributor: s.Contributor, Weight: s.Weight})
	}
	for _, p := range r.Postings {
		out.Postings = append(out.Postings, &tollgatev1.Posting{Account: p.Account, Kind: p.Kind, Amount: p.Amount.String(), Memo: p.Memo})
	}
	out.AgentManifest, out.AttributionManifest, out.Schema = r.AgentManifest, r.AttributionManifest, uint32(r.SchemaVersion())
	for _, g := range r.Generations {
		pg := &tollgatev1.Generation{Model: g.Model, ModelHash: g.ModelHash, Backend: g.Backend, Seed: g.Seed, Temperature: g.Temperature,
			MaxTokens: uint32(max(g.MaxTokens, 0)), Stop: g.Stop, Prompt: g.Prompt, TokensIn: uint32(max(g.TokensIn, 0)), TokensOut: uint32(max(g.TokensOut, 0)),
			Finish: g.Finish, Text: g.Text, Cost: g.Cost.String()}
		for _, s := range g.Shares {
			pg.Shares = append(pg.Shares, &tollgatev1.TokenShare{Datanet: s.Datanet, Record: s.Record, Contributor: s.Contributor, Tokens: s.Tokens.RatString()})
		}
		out.Generations = append(out.Generations, pg)
	}
	return out
}

// connectCodes maps each abi code to the transport code a generic client
// understands; the exact abi code travels in the CodeHeader metadata.
var connectCodes = map[abi.Code]connect.Code{
	abi.CodeBadRequest:         connect.CodeInvalidArgument,
	abi.CodeInputTooLarge:      connect.CodeInvalidArgument,
	abi.CodeNotFound:           connect.CodeNotFound,
	abi.CodeGrantDenied:        connect.CodePermissionDenied,
	abi.CodeInsufficientCredit: connect.CodeFailedPrecondition,
	abi.CodeBadSignature:       connect.CodeUnauthenticated,
	abi.CodeHashMismatch:       connect.CodeDataLoss,
	abi.CodeAlreadyExists:      connect.CodeAlreadyExists,
	abi.CodeTimeout:            connect.CodeDeadlineExceeded,
	chain.CodeChain:            connect.CodeUnavailable,
	abi.CodeUnavailable:        connect.CodeUnavailable,
	abi.CodeInternal:           connect.CodeInternal,
	ledger.CodeRequestConflict: connect.CodeAlreadyExists,
	rules.CodePriceExceeded:    connect.CodeFailedPrecondition,
	rules.CodeBelowMinPrice:    connect.CodeFailedPrecondition,
	registry.CodeReservedName:  connect.CodePermissionDenied,
	ledger.CodeEpochEmpty:      connect.CodeFailedPrecondition,
	ledger.CodeEpochClosed:     connect.CodeAborted,
	settle.CodeNotSettler:      connect.CodeFailedPrecondition,
	abi.CodeCanceled:           connect.CodeCanceled,
	abi.CodeDeadline:           connect.CodeDeadlineExceeded,
	ledger.CodeInsolvent:       connect.CodeFailedPrecondition,
	abi.CodeBadIdentifier:      connect.CodeInvalidArgument,
	abi.CodeModelFailed:        connect.CodeUnavailable,
	abi.CodeInvalidPlugin:      connect.CodeFailedPrecondition,
	abi.CodeNetworkDenied:      connect.CodeAborted,
	abi.CodeFileDenied:         connect.CodeAborted,
	ledger.CodeUnbalanced:      connect.CodeInternal,
	CodeTooLarge:               connect.CodeResourceExhausted,
	CodeStreamTooLong:          connect.CodeDeadlineExceeded,
	CodeRateLimited:            connect.CodeResourceExhausted,
	CodeBusy:                   connect.CodeResourceExhausted,
	auth.CodeUnknownNonce:      connect.CodeUnauthenticated,
	auth.CodeNonceReused:       connect.CodeUnauthenticated,
	auth.CodeWrongDomain:       connect.CodeUnauthenticated,
	auth.CodeWrongChain:        connect.CodeUnauthenticated,
	auth.CodeWrongAddress:      connect.CodeUnauthenticated,
	auth.CodeExpired:           connect.CodeUnauthenticated,
	auth.CodeTokenExpired:      connect.CodeUnauthenticated,
	siwe.CodeMalformed:         connect.CodeInvalidArgument,
	settle.CodeFaucetClosed:    connect.CodeFailedPrecondition,
	settle.CodeFaucetBudget:    connect.CodeResourceExhausted,
	registry.CodeWriteDenied:   connect.CodePermissionDenied,
	registry.CodeWriteQuota:    connect.CodeResourceExhausted,
	CodeBadHost:                connect.CodeInvalidArgument,
	// A plugin past one of its limits: the input asked for more than the
	// plugin may use.
	abi.CodeMemoryLimit:    connect.CodeResourceExhausted,
	abi.CodeOutputTooLarge: connect.CodeResourceExhausted,
	abi.CodeHostCallLimit:  connect.CodeResourceExhausted,
	abi.CodeRecordLimit:    connect.CodeResourceExhausted,
	abi.CodeStackOverflow:  connect.CodeResourceExhausted,
	// A plugin that failed on this input: the call is abandoned, and a
	// retry with other input may succeed.
	abi.CodeBadPointer:      connect.CodeAborted,
	abi.CodeBadHostCall:     connect.CodeAborted,
	abi.CodeTrap:            connect.CodeAborted,
	abi.CodeExit:            connect.CodeAborted,
	abi.CodePluginError:     connect.CodeAborted,
	abi.CodeBadPluginOutput: connect.CodeAborted,
	abi.CodeBadAttribution:  connect.CodeAborted,
	// Another writer got there first: the operation may be retried.
	ledger.CodeCursorMoved:      connect.CodeAborted,
	chain.CodeSuperseded:        connect.CodeAborted,
	ledger.CodeEmptyTree:        connect.CodeFailedPrecondition,
	chain.CodeUnfunded:          connect.CodeFailedPrecondition,
	keys.CodeBadPassphrase:      connect.CodeUnauthenticated,
	keys.CodeNoPassphrase:       connect.CodeInvalidArgument,
	keys.CodeBadKeyFile:         connect.CodeInvalidArgument,
	ledger.CodeAmbiguous:        connect.CodeInvalidArgument,
	settle.CodeNothingToClaim:   connect.CodeFailedPrecondition,
	settle.CodeClaimRateLimited: connect.CodeResourceExhausted,
}

// MaxErrorBytes caps an error message sent to a client: errors never echo
// a request back at its sender's expense (or anyone's).
const MaxErrorBytes = 512

// handlerOptions are every service's options, readMax bytes the largest
// request it reads. Every service maps its handlers' errors in one place:
// a handler returns the domain error and errorInterceptor gives it its
// Connect code, message and Tollgate-Code header. Responses are
// compressed only from CompressMinBytes: gzip costs more CPU, on both
// ends, than a receipt's few kilobytes cost to send.
func handlerOptions(readMax int64) []connect.HandlerOption {
	return []connect.HandlerOption{
		connect.WithReadMaxBytes(int(readMax)),
		connect.WithCodec(strictJSON{"json"}), connect.WithCodec(strictJSON{"json; charset=utf-8"}),
		connect.WithCompressMinBytes(CompressMinBytes),
		connect.WithInterceptors(errorInterceptor{}),
	}
}

// errorInterceptor maps the error any handler returns, unary or streaming,
// to its Connect error with connectErr, so handlers return domain errors
// as they are.
type errorInterceptor struct{}

var _ connect.Interceptor = errorInterceptor{}

func (errorInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		res, err := next(ctx, req)
		if err != nil {
			return nil, mapErr(err)
		}
		return res, nil
	}
}

func (errorInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (errorInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		if err := next(ctx, conn); err != nil {
			return mapErr(err)
		}
		return nil
	}
}

// mapErr maps err once: an error already mapped (it carries the
// Tollgate-Code header) passes as it is.
func mapErr(err error) error {
	var ce *connect.Error
	if errors.As(err, &ce) && ce.Meta().Get(CodeHeader) != "" {
		return err
	}
	return connectErr(err)
}

func connectErr(err error) error {
	code := abi.CodeOf(err)
	cc, ok := connectCodes[code]
	if !ok {
		// Only a code a plugin made up gets here (every code the module
		// defines is mapped): the plugin failed, and a retry with other
		// input may succeed.
		cc = connect.CodeAborted
	}
	msg := errorMessage(err, code, cc)
	if len(msg) > MaxErrorBytes {
		msg = strings.ToValidUTF8(msg[:MaxErrorBytes], "") + "…"
	}
	ce := connect.NewError(cc, errors.New(msg))
	ce.Meta().Set(CodeHeader, string(code))
	return ce
}

// errorMessage is the message a client reads after the connect code, which
// Connect prints first: an *abi.Error's code is left out where it says the
// same (no "not_found: not_found: ..."), an error with no message says what
// went wrong rather than repeating its code, and where the code has an
// obvious next step the message ends with it.
func errorMessage(err error, code abi.Code, cc connect.Code) string {
	ae, ok := err.(*abi.Error)
	if !ok {
		return err.Error()
	}
	msg := ae.Message
	if msg == "" {
		msg = codeMeaning[code]
		if msg == "" {
			msg = "the request failed with " + strings.ReplaceAll(string(code), "_", " ")
		}
	}
	if next := nextStep[code]; next != "" && !strings.Contains(msg, next) {
		msg += "; " + next
	}
	if string(code) != cc.String() {
		msg = string(code) + ": " + msg
	}
	return msg
}

// codeMeaning says what went wrong, for an error that carries only a code.
var codeMeaning = map[abi.Code]string{
	abi.CodeNotFound:           "the plugin, datanet, record, receipt or account asked for does not exist on this node",
	abi.CodeBadRequest:         "the request is malformed",
	abi.CodeGrantDenied:        "the signed-in account may not do this",
	abi.CodeInsufficientCredit: "the account's credit does not cover the call",
	abi.CodeBadSignature:       "a signature or bearer token did not verify",
	abi.CodeUnavailable:        "the node is not serving this now (shutting down, or not configured for it)",
	abi.CodeInternal:           "the node failed (a bug or an I/O error); its log says more",
	abi.CodeTrap:               "the plugin trapped",
	abi.CodeTimeout:            "the plugin ran past its time limit",
}

// nextStep is what a client can do about an error of a code, said once at
// the end of its message.
var nextStep = map[abi.Code]string{
	abi.CodeNotFound:            "check the name or id (ListPlugins, ListReceipts and GetDatanet list what exists)",
	abi.CodeInsufficientCredit:  "deposit tokens to the settlement contract (tollgate deposit) and wait until GetBalance shows them as balance",
	auth.CodeTokenExpired:       "sign in again for a new token",
	rules.CodePriceExceeded:     "read the price with GetPlugin and call again with a max_price that covers it",
	rules.CodeBelowMinPrice:     "publish a version priced at least at the node's floor",
	ledger.CodeAmbiguous:        "give more digits of the id",
	settle.CodeNothingToClaim:   "earnings become claimable when an epoch that pays them closes and its root is posted",
	settle.CodeClaimRateLimited: "try again later",
}

// strictJSON is Connect's JSON codec refusing unknown fields: a request
// that names a field the API does not have is a mistake to report, not to
// ignore (a misspelt "requestId" would otherwise charge a retry twice).
type strictJSON struct{ name string }

func (c strictJSON) Name() string { return c.name }

func (strictJSON) Marshal(m any) ([]byte, error) {
	msg, ok := m.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("json: %T is not a proto.Message", m)
	}
	return protojson.Marshal(msg)
}

func (strictJSON) Unmarshal(b []byte, m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return fmt.Errorf("json: %T is not a proto.Message", m)
	}
	if len(b) == 0 {
		return errors.New("zero-length payload is not a valid JSON object")
	}
	return protojson.UnmarshalOptions{}.Unmarshal(b, msg)
}
