package host_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"github.com/ethereum/go-ethereum/common/hexutil"

	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/gen/tollgate/v1/tollgatev1connect"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/runtime"
	"github.com/tollgate-dev/tollgate/verify"
)

// liar serves a node's API, except for the methods it overrides, where it
// changes what the node says.
type liar struct {
	tollgatev1connect.UnimplementedDatanetServiceHandler
	tollgatev1connect.UnimplementedLedgerServiceHandler
	datanets tollgatev1connect.DatanetServiceClient
	ledger   tollgatev1connect.LedgerServiceClient
	record   func(*tollgatev1.Record)
	output   func([]byte) []byte
	datanet  func(*tollgatev1.Datanet)
}

func (l *liar) GetDatanet(ctx context.Context, req *connect.Request[tollgatev1.GetDatanetRequest]) (*connect.Response[tollgatev1.GetDatanetResponse], error) {
	res, err := l.datanets.GetDatanet(ctx, connect.NewRequest(req.Msg))
	if err == nil && l.datanet != nil {
		l.datanet(res.Msg.Datanet)
	}
	return res, err
}

func (l *liar) ListRecords(ctx context.Context, req *connect.Request[tollgatev1.ListRecordsRequest]) (*connect.Response[tollgatev1.ListRecordsResponse], error) {
	res, err := l.datanets.ListRecords(ctx, connect.NewRequest(req.Msg))
	if err == nil && l.record != nil && len(res.Msg.Records) > 0 {
		l.record(res.Msg.Records[0])
	}
	return res, err
}

func (l *liar) ExportEpoch(ctx context.Context, req *connect.Request[tollgatev1.ExportEpochRequest], out *connect.ServerStream[tollgatev1.ExportEpochResponse]) error {
	in, err := l.ledger.ExportEpoch(ctx, connect.NewRequest(req.Msg))
	if err != nil {
		return err
	}
	defer in.Close()
	first := true
	for in.Receive() {
		m := in.Msg()
		if first && l.output != nil {
			m.Output = l.output(m.Output)
		}
		first = false
		if err := out.Send(m); err != nil {
			return err
		}
	}
	return in.Err()
}

// serveLiar serves l at a new address, passing every other request to the
// node at node.
func serveLiar(t *testing.T, node string, l *liar) string {
	t.Helper()
	l.datanets = tollgatev1connect.NewDatanetServiceClient(http.DefaultClient, node)
	l.ledger = tollgatev1connect.NewLedgerServiceClient(http.DefaultClient, node)
	u, _ := url.Parse(node)
	mux := http.NewServeMux()
	mux.Handle("/", httputil.NewSingleHostReverseProxy(u))
	path, dh := tollgatev1connect.NewDatanetServiceHandler(l)
	_, lh := tollgatev1connect.NewLedgerServiceHandler(l)
	mux.Handle(path+"ListRecords", dh)
	mux.Handle(path+"GetDatanet", dh)
	mux.Handle("/tollgate.v1.LedgerService/ExportEpoch", lh)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// A third party verifies an epoch through a node's public API alone: the
// receipts and outputs exported, the plugins by hash, and the records the
// receipts read, whose signatures and version roots it checks itself. A
// node that changes an output or a record is caught.
func TestVerifyThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, tok := e.fund(t, 100_000)
	for _, q := range []string{"Why is the sky blue?", "What do bees do?"} {
		if status, _, out := e.post(t, "AgentService/Invoke", tok, map[string]any{"agent": "acme/qa@1.0.0", "inputText": q}); status != 200 {
			t.Fatalf("invoke: %d %v", status, out)
		}
	}
	epoch, err := e.s.Settle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := runtime.New(runtime.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	check := func(server string, chain verify.RootReader) (*verify.Verification, error) {
		data, err := verify.NewRemoteData(nil, server, "", e.reg.Domain())
		if err != nil {
			t.Fatal(err)
		}
		defer data.Close()
		if chain == nil {
			chain = verify.RemoteChain{Data: data}
		}
		v, err := verify.New(verify.Config{Data: data, Runtime: rt, Chain: chain})
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close(ctx)
		return v.VerifyEpoch(ctx, epoch.N)
	}
	for name, chain := range map[string]verify.RootReader{"roots as the node reports them": nil, "roots from the chain": e.chain} {
		v, err := check(e.url, chain)
		if err != nil || !v.OK() || v.Receipts != 2 || v.OnChain != epoch.Root {
			t.Fatalf("%s: the honest epoch did not verify: %+v %v", name, v, err)
		}
	}

	// A node that changes an output after the fact.
	v, err := check(serveLiar(t, e.url, &liar{output: func(b []byte) []byte { return append([]byte("Not what it said. "), b...) }}), e.chain)
	if err != nil {
		t.Fatal(err)
	}
	if v.OK() || !strings.Contains(strings.Join(v.Problems, "\n"), "hash") {
		t.Fatalf("a changed output verified: %+v", v)
	}
	// A node that changes a record's content: its contributor's signature
	// no longer holds.
	_, err = check(serveLiar(t, e.url, &liar{record: func(r *tollgatev1.Record) { r.Content += " Or so they say." }}), e.chain)
	if err == nil || !strings.Contains(err.Error(), "bad_signature") {
		t.Fatalf("a changed record: %v", err)
	}
	// A node that reports a higher read price than its owner signed, to
	// match receipts that charged it: the owner's creation signature no
	// longer holds.
	_, err = check(serveLiar(t, e.url, &liar{datanet: func(d *tollgatev1.Datanet) { d.PricePerRead = "700" }}), e.chain)
	if err == nil || !strings.Contains(err.Error(), "bad_signature") {
		t.Fatalf("a changed read price: %v", err)
	}
	// A node that swaps a record for another, validly signed by a key of
	// its own: the version root the receipts sign no longer matches.
	other := key(t)
	v, err = check(serveLiar(t, e.url, &liar{record: func(r *tollgatev1.Record) {
		r.Content = "Forged fact."
		sig, _ := registry.Sign(other, e.reg.Domain().RecordDigest(r.Datanet, r.Content))
		r.Contributor, r.Signature = registry.Address(other), hexutil.Encode(sig)
	}}), e.chain)
	if err != nil {
		t.Fatal(err)
	}
	if v.OK() || !strings.Contains(strings.Join(v.Problems, "\n"), "the receipt signs") {
		t.Fatalf("a swapped record verified: %+v", v)
	}
}
