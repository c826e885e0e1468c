package host_test

import (
	"context"
	"crypto/ecdsa"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/api"
	"github.com/tollgate-dev/tollgate/settle"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/api/auth"
	"github.com/tollgate-dev/tollgate/internal/siwe"
	"github.com/tollgate-dev/tollgate/registry"
)

// serveSignIn serves the env's host with sign-in and a faucet on a new
// listener, and returns its URL and the sign-in it uses.
func (e *env) serveSignIn(t *testing.T, settlers ...*settle.Settler) (string, *auth.SignIn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &auth.SignIn{Domain: ln.Addr().String(), URI: "http://" + ln.Addr().String(), ChainID: e.chain.ChainID().Uint64(),
		Operator: registry.Address(e.operator), Tokens: e.tokens, TokenTTL: time.Hour}
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	l := api.DefaultLimits()
	cfg := api.Config{Limits: l, SignIn: s}
	if len(settlers) > 0 {
		cfg.Settler = settlers[0]
	}
	go api.Serve(ctx, api.NewServer(e.handler(t, cfg), l), ln)
	return "http://" + ln.Addr().String(), s
}

// signIn runs the whole exchange for k over JSON, as a browser would.
func signIn(t *testing.T, e *env, url string, k *ecdsa.PrivateKey) (string, int, string) {
	t.Helper()
	ch := e.postTo(t, url, "AuthService/Challenge", "", map[string]any{"address": registry.Address(k)})
	msg := ch.out["message"].(string)
	sig, err := siwe.Sign(k, msg)
	if err != nil {
		t.Fatal(err)
	}
	res := e.postTo(t, url, "AuthService/SignIn", "", map[string]any{"message": msg, "signature": hexutil.Encode(sig)})
	tok, _ := res.out["token"].(string)
	return tok, res.status, res.code
}

type reply struct {
	status int
	code   string
	out    map[string]any
}

func (e *env) postTo(t *testing.T, url, method, token string, body any) reply {
	t.Helper()
	saved := e.url
	e.url = url
	defer func() { e.url = saved }()
	st, hdr, out := e.post(t, method, token, body)
	return reply{st, hdr.Get(api.CodeHeader), out}
}

