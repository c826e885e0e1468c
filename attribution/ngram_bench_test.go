package attribution_test

import (
	"context"
	"os"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/attribution"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/runtime"
)

// BenchmarkNgram runs each build of the ngram rule on an answer the size
// of the example agent's (three records read, about 330 bytes out), as an
// invoke runs it: a fresh instance per call, corpus_match over the reads.
//
//	go test ./attribution -run '^$' -bench Ngram
func BenchmarkNgram(b *testing.B) {
	for build, path := range ngramBuilds {
		b.Run(build, func(b *testing.B) {
			ctx := context.Background()
			reg, err := registry.Open(b.TempDir(), registry.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer reg.Close()
			alice, _ := crypto.GenerateKey()
			contents := []string{
				"The sky is blue because air molecules scatter the short blue wavelengths of sunlight far more than the long red ones, so blue light reaches us from every direction.",
				"Sunsets are red and orange because at a low sun the light crosses much more air, and most of the blue has been scattered away before it reaches the eye.",
				"Rayleigh scattering grows as the inverse fourth power of the wavelength, which is why violet and blue scatter most; our eyes are less sensitive to violet.",
			}
			var accesses []abi.Access
			for _, c := range contents {
				accesses = append(accesses, abi.Access{Datanet: "facts", Record: id(c), Contributor: registry.Address(alice), Bytes: len(c), Content: c})
			}
			wasm, err := os.ReadFile(path)
			if err != nil {
				b.Fatal(err)
			}
			p := &registry.Plugin{Manifest: registry.Manifest{Name: "builtin/ngram", Version: "1.0.0", Kind: abi.KindAttribution, WasmSHA256: path, Methods: ngramMethods}, Wasm: wasm}
			rt, _ := runtime.New(runtime.Config{})
			defer rt.Close(ctx)
			r := attribution.NewRunner(rt)
			defer r.Close(ctx)
			req := abi.AttributeRequest{
				Output:   contents[0] + " " + contents[2][:120],
				Accesses: accesses,
				Datanets: []string{"facts"},
			}
			if _, err := r.Run(ctx, p, req, reg, []string{"facts"}); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := r.Run(ctx, p, req, reg, []string{"facts"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
