package host_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/api"
	"github.com/tollgate-dev/tollgate/settle"

	"connectrpc.com/connect"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/api/auth"
	"github.com/tollgate-dev/tollgate/examples"
	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/gen/tollgate/v1/tollgatev1connect"
	"github.com/tollgate-dev/tollgate/internal/grant"
	"github.com/tollgate-dev/tollgate/internal/siwe"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/runtime"
	"github.com/tollgate-dev/tollgate/verify"
)

// transport is one way a user reaches the API: the generated Connect
// client, or plain JSON over net/http as curl or a browser would send it.
type transport interface {
	unary(ctx context.Context, method, token string, in, out proto.Message) error
	importRecords(ctx context.Context, token string, msgs []*tollgatev1.ImportRecordsRequest) (*tollgatev1.ImportRecordsResponse, error)
}

// apiError is a refusal as either transport reports it: the Connect code
// and the node's own code.
type apiError struct{ connect, code, msg string }

func (e *apiError) Error() string { return e.connect + " " + e.code + ": " + e.msg }

// codeOf returns the node's code of a refusal.
func codeOf(err error) string {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.code
	}
	return ""
}

// generated calls through the generated clients.
type generated struct {
	calls map[string]func(ctx context.Context, token string, in, out proto.Message) error
	dn    tollgatev1connect.DatanetServiceClient
}

func typed[Req, Res any](f func(context.Context, *connect.Request[Req]) (*connect.Response[Res], error)) func(context.Context, string, proto.Message, proto.Message) error {
	return func(ctx context.Context, token string, in, out proto.Message) error {
		req := connect.NewRequest(any(in).(*Req))
		if token != "" {
			req.Header().Set("Authorization", "Bearer "+token)
		}
		res, err := f(ctx, req)
		if err != nil {
			var ce *connect.Error
			if errors.As(err, &ce) {
				return &apiError{ce.Code().String(), ce.Meta().Get(api.CodeHeader), ce.Message()}
			}
			return err
		}
		proto.Merge(out, any(res.Msg).(proto.Message))
		return nil
	}
}

func newGenerated(url string) *generated {
	auth := tollgatev1connect.NewAuthServiceClient(http.DefaultClient, url)
	reg := tollgatev1connect.NewRegistryServiceClient(http.DefaultClient, url)
	dn := tollgatev1connect.NewDatanetServiceClient(http.DefaultClient, url)
	agent := tollgatev1connect.NewAgentServiceClient(http.DefaultClient, url)
	led := tollgatev1connect.NewLedgerServiceClient(http.DefaultClient, url)
	return &generated{dn: dn, calls: map[string]func(context.Context, string, proto.Message, proto.Message) error{
		"AuthService/Challenge":         typed(auth.Challenge),
		"AuthService/SignIn":            typed(auth.SignIn),
		"AuthService/WhoAmI":            typed(auth.WhoAmI),
		"RegistryService/PublishPlugin": typed(reg.PublishPlugin),
		"RegistryService/GetPlugin":     typed(reg.GetPlugin),
		"DatanetService/CreateDatanet":  typed(dn.CreateDatanet),
		"DatanetService/AddRecords":     typed(dn.AddRecords),
		"DatanetService/GetVersion":     typed(dn.GetVersion),
		"DatanetService/ListRecords":    typed(dn.ListRecords),
		"AgentService/Invoke":           typed(agent.Invoke),
		"LedgerService/Faucet":          typed(led.Faucet),
		"LedgerService/GetBalance":      typed(led.GetBalance),
		"LedgerService/GetReceipt":      typed(led.GetReceipt),
		"LedgerService/ListReceipts":    typed(led.ListReceipts),
		"LedgerService/CloseEpoch":      typed(led.CloseEpoch),
		"LedgerService/ListEpochs":      typed(led.ListEpochs),
		"LedgerService/GetProof":        typed(led.GetProof),
		"LedgerService/GetDeployment":   typed(led.GetDeployment),
	}}
}

func (g *generated) unary(ctx context.Context, method, token string, in, out proto.Message) error {
	f, ok := g.calls[method]
	if !ok {
		return fmt.Errorf("no generated call for %s", method)
	}
	return f(ctx, token, in, out)
}