// Sign-In with Ethereum: a signed challenge gets a token for its address
// (the operator's role for the operator); every way of getting it wrong is
// refused with its own code; the token expires.
func TestSignInWithEthereum(t *testing.T) {
	e := newEnv(t)
	url, s := e.serveSignIn(t)
	caller := key(t)
	tok, status, code := signIn(t, e, url, caller)
	if status != 200 || tok == "" {
		t.Fatalf("sign in: %d %s", status, code)
	}
	who := e.postTo(t, url, "AuthService/WhoAmI", tok, map[string]any{})
	if who.status != 200 || who.out["account"] != registry.Address(caller) || who.out["operator"] == true {
		t.Fatalf("whoami: %+v", who)
	}
	opTok, _, _ := signIn(t, e, url, e.operator)
	if who := e.postTo(t, url, "AuthService/WhoAmI", opTok, map[string]any{}); who.out["operator"] != true {
		t.Fatalf("the operator signed in without its role: %+v", who)
	}

	// Each refusal: build a challenge, spoil it one way, sign, submit.
	challenge := func(k *ecdsa.PrivateKey) siwe.Message {
		ch := e.postTo(t, url, "AuthService/Challenge", "", map[string]any{"address": registry.Address(k)})
		m, err := siwe.Parse(ch.out["message"].(string))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	submit := func(k *ecdsa.PrivateKey, text string) reply {
		sig, _ := siwe.Sign(k, text)
		return e.postTo(t, url, "AuthService/SignIn", "", map[string]any{"message": text, "signature": hexutil.Encode(sig)})
	}
	used := challenge(caller)
	if r := submit(caller, used.String()); r.status != 200 {
		t.Fatalf("fresh challenge: %+v", r)
	}
	stranger := key(t)
	cases := []struct {
		name string
		run  func() reply
		code abi.Code
	}{
		{"a reused nonce", func() reply { return submit(caller, used.String()) }, auth.CodeNonceReused},
		{"a made-up nonce", func() reply { m := challenge(caller); m.Nonce = "0123456789abcdef"; return submit(caller, m.String()) }, auth.CodeUnknownNonce},
		{"another domain", func() reply { m := challenge(caller); m.Domain = "evil.example"; return submit(caller, m.String()) }, auth.CodeWrongDomain},
		{"another chain", func() reply { m := challenge(caller); m.ChainID = 1; return submit(caller, m.String()) }, auth.CodeWrongChain},
		{"an expired message", func() reply {
			m := challenge(caller)
			m.Expires = time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
			return submit(caller, m.String())
		}, auth.CodeExpired},
		{"a signature by another key", func() reply { return submit(stranger, challenge(caller).String()) }, abi.CodeBadSignature},
		{"another address's challenge", func() reply {
			m := challenge(caller)
			m.Address = challenge(stranger).Address
			return submit(stranger, m.String())
		}, auth.CodeWrongAddress},
		{"a malformed message", func() reply { return submit(caller, "hello") }, siwe.CodeMalformed},
		{"no signature", func() reply {
			return e.postTo(t, url, "AuthService/SignIn", "", map[string]any{"message": challenge(caller).String(), "signature": "0x"})
		}, abi.CodeBadSignature},
	}
	for _, c := range cases {
		if r := c.run(); r.status == 200 || abi.Code(r.code) != c.code {
			t.Errorf("%s: %d %q, want %s", c.name, r.status, r.code, c.code)
		}
	}

	// A token past its expiry is refused.
	s.TokenTTL = time.Second
	short, _, _ := signIn(t, e, url, caller)
	time.Sleep(1100 * time.Millisecond)
	if r := e.postTo(t, url, "AuthService/WhoAmI", short, map[string]any{}); abi.Code(r.code) != auth.CodeTokenExpired {
		t.Fatalf("an expired token: %+v", r)
	}
	if r := e.postTo(t, url, "AuthService/WhoAmI", tok, map[string]any{}); r.status != 200 {
		t.Fatalf("the node stopped serving: %+v", r)
	}
}

// On a development chain a new caller signs in, asks the faucet for credit,
// and invokes, with nothing but the API; the faucet then refuses it for a
// while. A node without a faucet says so.
func TestFaucetGivesANewCallerCredit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	url, _ := e.serveSignIn(t)
	caller := key(t)
	tok, _, _ := signIn(t, e, url, caller)
	if r := e.postTo(t, url, "LedgerService/Faucet", tok, map[string]any{}); abi.Code(r.code) != settle.CodeFaucetClosed {
		t.Fatalf("a node without a faucet dripped: %+v", r)
	}
	withFaucet, err := settle.New(settle.Config{Ledger: e.led, Chain: e.chain, Operator: e.operator,
		Faucet: &settle.Faucet{Amount: big.NewInt(100_000), Gas: big.NewInt(1e16), Every: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	url, _ = e.serveSignIn(t, withFaucet)
	tok, _, _ = signIn(t, e, url, caller)
	if r := e.postTo(t, url, "LedgerService/Faucet", "", map[string]any{}); abi.Code(r.code) != abi.CodeBadSignature {
		t.Fatalf("the faucet without a token: %+v", r)
	}
	r := e.postTo(t, url, "LedgerService/Faucet", tok, map[string]any{})
	if r.status != 200 || r.out["amount"] != "100000" {
		t.Fatalf("faucet: %+v", r)
	}
	if credit, _ := e.led.Balance(ctx, registry.Address(caller)); credit.Int64() != 100_000 {
		t.Fatalf("credit after the faucet: %s", credit)
	}
	if gas, _ := e.node.Client().BalanceAt(ctx, common.HexToAddress(registry.Address(caller)), nil); gas.Cmp(big.NewInt(1e16)) != 0 {
		t.Fatalf("gas after the faucet: %s", gas)
	}
	if r := e.postTo(t, url, "AgentService/Invoke", tok, map[string]any{"agent": "acme/qa@1.0.0", "inputText": "Why is the sky blue?"}); r.status != 200 {
		t.Fatalf("invoke with faucet credit: %+v", r)
	}
	if r := e.postTo(t, url, "LedgerService/Faucet", tok, map[string]any{}); abi.Code(r.code) != settle.CodeFaucetClosed || !strings.Contains(r.out["message"].(string), "again after") {
		t.Fatalf("a second drip at once: %+v", r)
	}
	if err := e.led.Check(ctx); err != nil {
		t.Fatal(err)
	}
}
