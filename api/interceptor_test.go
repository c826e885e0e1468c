package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"connectrpc.com/connect"

	"github.com/tollgate-dev/tollgate/abi"
	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/gen/tollgate/v1/tollgatev1connect"
)

// errPlain is an error no code was given to: only the interceptor can
// turn it into a Connect error with a Tollgate-Code header.
var errPlain = errors.New("disk on fire")

type failingLedger struct {
	tollgatev1connect.UnimplementedLedgerServiceHandler
}

func (failingLedger) GetEpoch(context.Context, *connect.Request[tollgatev1.GetEpochRequest]) (*connect.Response[tollgatev1.GetEpochResponse], error) {
	return nil, errPlain
}

func (failingLedger) ExportEpoch(context.Context, *connect.Request[tollgatev1.ExportEpochRequest], *connect.ServerStream[tollgatev1.ExportEpochResponse]) error {
	return errPlain
}

type failingDatanet struct {
	tollgatev1connect.UnimplementedDatanetServiceHandler
}

func (failingDatanet) ImportRecords(context.Context, *connect.ClientStream[tollgatev1.ImportRecordsRequest]) (*connect.Response[tollgatev1.ImportRecordsResponse], error) {
	return nil, errPlain
}

// TestUnmappedHandlerErrorReachesClientMapped checks that the options
// every service is built with map a handler's plain error, unary and
// streaming both ways, to a Connect error with the Tollgate-Code header.
func TestUnmappedHandlerErrorReachesClientMapped(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle(tollgatev1connect.NewLedgerServiceHandler(failingLedger{}, handlerOptions(1<<20)...))
	mux.Handle(tollgatev1connect.NewDatanetServiceHandler(failingDatanet{}, handlerOptions(1<<20)...))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ctx := context.Background()
	lc := tollgatev1connect.NewLedgerServiceClient(srv.Client(), srv.URL)
	dc := tollgatev1connect.NewDatanetServiceClient(srv.Client(), srv.URL)
	want := connectErr(errPlain).(*connect.Error)

	calls := map[string]func() error{
		"unary GetEpoch": func() error {
			_, err := lc.GetEpoch(ctx, connect.NewRequest(&tollgatev1.GetEpochRequest{}))
			return err
		},
		"server stream ExportEpoch": func() error {
			s, err := lc.ExportEpoch(ctx, connect.NewRequest(&tollgatev1.ExportEpochRequest{}))
			if err != nil {
				return err
			}
			for s.Receive() {
			}
			return s.Err()
		},
		"client stream ImportRecords": func() error {
			s := dc.ImportRecords(ctx)
			_ = s.Send(&tollgatev1.ImportRecordsRequest{})
			_, err := s.CloseAndReceive()
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			var ce *connect.Error
			if err := call(); !errors.As(err, &ce) {
				t.Fatalf("got %v, want a connect error", err)
			}
			if ce.Code() != want.Code() || ce.Message() != want.Message() {
				t.Errorf("got %v %q, want %v %q", ce.Code(), ce.Message(), want.Code(), want.Message())
			}
			if got := ce.Meta().Get(CodeHeader); got != string(abi.CodeOf(errPlain)) || got == "" {
				t.Errorf("%s = %q, want %q", CodeHeader, got, abi.CodeOf(errPlain))
			}
		})
	}
}
