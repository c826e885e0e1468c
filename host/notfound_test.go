package host_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/api"

	"connectrpc.com/connect"

	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/gen/tollgate/v1/tollgatev1connect"
)

// TestUnknownIDSaysWhatWasNotFound asks a real node for a receipt and a
// plugin it does not have, through the Connect client the CLI uses, and
// checks the error a person reads names what is missing and says the code
// once.
func TestUnknownIDSaysWhatWasNotFound(t *testing.T) {
	e := newEnv(t)
	_, tok := e.fund(t, 0)
	ctx := context.Background()
	auth := connect.WithInterceptors(connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			req.Header().Set("Authorization", "Bearer "+tok)
			return next(ctx, req)
		}
	}))
	led := tollgatev1connect.NewLedgerServiceClient(http.DefaultClient, e.url, auth)
	reg := tollgatev1connect.NewRegistryServiceClient(http.DefaultClient, e.url, auth)
	for _, c := range []struct {
		name string
		call func() error
		want string
	}{
		{"receipt", func() error {
			_, err := led.GetReceipt(ctx, connect.NewRequest(&tollgatev1.GetReceiptRequest{Id: "rc-missing-42"}))
			return err
		}, `no receipt "rc-missing-42"`},
		{"plugin", func() error {
			_, err := reg.GetPlugin(ctx, connect.NewRequest(&tollgatev1.GetPluginRequest{Ref: "acme/missing@1.0.0"}))
			return err
		}, "no plugin acme/missing@1.0.0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			var ce *connect.Error
			if !errors.As(err, &ce) || ce.Code() != connect.CodeNotFound {
				t.Fatalf("got %v, want a not_found connect error", err)
			}
			if got := ce.Meta().Get(api.CodeHeader); got != "not_found" {
				t.Errorf("%s = %q, want not_found", api.CodeHeader, got)
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) {
				t.Errorf("error %q does not say %q", msg, c.want)
			}
			if strings.Count(msg, "not_found") != 1 {
				t.Errorf("error %q says its code more than once", msg)
			}
		})
	}
}