func (g *generated) importRecords(ctx context.Context, token string, msgs []*tollgatev1.ImportRecordsRequest) (*tollgatev1.ImportRecordsResponse, error) {
	s := g.dn.ImportRecords(ctx)
	s.RequestHeader().Set("Authorization", "Bearer "+token)
	for _, m := range msgs {
		if err := s.Send(m); err != nil {
			break // the error, if any, comes with the response
		}
	}
	res, err := s.CloseAndReceive()
	if err != nil {
		var ce *connect.Error
		if errors.As(err, &ce) {
			return nil, &apiError{ce.Code().String(), ce.Meta().Get(api.CodeHeader), ce.Message()}
		}
		return nil, err
	}
	return res.Msg, nil
}

// plainJSON speaks the Connect protocol by hand: JSON bodies for unary
// calls, and for the client stream the protocol's envelopes (a flags byte
// and a big-endian length before each JSON message).
type plainJSON struct{ url string }

func (p plainJSON) unary(ctx context.Context, method, token string, in, out proto.Message) error {
	body, err := protojson.Marshal(in)
	if err != nil {
		return err
	}
	req, _ := http.NewRequestWithContext(ctx, "POST", p.url+"/tollgate.v1."+method, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		var e struct{ Code, Message string }
		json.Unmarshal(b, &e)
		return &apiError{e.Code, res.Header.Get(api.CodeHeader), e.Message}
	}
	return protojson.Unmarshal(b, out)
}

func (p plainJSON) importRecords(ctx context.Context, token string, msgs []*tollgatev1.ImportRecordsRequest) (*tollgatev1.ImportRecordsResponse, error) {
	var body bytes.Buffer
	for _, m := range msgs {
		b, err := protojson.Marshal(m)
		if err != nil {
			return nil, err
		}
		body.WriteByte(0)
		binary.Write(&body, binary.BigEndian, uint32(len(b)))
		body.Write(b)
	}
	req, _ := http.NewRequestWithContext(ctx, "POST", p.url+"/tollgate.v1.DatanetService/ImportRecords", &body)
	req.Header.Set("Content-Type", "application/connect+json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var out *tollgatev1.ImportRecordsResponse
	for {
		var hdr [5]byte
		if _, err := io.ReadFull(res.Body, hdr[:]); err != nil {
			return nil, fmt.Errorf("import: response ended without an end-stream message: %w", err)
		}
		msg := make([]byte, binary.BigEndian.Uint32(hdr[1:]))
		if _, err := io.ReadFull(res.Body, msg); err != nil {
			return nil, err
		}
		if hdr[0]&2 == 0 {
			out = &tollgatev1.ImportRecordsResponse{}
			if err := protojson.Unmarshal(msg, out); err != nil {
				return nil, err
			}
			continue
		}
		var end struct {
			Error *struct{ Code, Message string }
			// Trailers: the node's code travels here in a stream.
			Metadata map[string][]string
		}
		if err := json.Unmarshal(msg, &end); err != nil {
			return nil, err
		}
		if end.Error != nil {
			code := ""
			if v := end.Metadata[api.CodeHeader]; len(v) > 0 {
				code = v[0]
			}
			return nil, &apiError{end.Error.Code, code, end.Error.Message}
		}
		return out, nil
	}
}

// user is one person of the journey: a key and, once signed in, a token.
type user struct {
	key   *ecdsa.PrivateKey
	token string
}

func (u *user) addr() string { return registry.Address(u.key) }

// Every user's whole job against a running node, over the API alone: a
// developer publishes a Go and an AssemblyScript agent; an owner creates
// a datanet; one contributor adds records and another streams 10,000 in
// while calls run; a new caller signs in, gets tokens and gas, deposits
// on-chain and calls both agents; the operator closes the epoch; a
// contributor lists what paid it and claims on-chain; a third party
// verifies the epoch through the API. Each refusal on the way is asserted
// with its code. The journey runs through the generated client and,
// separately, through plain JSON.
func TestEveryUsersJourney(t *testing.T) {
	asWasm, err := os.ReadFile("../examples/agents/qa-as/qa-as.wasm")
	if err != nil && os.Getenv("CI") != "" {
		t.Fatalf("the AssemblyScript agent is missing: .ci/run builds it: %v", err)
	}
	for _, name := range []string{"generated client", "plain JSON"} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			withFaucet, err := settle.New(settle.Config{Ledger: e.led, Chain: e.chain, Operator: e.operator,
				Faucet: &settle.Faucet{Amount: big.NewInt(1_000_000), Gas: big.NewInt(1e16), Every: time.Hour}})
			if err != nil {
				t.Fatal(err)
			}
			url, _ := e.serveSignIn(t, withFaucet)
			var tr transport = plainJSON{url}
			if name == "generated client" {
				tr = newGenerated(url)
			}
			journey(t, e, url, tr, asWasm)
		})
	}
}

