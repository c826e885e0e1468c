package host_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/examples"
	"github.com/tollgate-dev/tollgate/registry"
)

// importsMemcpy is a valid module that imports env.memcpy, which no host
// provides: it compiles, and could only fail at its first call.
var importsMemcpy = []byte("\x00asm\x01\x00\x00\x00" +
	"\x01\x04\x01\x60\x00\x00" + // type 0: func() -> ()
	"\x02\x0e\x01\x03env\x06memcpy\x00\x00") // import env.memcpy: type 0

// An agent developer publishes over the API with a signed manifest and the
// module; callers invoke it; anyone fetches the manifest and the module by
// hash; the publisher yanks it. A module the host cannot run is refused at
// publication, naming what it imports.
func TestPublishPluginOverTheAPI(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, tok := e.fund(t, 100_000)
	dev := key(t)
	publish := func(m registry.Manifest, wasm []byte, token string) reply {
		sum := sha256.Sum256(wasm)
		m.WasmSHA256, m.Publisher = hex.EncodeToString(sum[:]), registry.Address(dev)
		sig, _ := registry.Sign(dev, e.reg.Domain().ManifestDigest(m))
		mj, _ := json.Marshal(m)
		return e.postTo(t, e.url, "RegistryService/PublishPlugin", token, map[string]any{"manifestJson": string(mj), "signature": hexutil.Encode(sig), "wasm": wasm})
	}
	m := registry.Manifest{Name: "dev/qa", Version: "1.0.0", Kind: abi.KindAgent, Price: "1000", Datanets: []string{"facts"}}
	if r := publish(m, examples.QA, ""); abi.Code(r.code) != abi.CodeBadSignature {
		t.Fatalf("publish with no token: %+v", r)
	}
	bad := m
	bad.Name, bad.Version = "dev/bad", "1.0.0"
	r := publish(bad, importsMemcpy, tok)
	if abi.Code(r.code) != abi.CodeInvalidPlugin || !strings.Contains(r.out["message"].(string), "env.memcpy") {
		t.Fatalf("a module importing env.memcpy: %+v", r)
	}
	if _, err := e.reg.Load(ctx, "dev/bad@1.0.0"); abi.CodeOf(err) != abi.CodeNotFound {
		t.Fatalf("the refused module was published: %v", err)
	}
	if r := publish(m, examples.QA, tok); r.status != 200 {
		t.Fatalf("publish: %+v", r)
	}
	// A manifest changed after it was signed is refused.
	mj, _ := json.Marshal(map[string]any{"name": "dev/qa", "version": "1.0.1", "kind": "agent", "price": "1", "datanets": []string{"facts"}, "wasm_sha256": "00", "publisher": registry.Address(dev)})
	if r := e.postTo(t, e.url, "RegistryService/PublishPlugin", tok, map[string]any{"manifestJson": string(mj), "signature": "0x" + strings.Repeat("11", 65), "wasm": examples.QA}); r.status == 200 {
		t.Fatalf("a forged manifest was published: %+v", r)
	}
	if r := e.postTo(t, e.url, "AgentService/Invoke", tok, map[string]any{"agent": "dev/qa@1.0.0", "inputText": "Why is the sky blue?"}); r.status != 200 {
		t.Fatalf("invoke the published agent: %+v", r)
	}
	got := e.postTo(t, e.url, "RegistryService/GetPlugin", "", map[string]any{"ref": "dev/qa@latest"})
	plugin, _ := got.out["plugin"].(map[string]any)
	if got.status != 200 || plugin["ref"] != "dev/qa@1.0.0" || plugin["publisher"] != registry.Address(dev) {
		t.Fatalf("get plugin: %+v", got)
	}
	wasm := e.postTo(t, e.url, "RegistryService/GetPluginWasm", "", map[string]any{"sha256": plugin["wasmSha256"]})
	if b, _ := base64Field(wasm.out["wasm"]); string(b) != string(examples.QA) {
		t.Fatalf("the module by hash differs: %d bytes", len(b))
	}
	list := e.postTo(t, e.url, "RegistryService/ListPlugins", "", map[string]any{"pageSize": 1})
	if list.status != 200 || len(list.out["plugins"].([]any)) != 1 || list.out["nextPageToken"] == "" {
		t.Fatalf("list, one per page: %+v", list)
	}
	sig, _ := registry.Sign(dev, e.reg.Domain().YankDigest("dev/qa", "1.0.0"))
	if r := e.postTo(t, e.url, "RegistryService/YankPlugin", tok, map[string]any{"ref": "dev/qa@1.0.0", "signature": hexutil.Encode(sig)}); r.status != 200 {
		t.Fatalf("yank: %+v", r)
	}
	if r := e.postTo(t, e.url, "AgentService/Invoke", tok, map[string]any{"agent": "dev/qa@1.0.0", "inputText": "again"}); abi.Code(r.code) != abi.CodeNotFound {
		t.Fatalf("invoke a yanked agent: %+v", r)
	}
}

// base64Field decodes a Connect JSON bytes field.
func base64Field(v any) ([]byte, error) {
	s, _ := v.(string)
	return base64.StdEncoding.DecodeString(s)
}
