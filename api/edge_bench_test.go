package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tollgate-dev/tollgate/api/auth"

	"connectrpc.com/connect"

	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/gen/tollgate/v1/tollgatev1connect"
)

type noopAgent struct{}

func (noopAgent) Invoke(context.Context, *connect.Request[tollgatev1.InvokeRequest]) (*connect.Response[tollgatev1.InvokeResponse], error) {
	return connect.NewResponse(&tollgatev1.InvokeResponse{}), nil
}

// BenchmarkEdge measures what the edge (authentication from headers, the
// body cap, per-account rate and in-flight accounting) adds to a call: the
// same no-op Invoke handler served bare and behind the edge, in one run.
//
//	go test ./host -run '^$' -bench Edge -cpu 2
func BenchmarkEdge(b *testing.B) {
	tokens, err := auth.OpenTokens("")
	if err != nil {
		b.Fatal(err)
	}
	tok, err := tokens.Issue(auth.Principal{Account: "0x1111111111111111111111111111111111111111"})
	if err != nil {
		b.Fatal(err)
	}
	path, handler := tollgatev1connect.NewAgentServiceHandler(noopAgent{})
	limits := DefaultLimits()
	limits.Rate = 1e9 // account the rate without refusing
	limits.Burst = 1 << 30
	limits.MaxInFlight = 1 << 20
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"bare", handler}, {"edge", newEdge(tokens, limits).api(handler)}} {
		b.Run(c.name, func(b *testing.B) {
			mux := http.NewServeMux()
			mux.Handle(path, c.h)
			srv := httptest.NewServer(mux)
			defer srv.Close()
			client := tollgatev1connect.NewAgentServiceClient(srv.Client(), srv.URL)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := connect.NewRequest(&tollgatev1.InvokeRequest{Agent: "acme/qa@1.0.0", InputText: "Why is the sky blue?"})
					req.Header().Set("Authorization", "Bearer "+tok)
					if _, err := client.Invoke(context.Background(), req); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
