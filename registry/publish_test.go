package registry_test

import (
	"context"
	"crypto/ecdsa"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/registry"
)

// name@latest never resolves to a pre-release: a release published before
// it keeps latest, a name with only pre-releases has no latest (and says
// why), and pre-releases stay loadable by their exact version.
func TestLatestIsNeverAPreRelease(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	pub, owner := key(t), key(t)
	newDatanet(t, r, owner, registry.Datanet{Name: "facts", Owner: registry.Address(owner)})
	publish := func(name, version string) {
		t.Helper()
		wasm := []byte("\x00asm " + name + version)
		m := manifest(pub, wasm, version)
		m.Name = name
		if _, err := r.Publish(ctx, m, sign(t, pub, registry.Domain{}.ManifestDigest(m)), wasm); err != nil {
			t.Fatal(err)
		}
	}
	latest := func(name string) (string, error) {
		p, err := r.Load(ctx, name+"@latest")
		if err != nil {
			return "", err
		}
		return p.Manifest.Version, nil
	}

	publish("acme/qa", "1.0.0")
	publish("acme/qa", "2.0.0-x")
	if got, err := latest("acme/qa"); got != "1.0.0" {
		t.Fatalf("latest after publishing 2.0.0-x = %q (%v), want 1.0.0", got, err)
	}
	if p, err := r.Load(ctx, "acme/qa@2.0.0-x"); err != nil || p.Manifest.Version != "2.0.0-x" {
		t.Fatalf("the pre-release by its version: %v", err)
	}
	publish("acme/qa", "2.0.0")
	publish("acme/qa", "2.1.0-rc.1")
	if got, _ := latest("acme/qa"); got != "2.0.0" {
		t.Fatalf("latest = %q, want 2.0.0", got)
	}

	publish("acme/beta", "0.1.0-alpha")
	_, err := latest("acme/beta")
	if abi.CodeOf(err) != abi.CodeNotFound || !strings.Contains(err.Error(), "pre-release") || !strings.Contains(err.Error(), "acme/beta@0.1.0-alpha") {
		t.Fatalf("latest of a name with only pre-releases: %v", err)
	}
	if _, err := latest("acme/none"); abi.CodeOf(err) != abi.CodeNotFound {
		t.Fatalf("latest of a name never published: %v", err)
	}

	// Yanking the only release leaves no latest: not the pre-release.
	publish("acme/one", "1.0.0")
	publish("acme/one", "1.1.0-rc.1")
	if err := r.Yank(ctx, "acme/one@1.0.0", sign(t, pub, registry.Domain{}.YankDigest("acme/one", "1.0.0"))); err != nil {
		t.Fatal(err)
	}
	if got, err := latest("acme/one"); abi.CodeOf(err) != abi.CodeNotFound {
		t.Fatalf("latest with its only release yanked = %q (%v), want not_found", got, err)
	}
}

// Names in a reserved namespace are the operator's to publish: a stranger
// is refused with its own code, before the name is claimed; the operator
// publishes; a namespace that only starts alike is anyone's.
func TestReservedNamespacesAreTheOperators(t *testing.T) {
	ctx := context.Background()
	op, stranger, owner := key(t), key(t), key(t)
	r, err := openStore(t, registry.Options{Operator: registry.Address(op), Reserved: []string{"builtin", "examples"}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	newDatanet(t, r, owner, registry.Datanet{Name: "facts", Owner: registry.Address(owner)})
	publish := func(k *ecdsa.PrivateKey, name string) error {
		wasm := []byte("\x00asm " + name)
		m := manifest(k, wasm, "1.0.0")
		m.Name = name
		sig := sign(t, k, registry.Domain{}.ManifestDigest(m))
		if err := r.CheckPublish(ctx, m, sig, wasm); err != nil {
			return err
		}
		_, err := r.Publish(ctx, m, sig, wasm)
		return err
	}
	for _, name := range []string{"builtin/ngram", "examples/qa", "builtin"} {
		if err := publish(stranger, name); abi.CodeOf(err) != registry.CodeReservedName {
			t.Fatalf("a stranger published %s: %v", name, err)
		}
	}
	if err := publish(op, "examples/qa"); err != nil {
		t.Fatalf("the operator publishing examples/qa: %v", err)
	}
	if err := publish(stranger, "examplesx/qa"); err != nil {
		t.Fatalf("a namespace that only starts like a reserved one: %v", err)
	}
	if _, err := registry.Open(t.TempDir(), registry.Options{Reserved: []string{"builtin"}}); err == nil {
		t.Fatal("a reserved namespace without an operator to publish in it")
	}
	// Every key owns the namespace of its address: nobody squats it.
	own := strings.ToLower(registry.Address(owner)) + "/agent"
	if err := publish(stranger, own); abi.CodeOf(err) != registry.CodeReservedName {
		t.Fatalf("a stranger published %s: %v", own, err)
	}
	if err := publish(owner, own); err != nil {
		t.Fatalf("a key publishing in its own namespace: %v", err)
	}
}

// CheckPublish refuses what Publish would, and writes nothing.
func TestCheckPublishWritesNothing(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	pub, other := key(t), key(t)
	newDatanet(t, r, other, registry.Datanet{Name: "facts", Owner: registry.Address(other)})
	wasm := []byte("\x00asm module")
	m := manifest(pub, wasm, "1.0.0")
	sig := sign(t, pub, registry.Domain{}.ManifestDigest(m))
	if err := r.CheckPublish(ctx, m, sig, wasm); err != nil {
		t.Fatal(err)
	}
	// Checking claims nothing: another key may still publish the name first.
	m2 := manifest(other, wasm, "1.0.0")
	if _, err := r.Publish(ctx, m2, sign(t, other, registry.Domain{}.ManifestDigest(m2)), wasm); err != nil {
		t.Fatalf("a check claimed the name: %v", err)
	}
	if err := r.CheckPublish(ctx, m, sig, wasm); abi.CodeOf(err) != abi.CodeAlreadyExists {
		t.Fatalf("check of a version already published: %v", err)
	}
	m3 := manifest(pub, wasm, "1.1.0")
	if err := r.CheckPublish(ctx, m3, sign(t, pub, registry.Domain{}.ManifestDigest(m3)), wasm); abi.CodeOf(err) != abi.CodeBadSignature {
		t.Fatalf("check of another's name: %v", err)
	}
}

// A loaded plugin's manifest hash, which receipts name, is the manifest's
// own: read from the store, from the cache of checked plugins, and for a
// plugin no Load returned.
func TestALoadedPluginCarriesItsManifestHash(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	pub, owner := key(t), key(t)
	newDatanet(t, r, owner, registry.Datanet{Name: "facts", Owner: registry.Address(owner)})
	wasm := []byte("\x00asm hash")
	m := manifest(pub, wasm, "1.0.0")
	if _, err := r.Publish(ctx, m, sign(t, pub, registry.Domain{}.ManifestDigest(m)), wasm); err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // a read, then the cache
		p, err := r.Load(ctx, m.Ref())
		if err != nil {
			t.Fatal(err)
		}
		if got, want := registry.StoredManifestHash(p), m.Hash(); got != want || p.ManifestHash() != want {
			t.Fatalf("load %d: manifest hash carried %q, given %q, want %q", i, got, p.ManifestHash(), want)
		}
	}
	p := &registry.Plugin{Manifest: m}
	if p.ManifestHash() != m.Hash() {
		t.Fatalf("a plugin no Load returned: manifest hash %q, want %q", p.ManifestHash(), m.Hash())
	}
}
