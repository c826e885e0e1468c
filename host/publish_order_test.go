package host_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/examples"
	"github.com/tollgate-dev/tollgate/registry"
)

// Work follows authorship: a publication that could not be stored is
// refused before its module is compiled or instantiated. Each module here
// would fail the runtime's check with a code of its own (a module that is
// not Wasm fails to compile; one importing env.memcpy fails to
// instantiate, naming it), so a refusal with the authorship code proves
// the runtime was never reached; the last case shows it is reached once
// authorship holds.
func TestPublishChecksAuthorshipBeforeCompiling(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, tok := e.fund(t, 1000)
	dev, stranger := key(t), key(t)
	if _, err := e.h.Publish(ctx, dev, registry.Manifest{Name: "dev/owned", Version: "1.0.0", Kind: abi.KindAgent, Datanets: []string{"facts"}}, examples.QA); err != nil {
		t.Fatal(err)
	}
	notWasm := []byte("this is not a wasm module")
	// publish signs m for wasm with signer, as publisher unless m names one.
	publish := func(m registry.Manifest, wasm []byte, signer *ecdsa.PrivateKey, sig []byte) reply {
		sum := sha256.Sum256(wasm)
		if m.WasmSHA256 == "" {
			m.WasmSHA256 = hex.EncodeToString(sum[:])
		}
		if m.Publisher == "" {
			m.Publisher = registry.Address(signer)
		}
		if sig == nil {
			sig, _ = registry.Sign(signer, e.reg.Domain().ManifestDigest(m))
		}
		mj, _ := json.Marshal(m)
		return e.postTo(t, e.url, "RegistryService/PublishPlugin", tok, map[string]any{"manifestJson": string(mj), "signature": hexutil.Encode(sig), "wasm": wasm})
	}
	agent := func(name, version string) registry.Manifest {
		return registry.Manifest{Name: name, Version: version, Kind: abi.KindAgent, Datanets: []string{"facts"}}
	}
	qaSum := sha256.Sum256(examples.QA)
	forged := agent("dev/new", "1.0.0")
	forged.Publisher = registry.Address(dev) // signed by the stranger below
	mismatched := agent("dev/new", "1.0.0")
	mismatched.WasmSHA256 = hex.EncodeToString(qaSum[:])
	for _, wasm := range []struct {
		name  string
		bytes []byte
	}{{"not wasm", notWasm}, {"imports env.memcpy", importsMemcpy}} {
		cases := []struct {
			name   string
			m      registry.Manifest
			signer *ecdsa.PrivateKey
			sig    []byte
			want   abi.Code
		}{
			{"forged signature: the publisher named, a stranger's key", forged, stranger, nil, abi.CodeBadSignature},
			{"signature of garbage", agent("dev/new", "1.0.0"), dev, make([]byte, 65), abi.CodeBadSignature},
			{"module not the manifest's hash", mismatched, dev, nil, abi.CodeHashMismatch},
			{"another's name", agent("dev/owned", "2.0.0"), stranger, nil, abi.CodeBadSignature},
			{"a version already published", agent("dev/owned", "1.0.0"), dev, nil, abi.CodeAlreadyExists},
			{"an invalid manifest", agent("Dev/New", "1.0.0"), dev, nil, abi.CodeBadRequest},
		}
		for _, c := range cases {
			t.Run(wasm.name+"/"+c.name, func(t *testing.T) {
				r := publish(c.m, wasm.bytes, c.signer, c.sig)
				if abi.Code(r.code) != c.want {
					t.Fatalf("got %+v, want %s before any compilation", r, c.want)
				}
			})
		}
	}
	// Authorship holds: now the runtime checks the module, and refuses it.
	if r := publish(agent("dev/new", "1.0.0"), importsMemcpy, dev, nil); abi.Code(r.code) != abi.CodeInvalidPlugin || !strings.Contains(r.out["message"].(string), "env.memcpy") {
		t.Fatalf("a well-signed module importing env.memcpy: %+v", r)
	}
	if r := publish(agent("dev/new", "1.0.0"), notWasm, dev, nil); abi.Code(r.code) != abi.CodeInvalidPlugin {
		t.Fatalf("a well-signed module that is not Wasm: %+v", r)
	}
	if _, err := e.reg.Load(ctx, "dev/new@latest"); abi.CodeOf(err) != abi.CodeNotFound {
		t.Fatalf("a refused module was published: %v", err)
	}
}