func journey(t *testing.T, e *env, url string, tr transport, asWasm []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	domain := e.reg.Domain()
	must := func(step string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	refused := func(step, want string, err error) {
		t.Helper()
		if codeOf(err) != want {
			t.Fatalf("%s: want %s, got %v", step, want, err)
		}
	}
	signIn := func(u *user) {
		t.Helper()
		var ch tollgatev1.ChallengeResponse
		must("challenge", tr.unary(ctx, "AuthService/Challenge", "", &tollgatev1.ChallengeRequest{Address: u.addr()}, &ch))
		sig, _ := siwe.Sign(u.key, ch.GetMessage())
		var res tollgatev1.SignInResponse
		must("sign in", tr.unary(ctx, "AuthService/SignIn", "", &tollgatev1.SignInRequest{Message: ch.GetMessage(), Signature: hexutil.Encode(sig)}, &res))
		u.token = res.GetToken()
		// The same signed message again: its nonce is spent.
		refused("replayed sign-in", string(auth.CodeNonceReused), tr.unary(ctx, "AuthService/SignIn", "", &tollgatev1.SignInRequest{Message: ch.GetMessage(), Signature: hexutil.Encode(sig)}, &res))
	}
	dev, owner, alice, bob, caller, op, stranger := &user{key: key(t)}, &user{key: key(t)}, &user{key: key(t)}, &user{key: key(t)}, &user{key: key(t)}, &user{key: e.operator}, &user{key: key(t)}
	modeler := &user{key: key(t)}
	for _, u := range []*user{dev, owner, alice, bob, caller, op, stranger, modeler} {
		signIn(u)
	}
	var who tollgatev1.WhoAmIResponse
	must("who am i", tr.unary(ctx, "AuthService/WhoAmI", op.token, &tollgatev1.WhoAmIRequest{}, &who))
	if !who.GetOperator() || who.GetAccount() != op.addr() {
		t.Fatalf("the operator signed in as %+v", &who)
	}

	// The owner creates a datanet that takes records from two
	// contributors; the first adds records.
	const dn = "journey/facts"
	writers := []string{alice.addr(), bob.addr()}
	spec := registry.Datanet{Name: dn, Owner: owner.addr(), PricePerRead: "2", Policy: registry.Policy{Write: registry.WriteAllowList, Writers: writers, Models: []string{"journey/lm"}}}
	sig, _ := registry.Sign(owner.key, domain.DatanetDigest(spec))
	create := &tollgatev1.CreateDatanetRequest{Datanet: &tollgatev1.Datanet{Name: dn, Owner: owner.addr(), PricePerRead: "2",
		Policy: &tollgatev1.Policy{Write: registry.WriteAllowList, Writers: writers, Models: []string{"journey/lm"}}}, Signature: hexutil.Encode(sig)}
	must("create datanet", tr.unary(ctx, "DatanetService/CreateDatanet", owner.token, create, &tollgatev1.CreateDatanetResponse{}))
	refused("create it again", string(abi.CodeAlreadyExists), tr.unary(ctx, "DatanetService/CreateDatanet", owner.token, create, &tollgatev1.CreateDatanetResponse{}))
	record := func(u *user, content string) *tollgatev1.NewRecord {
		s, _ := registry.Sign(u.key, domain.RecordDigest(dn, content))
		return &tollgatev1.NewRecord{Contributor: u.addr(), Content: content, Signature: hexutil.Encode(s)}
	}
	facts := []string{
		"The sky is blue because air scatters blue sunlight more than red sunlight.",
		"Water boils at 100 degrees Celsius at sea level.",
		"Bees dance to tell the hive where flowers are.",
	}
	add := &tollgatev1.AddRecordsRequest{Datanet: dn}
	for _, f := range facts {
		add.Records = append(add.Records, record(alice, f))
	}
	var added tollgatev1.AddRecordsResponse
	must("add records", tr.unary(ctx, "DatanetService/AddRecords", alice.token, add, &added))
	forged := record(stranger, "Forged.")
	forged.Contributor = alice.addr()
	refused("a record signed by another key", string(abi.CodeBadSignature), tr.unary(ctx, "DatanetService/AddRecords", stranger.token, &tollgatev1.AddRecordsRequest{Datanet: dn, Records: []*tollgatev1.NewRecord{forged}}, &added))
	refused("a record by a contributor the owner did not list", string(registry.CodeWriteDenied), tr.unary(ctx, "DatanetService/AddRecords", stranger.token, &tollgatev1.AddRecordsRequest{Datanet: dn, Records: []*tollgatev1.NewRecord{record(stranger, "Stranger's fact.")}}, &added))

	// The developer publishes two agents reading it, in Go and in
	// AssemblyScript.
	publish := func(name string, wasm []byte) {
		t.Helper()
		sum := sha256.Sum256(wasm)
		m := registry.Manifest{Name: name, Version: "1.0.0", Kind: abi.KindAgent, Price: "1000", Datanets: []string{dn},
			WasmSHA256: hex.EncodeToString(sum[:]), Publisher: dev.addr(), Limits: &registry.Limits{MaxRecords: 16}}
		s, _ := registry.Sign(dev.key, domain.ManifestDigest(m))
		mj, _ := json.Marshal(m)
		must("publish "+name, tr.unary(ctx, "RegistryService/PublishPlugin", dev.token, &tollgatev1.PublishPluginRequest{ManifestJson: string(mj), Signature: hexutil.Encode(s), Wasm: wasm}, &tollgatev1.PublishPluginResponse{}))
	}
	agents := []string{"journey/qa@1.0.0"}
	publish("journey/qa", examples.QA)

	// A model publisher publishes a model built from the datanet as it is
	// now (its version and root pinned), and the developer an agent that
	// retrieves from the datanet and asks the model.
	var pinned tollgatev1.GetVersionResponse
	must("version to pin", tr.unary(ctx, "DatanetService/GetVersion", "", &tollgatev1.GetVersionRequest{Datanet: dn}, &pinned))
	lm := registry.Manifest{Name: "journey/lm", Version: "1.0.0", Kind: abi.KindModel, Publisher: modeler.addr(),
		Model: &registry.ModelSpec{Backend: registry.BackendInfgram, Tokenizer: registry.TokenizerInfgram, PriceIn: "100", PriceOut: "2000",
			Training: []registry.TrainingData{{Datanet: dn, Version: pinned.GetVersion(), Root: pinned.GetRoot()}}}}
	lmSig, _ := registry.Sign(modeler.key, domain.ManifestDigest(lm))
	lmJSON, _ := json.Marshal(lm)
	must("publish a model", tr.unary(ctx, "RegistryService/PublishPlugin", modeler.token, &tollgatev1.PublishPluginRequest{ManifestJson: string(lmJSON), Signature: hexutil.Encode(lmSig)}, &tollgatev1.PublishPluginResponse{}))
	{
		sum := sha256.Sum256(examples.RAG)
		m := registry.Manifest{Name: "journey/rag", Version: "1.0.0", Kind: abi.KindAgent, Price: "1000", Datanets: []string{dn},
			Models: grant.Models{{Model: "journey/lm@1.0.0", MaxTokens: 16}}, WasmSHA256: hex.EncodeToString(sum[:]), Publisher: dev.addr()}
		s, _ := registry.Sign(dev.key, domain.ManifestDigest(m))
		mj, _ := json.Marshal(m)
		must("publish the rag agent", tr.unary(ctx, "RegistryService/PublishPlugin", dev.token, &tollgatev1.PublishPluginRequest{ManifestJson: string(mj), Signature: hexutil.Encode(s), Wasm: examples.RAG}, &tollgatev1.PublishPluginResponse{}))
	}
	if asWasm != nil {
		publish("journey/qa-as", asWasm)
		agents = append(agents, "journey/qa-as@1.0.0")
	}

	// A new caller gets test tokens and gas in its wallet, and deposits
	// on-chain with its own key.
	var drip tollgatev1.FaucetResponse
	must("faucet", tr.unary(ctx, "LedgerService/Faucet", caller.token, &tollgatev1.FaucetRequest{ToWallet: true}, &drip))
	refused("faucet again", string(settle.CodeFaucetClosed), tr.unary(ctx, "LedgerService/Faucet", caller.token, &tollgatev1.FaucetRequest{ToWallet: true}, &drip))
	if _, err := e.chain.Deposit(ctx, caller.key, caller.addr(), big.NewInt(600_000)); err != nil {
		t.Fatal(err)
	}
	if n, err := withSync(e); err != nil || n != 1 {
		t.Fatalf("credit the deposit: %d, %v", n, err)
	}
	var bal tollgatev1.GetBalanceResponse
	must("balance", tr.unary(ctx, "LedgerService/GetBalance", caller.token, &tollgatev1.GetBalanceRequest{}, &bal))
	if bal.GetBalance() != "600000" {
		t.Fatalf("credit after the deposit: %+v", &bal)
	}
	refused("another account's balance", string(abi.CodeGrantDenied), tr.unary(ctx, "LedgerService/GetBalance", caller.token, &tollgatev1.GetBalanceRequest{Account: alice.addr()}, &bal))

	// The second contributor streams 10,000 records in while calls run.
	var msgs []*tollgatev1.ImportRecordsRequest
	for i := 0; i < 10_000; i += 500 {
		m := &tollgatev1.ImportRecordsRequest{Datanet: dn}
		for j := i; j < i+500; j++ {
			m.Records = append(m.Records, record(bob, fmt.Sprintf("Bulk fact %d: %d squared is %d.", j, j, j*j)))
		}
		msgs = append(msgs, m)
	}
	calls := make(chan error, 1)
	go func() {
		var err error
		for range 5 {
			if err = tr.unary(ctx, "AgentService/Invoke", caller.token, &tollgatev1.InvokeRequest{Agent: agents[0], InputText: "Why is the sky blue?"}, &tollgatev1.InvokeResponse{}); err != nil {
				break
			}
		}
		calls <- err
	}()
	imp, err := tr.importRecords(ctx, bob.token, msgs)
	must("import", err)
	if imp.GetAdded() != 10_000 || imp.GetVersion() != 10_003 {
		t.Fatalf("import: %+v", imp)
	}
	must("calls during the import", <-calls)
	bad := &tollgatev1.ImportRecordsRequest{Datanet: dn, Records: []*tollgatev1.NewRecord{record(bob, "Fine."), {Contributor: bob.addr(), Content: "Unsigned."}}}
	_, err = tr.importRecords(ctx, bob.token, []*tollgatev1.ImportRecordsRequest{bad})
	refused("an unsigned record in an import", string(abi.CodeBadSignature), err)
	_, err = tr.importRecords(ctx, "", msgs[:1])
	refused("an import with no token", string(abi.CodeBadSignature), err)
	var version tollgatev1.GetVersionResponse
	must("get version", tr.unary(ctx, "DatanetService/GetVersion", "", &tollgatev1.GetVersionRequest{Datanet: dn}, &version))
	if version.GetVersion() != 10_003 || version.GetRoot() != imp.GetRoot() {
		t.Fatalf("version after the import: %+v", &version)
	}

	// The caller calls both agents; the receipt says who was paid.
	var receipts []string
	for _, a := range agents {
		var inv tollgatev1.InvokeResponse
		must("invoke "+a, tr.unary(ctx, "AgentService/Invoke", caller.token, &tollgatev1.InvokeRequest{Agent: a, InputText: "Why is the sky blue?"}, &inv))
		if !strings.Contains(inv.GetOutputText(), "scatters blue") {
			t.Fatalf("%s answered %q", a, inv.GetOutputText())
		}
		paid := false
		for _, p := range inv.GetReceipt().GetPostings() {
			paid = paid || p.GetAccount() == alice.addr()
		}
		if !paid {
			t.Fatalf("%s did not pay the contributor it read: %+v", a, inv.GetReceipt().GetPostings())
		}
		receipts = append(receipts, inv.GetReceipt().GetId())
	}
	// The caller asks the rag agent: its receipt pays the records read,
	// the model's publisher and the training record; then the model and
	// the agent through the OpenAI-compatible endpoint.
	var rag tollgatev1.InvokeResponse
	must("invoke the rag agent", tr.unary(ctx, "AgentService/Invoke", caller.token, &tollgatev1.InvokeRequest{Agent: "journey/rag@1.0.0", InputText: "Why is the sky blue?"}, &rag))
	kinds := map[string]bool{}
	for _, p := range rag.GetReceipt().GetPostings() {
		kinds[p.GetKind()+" "+p.GetAccount()] = true
	}
	if !kinds["access "+alice.addr()] || !kinds["training "+alice.addr()] || !kinds["model "+modeler.addr()] || len(rag.GetReceipt().GetGenerations()) != 1 {
		t.Fatalf("the rag agent's receipt pays %v: %s", kinds, protojson.Format(rag.GetReceipt()))
	}
	for _, body := range []string{
		`{"model":"journey/lm@1.0.0","messages":[{"role":"user","content":"Why do bees dance"}],"max_tokens":8}`,
		`{"model":"agent:journey/rag@1.0.0","messages":[{"role":"user","content":"Why is the sky blue?"}]}`,
	} {
		req, _ := http.NewRequest("POST", url+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+caller.token)
		res, err := http.DefaultClient.Do(req)
		must("chat completion", err)
		out, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(out), `"receipt_id"`) {
			t.Fatalf("chat completion %s: %d %s", body, res.StatusCode, out)
		}
	}

	refused("a receipt of the open epoch, to a stranger", string(abi.CodeGrantDenied), tr.unary(ctx, "LedgerService/GetReceipt", stranger.token, &tollgatev1.GetReceiptRequest{Id: receipts[0]}, &tollgatev1.GetReceiptResponse{}))
	must("a receipt of the open epoch, to the contributor it paid", tr.unary(ctx, "LedgerService/GetReceipt", alice.token, &tollgatev1.GetReceiptRequest{Id: receipts[0]}, &tollgatev1.GetReceiptResponse{}))
	refused("another account's receipts", string(abi.CodeGrantDenied), tr.unary(ctx, "LedgerService/ListReceipts", stranger.token, &tollgatev1.ListReceiptsRequest{Account: caller.addr()}, &tollgatev1.ListReceiptsResponse{}))
	refused("records read for free by a stranger", string(abi.CodeGrantDenied), tr.unary(ctx, "DatanetService/ListRecords", stranger.token, &tollgatev1.ListRecordsRequest{Datanet: dn}, &tollgatev1.ListRecordsResponse{}))

	// The operator closes the epoch; nobody else can.
	refused("a caller closes the epoch", string(abi.CodeGrantDenied), tr.unary(ctx, "LedgerService/CloseEpoch", caller.token, &tollgatev1.CloseEpochRequest{}, &tollgatev1.CloseEpochResponse{}))
	var closed tollgatev1.CloseEpochResponse
	must("close epoch", tr.unary(ctx, "LedgerService/CloseEpoch", op.token, &tollgatev1.CloseEpochRequest{}, &closed))
	var epochs tollgatev1.ListEpochsResponse
	must("list epochs", tr.unary(ctx, "LedgerService/ListEpochs", "", &tollgatev1.ListEpochsRequest{}, &epochs))
	if epochs.GetOpen() != 2 || len(epochs.GetEpochs()) != 1 || epochs.GetEpochs()[0].GetRoot() != closed.GetRoot() {
		t.Fatalf("epochs: %+v", &epochs)
	}
	must("a closed epoch's receipt, to anyone", tr.unary(ctx, "LedgerService/GetReceipt", "", &tollgatev1.GetReceiptRequest{Id: receipts[0]}, &tollgatev1.GetReceiptResponse{}))

	// The contributor lists what paid it, and claims on-chain.
	var mine tollgatev1.ListReceiptsResponse
	must("list receipts", tr.unary(ctx, "LedgerService/ListReceipts", alice.token, &tollgatev1.ListReceiptsRequest{}, &mine))
	earned := new(big.Int)
	for _, r := range mine.GetReceipts() {
		v, _ := new(big.Int).SetString(r.GetEarned(), 10)
		earned.Add(earned, v)
	}
	var proof tollgatev1.GetProofResponse
	must("proof", tr.unary(ctx, "LedgerService/GetProof", "", &tollgatev1.GetProofRequest{Account: alice.addr()}, &proof))
	if len(mine.GetReceipts()) < len(agents) || earned.String() != proof.GetCumulative() || !proof.GetPosted() {
		t.Fatalf("the contributor's receipts earn %s, its proof says %s (posted %v)", earned, proof.GetCumulative(), proof.GetPosted())
	}
	must("faucet for gas", tr.unary(ctx, "LedgerService/Faucet", alice.token, &tollgatev1.FaucetRequest{ToWallet: true}, &drip))
	before, _ := e.chain.TokenBalance(ctx, alice.addr())
	cum, _ := new(big.Int).SetString(proof.GetCumulative(), 10)
	if _, err := e.chain.Claim(ctx, alice.key, alice.addr(), cum, proof.GetProof()); err != nil {
		t.Fatalf("claim: %v", err)
	}
	after, _ := e.chain.TokenBalance(ctx, alice.addr())
	if got := new(big.Int).Sub(after, before); got.Cmp(cum) != 0 {
		t.Fatalf("the claim paid %s, want %s", got, cum)
	}

	// A third party verifies the epoch through the public API alone.
	rt, err := runtime.New(runtime.Config{})
	must("runtime", err)
	defer rt.Close(ctx)
	data, err := verify.NewRemoteData(nil, url, "", domain)
	must("remote data", err)
	defer data.Close()
	v, err := verify.New(verify.Config{Data: data, Runtime: rt, Chain: e.chain})
	must("verifier", err)
	defer v.Close(ctx)
	ver, err := v.VerifyEpoch(ctx, closed.GetEpoch())
	if err != nil || !ver.OK() || ver.Receipts != 5+len(agents)+3 {
		t.Fatalf("verification: %+v %v", ver, err)
	}

	// Bad input of every kind is refused with its code, and the node keeps
	// serving.
	for _, c := range []struct {
		name, contentType, body, want string
	}{
		{"malformed JSON", "application/json", `{"agent": `, "invalid_argument"},
		{"unknown field", "application/json", `{"agent": "journey/qa@1.0.0", "inputText": "x", "surprise": 1}`, "invalid_argument"},
		{"unknown field, with a charset", "application/json; charset=utf-8", `{"agent": "journey/qa@1.0.0", "inputText": "x", "surprise": 1}`, "invalid_argument"},
		{"oversized body", "application/json", `{"inputText": "` + strings.Repeat("x", 2<<20) + `"}`, "resource_exhausted"},
	} {
		req, _ := http.NewRequest("POST", url+"/tollgate.v1.AgentService/Invoke", strings.NewReader(c.body))
		req.Header.Set("Content-Type", c.contentType)
		req.Header.Set("Authorization", "Bearer "+caller.token)
		res, err := http.DefaultClient.Do(req)
		must(c.name, err)
		var out struct{ Code string }
		json.NewDecoder(res.Body).Decode(&out)
		res.Body.Close()
		if out.Code != c.want {
			t.Fatalf("%s: code %q, want %s", c.name, out.Code, c.want)
		}
	}
	refused("a token that was never issued", string(abi.CodeBadSignature), tr.unary(ctx, "AgentService/Invoke", "tg_forged", &tollgatev1.InvokeRequest{Agent: agents[0], InputText: "x"}, &tollgatev1.InvokeResponse{}))
	must("still serving", tr.unary(ctx, "AgentService/Invoke", caller.token, &tollgatev1.InvokeRequest{Agent: agents[0], InputText: "What do bees do?"}, &tollgatev1.InvokeResponse{}))
}

// withSync credits deposits as serve's ticker would.
func withSync(e *env) (int, error) { return e.s.SyncDeposits(context.Background()) }
