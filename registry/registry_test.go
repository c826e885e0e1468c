package registry_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/registry"
)

func open(t testing.TB) *registry.Registry {
	t.Helper()
	r, err := openStore(t, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// openDir opens the registry kept in dir, for tests that reopen it; the
// test closes it.
func openDir(t testing.TB, dir string) *registry.Registry {
	t.Helper()
	r, err := registry.Open(dir, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func key(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func manifest(k *ecdsa.PrivateKey, wasm []byte, version string) registry.Manifest {
	h := sha256.Sum256(wasm)
	return registry.Manifest{Name: "acme/qa", Version: version, Kind: abi.KindAgent, WasmSHA256: hex.EncodeToString(h[:]),
		Publisher: registry.Address(k), Price: "1000", Datanets: []string{"facts"}}
}

func sign(t *testing.T, k *ecdsa.PrivateKey, b []byte) []byte {
	t.Helper()
	s, err := registry.Sign(k, b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPublishAndLoadVerifyHashAndSignature(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	pub, other := key(t), key(t)
	newDatanet(t, r, other, registry.Datanet{Name: "facts", Owner: registry.Address(other)})
	wasm := []byte("\x00asm fake module bytes")
	m := manifest(pub, wasm, "1.0.0")

	cases := []struct {
		name string
		m    registry.Manifest
		sig  []byte
		wasm []byte
		want abi.Code
	}{
		{"bytes do not match the hash", m, sign(t, pub, registry.Domain{}.ManifestDigest(m)), []byte("other bytes"), abi.CodeHashMismatch},
		{"signed by another key", m, sign(t, other, registry.Domain{}.ManifestDigest(m)), wasm, abi.CodeBadSignature},
		{"signature missing", m, nil, wasm, abi.CodeBadSignature},
		{"bad version", func() registry.Manifest { x := m; x.Version = "one"; return x }(), sign(t, pub, registry.Domain{}.ManifestDigest(m)), wasm, abi.CodeBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := r.Publish(ctx, c.m, c.sig, c.wasm)
			if abi.CodeOf(err) != c.want {
				t.Fatalf("err = %v, want %s", err, c.want)
			}
			if _, err := r.Load(ctx, "acme/qa@latest"); abi.CodeOf(err) != abi.CodeNotFound {
				t.Fatalf("a refused publish left something behind: %v", err)
			}
		})
	}

	if _, err := r.Publish(ctx, m, sign(t, pub, registry.Domain{}.ManifestDigest(m)), wasm); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Publish(ctx, m, sign(t, pub, registry.Domain{}.ManifestDigest(m)), wasm); abi.CodeOf(err) != abi.CodeAlreadyExists {
		t.Fatalf("republishing a version: %v", err)
	}
	// Another key may not publish a new version of the name.
	m2 := manifest(other, wasm, "1.1.0")
	if _, err := r.Publish(ctx, m2, sign(t, other, registry.Domain{}.ManifestDigest(m2)), wasm); abi.CodeOf(err) != abi.CodeBadSignature {
		t.Fatalf("publishing another's name: %v", err)
	}
	p, err := r.Load(ctx, "acme/qa@latest")
	if err != nil {
		t.Fatal(err)
	}
	if string(p.Wasm) != string(wasm) || p.Manifest.Version != "1.0.0" {
		t.Fatalf("loaded %+v", p.Manifest)
	}
}

func TestRecordsAreSignedDeduplicatedAndSearchable(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	owner, alice, bob := key(t), key(t), key(t)
	if _, err := newDatanet(t, r, owner, registry.Datanet{Name: "facts", Owner: registry.Address(owner), PricePerRead: "10", Policy: registry.Policy{Write: registry.WriteOpen}}); err != nil {
		t.Fatal(err)
	}
	add := func(k *ecdsa.PrivateKey, signer *ecdsa.PrivateKey, content string) (*registry.Record, bool, error) {
		return r.AddRecord(ctx, "facts", registry.Address(k), content, sign(t, signer, registry.Domain{}.RecordDigest("facts", content)))
	}
	sky := "The sky is blue because air scatters blue light more than red light."
	rec, dup, err := add(alice, alice, sky)
	if err != nil || dup {
		t.Fatalf("add: %v dup=%v", err, dup)
	}
	if _, _, err := add(bob, alice, "forged"); abi.CodeOf(err) != abi.CodeBadSignature {
		t.Fatalf("record signed by another key: %v", err)
	}
	if _, _, err := add(bob, bob, "\xff\xfe"); abi.CodeOf(err) != abi.CodeBadRequest {
		t.Fatalf("invalid UTF-8: %v", err)
	}
	if _, _, err := add(bob, bob, strings.Repeat("x", registry.MaxRecordBytes+1)); abi.CodeOf(err) != abi.CodeBadRequest {
		t.Fatalf("oversized record: %v", err)
	}
	if _, _, err := r.AddRecord(ctx, "nowhere", registry.Address(bob), "x", sign(t, bob, registry.Domain{}.RecordDigest("nowhere", "x"))); abi.CodeOf(err) != abi.CodeNotFound {
		t.Fatalf("unknown datanet: %v", err)
	}
	if d := ok(r.Datanet(ctx, "facts")).of(t); d.Version != 1 {
		t.Fatalf("refused records changed the datanet: version %d", d.Version)
	}
	again, dup, err := add(bob, bob, sky)
	if err != nil || !dup || again.Contributor != registry.Address(alice) || again.ID != rec.ID {
		t.Fatalf("duplicate: %+v dup=%v err=%v; want alice's record", again, dup, err)
	}
	if _, _, err := add(bob, bob, "Water boils at 100 degrees Celsius at sea level."); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Search(ctx, "nope", "sky", 3); abi.CodeOf(err) != abi.CodeNotFound {
		t.Fatalf("unknown datanet: %v", err)
	}
	got, err := r.Search(ctx, "facts", "why is the sky blue", 5)
	if err != nil || len(got) != 1 || got[0].ID != rec.ID {
		t.Fatalf("search = %+v, %v", got, err)
	}
	spans, err := r.CorpusMatch(ctx, "facts", "As we know, air scatters blue light more than red. Water boils at 100 degrees.", 3)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, s := range spans {
		texts = append(texts, "As we know, air scatters blue light more than red. Water boils at 100 degrees."[s.Start:s.End])
	}
	if strings.Join(texts, "|") != "air scatters blue light more than red|Water boils at 100 degrees" {
		t.Fatalf("spans = %q", texts)
	}
}

func TestYankKeepsBytesButMarksTheVersion(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	pub, other := key(t), key(t)
	newDatanet(t, r, other, registry.Datanet{Name: "facts", Owner: registry.Address(other)})
	wasm := []byte("\x00asm module")
	m := manifest(pub, wasm, "1.0.0")
	if _, err := r.Publish(ctx, m, sign(t, pub, registry.Domain{}.ManifestDigest(m)), wasm); err != nil {
		t.Fatal(err)
	}
	// Loaded (and so verified and cached) before the yank: the yank must
	// still show.
	if p, err := r.Load(ctx, "acme/qa@latest"); err != nil || p.Yanked {
		t.Fatalf("before the yank: %+v, %v", p, err)
	}
	if err := r.Yank(ctx, "acme/qa@1.0.0", sign(t, other, registry.Domain{}.YankDigest("acme/qa", "1.0.0"))); abi.CodeOf(err) != abi.CodeBadSignature {
		t.Fatalf("yank by another key: %v", err)
	}
	if err := r.Yank(ctx, "acme/qa@2.0.0", sign(t, pub, registry.Domain{}.YankDigest("acme/qa", "2.0.0"))); abi.CodeOf(err) != abi.CodeNotFound {
		t.Fatalf("yank of an unknown version: %v", err)
	}
	if err := r.Yank(ctx, "acme/qa@1.0.0", sign(t, pub, registry.Domain{}.YankDigest("acme/qa", "1.0.0"))); err != nil {
		t.Fatal(err)
	}
	p, err := r.Load(ctx, "acme/qa@1.0.0")
	if err != nil || !p.Yanked || string(p.Wasm) != string(wasm) {
		t.Fatalf("yanked plugin: %+v, %v", p, err)
	}
	// A caller changing what Load returned changes nothing for the next.
	p.Yanked, p.Manifest.Price = false, "1"
	if again, _ := r.Load(ctx, "acme/qa@1.0.0"); !again.Yanked || again.Manifest.Price == "1" {
		t.Fatalf("a loaded plugin's fields leaked into the cache: %+v", again)
	}
	if _, err := r.Load(ctx, "acme/qa@latest"); abi.CodeOf(err) != abi.CodeNotFound {
		t.Fatalf("latest with every version yanked: %v", err)
	}
}

// TestOwnershipAndLatest: a name belongs to its first publisher (not even
// the operator may publish under it); the operator may yank any version;
// latest is the highest semantic version neither yanked nor a
// pre-release, whatever order versions were published in.
func TestOwnershipAndLatest(t *testing.T) {
	ctx := context.Background()
	op, pub, other := key(t), key(t), key(t)
	r, err := registry.Open(t.TempDir(), registry.Options{Operator: strings.ToLower(registry.Address(op))})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	newDatanet(t, r, other, registry.Datanet{Name: "facts", Owner: registry.Address(other)})
	publish := func(k *ecdsa.PrivateKey, version string) error {
		wasm := []byte("\x00asm " + version)
		m := manifest(k, wasm, version)
		_, err := r.Publish(ctx, m, sign(t, k, registry.Domain{}.ManifestDigest(m)), wasm)
		return err
	}
	latest := func() string {
		p, err := r.Load(ctx, "acme/qa@latest")
		if err != nil {
			return string(abi.CodeOf(err))
		}
		return p.Manifest.Version
	}
	if err := publish(pub, "1.0.0"); err != nil {
		t.Fatal(err)
	}
	if err := publish(other, "1.1.0"); abi.CodeOf(err) != abi.CodeBadSignature {
		t.Fatalf("a stranger published a version of another's name: %v", err)
	}
	if err := publish(op, "9.0.0"); abi.CodeOf(err) != abi.CodeBadSignature {
		t.Fatalf("the operator published under another's name: %v", err)
	}
	for _, v := range []string{"2.0.0", "1.10.0", "1.2.0", "2.0.0-rc.1"} {
		if err := publish(pub, v); err != nil {
			t.Fatal(err)
		}
	}
	if got := latest(); got != "2.0.0" {
		t.Fatalf("latest = %s, want 2.0.0 (published before 1.10.0, 1.2.0 and 2.0.0-rc.1)", got)
	}
	yank := func(k *ecdsa.PrivateKey, ref string) error {
		name, version, _ := registry.ParseRef(ref)
		return r.Yank(ctx, ref, sign(t, k, registry.Domain{}.YankDigest(name, version)))
	}
	if err := yank(other, "acme/qa@2.0.0"); abi.CodeOf(err) != abi.CodeBadSignature {
		t.Fatalf("a stranger yanked: %v", err)
	}
	if err := yank(op, "acme/qa@2.0.0"); err != nil {
		t.Fatalf("the operator could not yank: %v", err)
	}
	if got := latest(); got != "1.10.0" {
		t.Fatalf("latest after yanking 2.0.0 = %s, want 1.10.0 (not 1.2.0, nor the pre-release 2.0.0-rc.1)", got)
	}
	if _, err := registry.Open(t.TempDir(), registry.Options{Operator: "not an address"}); abi.CodeOf(err) != abi.CodeBadRequest {
		t.Fatalf("open with a bad operator address: %v", err)
	}
}

// FuzzManifest decodes untrusted manifest JSON: Validate never panics, and
// a manifest that validates signs and verifies as itself.
func FuzzManifest(f *testing.F) {
	f.Add([]byte(`{"name":"acme/qa","version":"1.0.0","kind":"agent","wasm_sha256":"` + strings.Repeat("a", 64) + `","publisher":"0x0000000000000000000000000000000000000001","price":"10"}`))
	f.Add([]byte(`{"name":"","limits":{"memory_pages":99999999}}`))
	f.Add([]byte(`{"name":"a/b","version":"1.2.3-rc.1","kind":"attribution","datanets":["x","y"],"attribution":"z@latest"}`))
	k, _ := crypto.GenerateKey()
	f.Fuzz(func(t *testing.T, b []byte) {
		var m registry.Manifest
		if json.Unmarshal(b, &m) != nil {
			return
		}
		if m.Validate() != nil {
			return
		}
		m.Publisher = registry.Address(k)
		sig, err := registry.Sign(k, registry.Domain{}.ManifestDigest(m))
		if err != nil {
			t.Fatal(err)
		}
		var again registry.Manifest
		if err := json.Unmarshal(m.SigningBytes(), &again); err != nil {
			t.Fatalf("signing bytes do not decode: %v", err)
		}
		if got, err := registry.Recover(registry.Domain{}.ManifestDigest(again), sig); err != nil || got != m.Publisher {
			t.Fatalf("round-tripped manifest does not verify: %v %s", err, got)
		}
	})
}

// TestVersionRootsNameExactlyTheRecordsHeld: every append makes a version
// whose root is the Merkle root of the records so far, recomputable by
// anyone from the record ids in order.
func TestVersionRootsNameExactlyTheRecordsHeld(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	k := key(t)
	newDatanet(t, r, k, registry.Datanet{Name: "facts", Owner: registry.Address(k)})
	var ids []string
	for i := range 5 {
		c := fmt.Sprintf("record number %d", i)
		rec, _, err := r.AddRecord(ctx, "facts", registry.Address(k), c, sign(t, k, registry.Domain{}.RecordDigest("facts", c)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rec.ID)
	}
	// A duplicate does not make a version.
	c := "record number 0"
	r.AddRecord(ctx, "facts", registry.Address(k), c, sign(t, k, registry.Domain{}.RecordDigest("facts", c)))
	d := ok(r.Datanet(ctx, "facts")).of(t)
	if d.Version != 5 {
		t.Fatalf("version %d after 5 records and a duplicate", d.Version)
	}
	seen := map[string]bool{}
	for v := uint64(1); v <= 5; v++ {
		root, err := r.VersionRoot(ctx, "facts", v)
		if err != nil {
			t.Fatal(err)
		}
		if want := referenceRoot(ids[:v]); root != want {
			t.Fatalf("version %d root %s, recomputed %s", v, root, want)
		}
		if seen[root] {
			t.Fatalf("version %d repeats a root", v)
		}
		seen[root] = true
	}
}

// referenceRoot computes the root from scratch: split at the largest power
// of two below n, recursively (the same tree the frontier builds).
func referenceRoot(ids []string) string {
	var rec func([]string) []byte
	rec = func(xs []string) []byte {
		if len(xs) == 1 {
			b, _ := hex.DecodeString(xs[0])
			h := sha256.Sum256(append([]byte{0}, b...))
			return h[:]
		}
		k := 1
		for k*2 < len(xs) {
			k *= 2
		}
		l, r := rec(xs[:k]), rec(xs[k:])
		h := sha256.Sum256(append(append([]byte{1}, l...), r...))
		return h[:]
	}
	return hex.EncodeToString(rec(ids))
}

func TestGrantsFollowTheDatanetOwnersPolicy(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	owner, pub := key(t), key(t)
	newDatanet(t, r, owner, registry.Datanet{Name: "facts", Owner: registry.Address(owner),
		Policy: registry.Policy{Access: registry.AccessAllowList, Agents: []string{"acme/friend"}}})
	newDatanet(t, r, owner, registry.Datanet{Name: "premium", Owner: registry.Address(owner),
		Policy: registry.Policy{Access: registry.AccessTier, MinAgentPrice: "5000"}})
	wasm := []byte("\x00asm")
	publish := func(name, price string, datanets ...string) error {
		m := manifest(pub, wasm, "1.0.0")
		m.Name, m.Price, m.Datanets = name, price, datanets
		_, err := r.Publish(ctx, m, sign(t, pub, registry.Domain{}.ManifestDigest(m)), wasm)
		return err
	}
	cases := []struct {
		name, agent, price string
		datanets           []string
		want               abi.Code
	}{
		{"allow-listed", "acme/friend", "1", []string{"facts"}, ""},
		{"not on the allow list", "acme/stranger", "1", []string{"facts"}, abi.CodeGrantDenied},
		{"below the price tier", "acme/cheap", "4999", []string{"premium"}, abi.CodeGrantDenied},
		{"at the price tier", "acme/pricey", "5000", []string{"premium"}, ""},
		{"unknown datanet", "acme/lost", "1", []string{"nowhere"}, abi.CodeNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := publish(c.agent, c.price, c.datanets...); abi.CodeOf(err) != c.want {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
	// The owner, and only the owner, can change the policy.
	open := registry.Policy{Access: registry.AccessOpen}
	if err := r.SetPolicy(ctx, "facts", open, sign(t, pub, registry.Domain{}.PolicyDigest("facts", 0, open))); abi.CodeOf(err) != abi.CodeBadSignature {
		t.Fatalf("policy set by a stranger: %v", err)
	}
	closed := registry.Policy{Access: registry.AccessAllowList}
	if err := r.SetPolicy(ctx, "facts", closed, sign(t, owner, registry.Domain{}.PolicyDigest("facts", 0, closed))); err != nil {
		t.Fatal(err)
	}
	p := ok(r.Load(ctx, "acme/friend@1.0.0")).of(t)
	if err := r.CheckGrants(ctx, p.Manifest); abi.CodeOf(err) != abi.CodeGrantDenied {
		t.Fatalf("grant after the owner closed the datanet: %v", err)
	}
}

// TestSearchRanksTiesByAdditionAfterRestart: records scoring the same rank
// in the order they were added, both in the index grown by appends and in
// the one rebuilt after a restart, so an agent re-run later reads what it
// read the first time.
func TestSearchRanksTiesByAdditionAfterRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r := openDir(t, dir)
	owner := key(t)
	newDatanet(t, r, owner, registry.Datanet{Name: "facts", Owner: registry.Address(owner)})
	// Same length, one "apple" each: equal scores. Added in descending id
	// order, so id order and addition order disagree.
	var contents []string
	for i := 0; len(contents) < 6; i++ {
		c := fmt.Sprintf("apple pear%d", i)
		if len(contents) == 0 || sha256Hex(c) < sha256Hex(contents[len(contents)-1]) {
			contents = append(contents, c)
		}
	}
	for _, c := range contents[:3] {
		if _, _, err := r.AddRecord(ctx, "facts", registry.Address(owner), c, sign(t, owner, registry.Domain{}.RecordDigest("facts", c))); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(r *registry.Registry) []string {
		got, err := r.Search(ctx, "facts", "apple", 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, rec := range got {
			out = append(out, rec.Content)
		}
		return out
	}
	ids(r) // builds the index; the rest are appended to it
	for _, c := range contents[3:] {
		if _, _, err := r.AddRecord(ctx, "facts", registry.Address(owner), c, sign(t, owner, registry.Domain{}.RecordDigest("facts", c))); err != nil {
			t.Fatal(err)
		}
	}
	before := ids(r)
	if strings.Join(before, "|") != strings.Join(contents, "|") {
		t.Fatalf("ties ranked %q, want addition order %q", before, contents)
	}
	r.Close()
	r = openDir(t, dir)
	defer r.Close()
	if after := ids(r); strings.Join(after, "|") != strings.Join(before, "|") {
		t.Fatalf("after a restart ties ranked %q, before %q", after, before)
	}
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TestViewReadsTheDatanetAsOfAVersion: records appended after a version
// are invisible to a View of it, to search, get and corpus_match alike,
// and search scores with that version's statistics.
func TestViewReadsTheDatanetAsOfAVersion(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	owner := key(t)
	newDatanet(t, r, owner, registry.Datanet{Name: "facts", Owner: registry.Address(owner)})
	add := func(c string) *registry.Record {
		rec, _, err := r.AddRecord(ctx, "facts", registry.Address(owner), c, sign(t, owner, registry.Domain{}.RecordDigest("facts", c)))
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	sky := add("the sky is blue because air scatters blue light")
	text := "we know the sky is blue because air scatters blue light and the sea is blue because water absorbs red light"
	before := ok(r.Search(ctx, "facts", "blue light", 10)).of(t)
	spansBefore := ok(r.CorpusMatch(ctx, "facts", text, 3)).of(t) // builds both indexes
	sea := add("the sea is blue because water absorbs red light")
	add("blue light blue light blue light")

	v1 := r.At(map[string]uint64{"facts": 1})
	got, err := v1.Search(ctx, "facts", "blue light", 10)
	if err != nil || len(got) != 1 || got[0].ID != sky.ID || got[0].Score != before[0].Score {
		t.Fatalf("search at version 1 = %+v, %v; want only %s scored %v as then", got, err, sky.ID, before[0].Score)
	}
	if _, err := v1.Get(ctx, "facts", sea.ID); abi.CodeOf(err) != abi.CodeNotFound {
		t.Fatalf("get of a later record at version 1: %v", err)
	}
	if rec, err := v1.Get(ctx, "facts", sky.ID); err != nil || rec.Content != sky.Content {
		t.Fatalf("get at version 1 = %+v, %v", rec, err)
	}
	spans, err := v1.CorpusMatch(ctx, "facts", text, 3)
	if err != nil || fmt.Sprint(spans) != fmt.Sprint(spansBefore) {
		t.Fatalf("corpus_match at version 1 = %+v, %v; before the appends %+v", spans, err, spansBefore)
	}
	now := ok(r.CorpusMatch(ctx, "facts", text, 3)).of(t)
	if len(now) != 2 {
		t.Fatalf("corpus_match now = %+v, want the sky and the sea", now)
	}
	v3 := r.At(map[string]uint64{"facts": 3})
	if at3 := ok(v3.CorpusMatch(ctx, "facts", text, 3)).of(t); fmt.Sprint(at3) != fmt.Sprint(now) {
		t.Fatalf("at the current version %+v, now %+v", at3, now)
	}
	all := ok(r.Search(ctx, "facts", "blue light", 10)).of(t)
	if at3 := ok(v3.Search(ctx, "facts", "blue light", 10)).of(t); fmt.Sprint(at3) != fmt.Sprint(all) {
		t.Fatalf("search at the current version %+v, now %+v", at3, all)
	}
	v0 := r.At(map[string]uint64{"facts": 0})
	if got, err := v0.Search(ctx, "facts", "blue", 10); err != nil || len(got) != 0 {
		t.Fatalf("search of the empty version = %+v, %v", got, err)
	}
	if _, err := v0.Get(ctx, "facts", sky.ID); abi.CodeOf(err) != abi.CodeNotFound {
		t.Fatalf("get at the empty version: %v", err)
	}
	if _, err := v1.Search(ctx, "nowhere", "blue", 1); abi.CodeOf(err) != abi.CodeNotFound {
		t.Fatalf("unknown datanet: %v", err)
	}
}

// TestAppendsDuringIndexBuildsAreIndexed: the first search and the first
// corpus_match build their indexes while records keep arriving; once all
// is done, both answer as indexes built from scratch after a restart do.
func TestAppendsDuringIndexBuildsAreIndexed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r := openDir(t, dir)
	owner := key(t)
	newDatanet(t, r, owner, registry.Datanet{Name: "facts", Owner: registry.Address(owner)})
	var lines strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&lines, "{\"content\":\"record %d says the sky is blue and water boils at %d degrees\"}\n", i, i%7)
	}
	if _, err := r.Import(ctx, strings.NewReader(lines.String()), registry.ImportOptions{Datanet: "facts", Key: owner, Batch: 500}); err != nil {
		t.Fatal(err)
	}
	const query, text = "blue degrees appended", "we read that the sky is blue and water boils at 3 degrees, appended 42 times"
	done := make(chan struct{})
	var wg sync.WaitGroup
	loop := func(read func() error) {
		for {
			if err := read(); err != nil {
				t.Error(err)
			}
			select {
			case <-done:
				return
			default:
			}
		}
	}
	wg.Go(func() { loop(func() error { _, err := r.Search(ctx, "facts", query, 20); return err }) })
	wg.Go(func() { loop(func() error { _, err := r.CorpusMatch(ctx, "facts", text, 3); return err }) })
	for i := range 400 {
		c := fmt.Sprintf("appended %d times: the sky is blue", i)
		if _, _, err := r.AddRecord(ctx, "facts", registry.Address(owner), c, sign(t, owner, registry.Domain{}.RecordDigest("facts", c))); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	search := ok(r.Search(ctx, "facts", query, 20)).of(t)
	spans := ok(r.CorpusMatch(ctx, "facts", text, 3)).of(t)
	r.Close()

	fresh := openDir(t, dir)
	defer fresh.Close()
	want := ok(fresh.Search(ctx, "facts", query, 20)).of(t)
	wantSpans := ok(fresh.CorpusMatch(ctx, "facts", text, 3)).of(t)
	if fmt.Sprint(search) != fmt.Sprint(want) {
		t.Fatalf("search grown during the build:\n%v\nbuilt from scratch:\n%v", search, want)
	}
	if fmt.Sprint(spans) != fmt.Sprint(wantSpans) || len(spans) == 0 {
		t.Fatalf("corpus_match grown during the build:\n%v\nbuilt from scratch:\n%v", spans, wantSpans)
	}
}

// TestWarmAndCloseDuringABuild: Warm builds every datanet's indexes; a
// registry closed while an index builds stops the build and closes
// cleanly, and the waiting search gets an error, not a half-built index.
func TestWarmAndCloseDuringABuild(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r := openDir(t, dir)
	owner := key(t)
	for _, name := range []string{"a", "b"} {
		newDatanet(t, r, owner, registry.Datanet{Name: name, Owner: registry.Address(owner)})
		var lines strings.Builder
		for i := range 20000 {
			fmt.Fprintf(&lines, "{\"content\":\"%s record %d about the sky and the sea\"}\n", name, i)
		}
		if _, err := r.Import(ctx, strings.NewReader(lines.String()), registry.ImportOptions{Datanet: name, Key: owner}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Search(ctx, "b", "record 7", 1); err != nil || len(got) != 1 {
		t.Fatalf("search after warming: %v, %v", got, err)
	}
	r.Close()

	r = openDir(t, dir)
	errs := make(chan error, 1)
	go func() {
		_, err := r.Search(ctx, "a", "sky", 5)
		errs <- err
	}()
	time.Sleep(20 * time.Millisecond) // let the build start
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	// The search either finished before the close, with results, or was
	// refused because the registry is closing; nothing else.
	select {
	case err := <-errs:
		if err != nil && abi.CodeOf(err) != abi.CodeUnavailable {
			t.Fatalf("a search cut short by Close failed with %v, want %s", err, abi.CodeUnavailable)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a search racing Close never returned")
	}
}

// ok holds a result and its error; of returns the result, failing the test
// if there was an error: results compared with their errors discarded
// prove nothing.
func ok[T any](v T, err error) result[T] { return result[T]{v, err} }

type result[T any] struct {
	v   T
	err error
}

func (r result[T]) of(t testing.TB) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

// newDatanet creates d, owned and signed by k.
func newDatanet(t testing.TB, r *registry.Registry, k *ecdsa.PrivateKey, d registry.Datanet) (*registry.Datanet, error) {
	t.Helper()
	d.Owner = registry.Address(k)
	sig, err := registry.Sign(k, registry.Domain{}.DatanetDigest(d))
	if err != nil {
		t.Fatal(err)
	}
	return r.CreateDatanet(context.Background(), d, sig)
}

// An in-memory registry keeps records larger than the on-disk value
// threshold (Badger refuses them in memory unless the threshold allows).
func TestInMemoryRegistryKeepsLargeRecords(t *testing.T) {
	r, err := registry.Open("", registry.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	owner := key(t)
	d := registry.Datanet{Name: "big", Owner: registry.Address(owner)}
	sig, _ := registry.Sign(owner, registry.Domain{}.DatanetDigest(d))
	if _, err := r.CreateDatanet(context.Background(), d, sig); err != nil {
		t.Fatal(err)
	}
	content := strings.Repeat("a long record ", 300)
	rsig, _ := registry.Sign(owner, registry.Domain{}.RecordDigest("big", content))
	if _, _, err := r.AddRecord(context.Background(), "big", registry.Address(owner), content, rsig); err != nil {
		t.Fatal(err)
	}
}

// A datanet read after each write is the written one, and changing what a
// read returned changes nothing the next read sees.
func TestDatanetReadsFollowEveryWrite(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	owner, alice := key(t), key(t)
	if _, err := newDatanet(t, r, owner, registry.Datanet{Name: "facts", Owner: registry.Address(owner), PricePerRead: "10", Policy: registry.Policy{Write: registry.WriteOpen}}); err != nil {
		t.Fatal(err)
	}
	prevRoot := ""
	for i := range 20 {
		content := fmt.Sprint("fact number ", i)
		if _, _, err := r.AddRecord(ctx, "facts", registry.Address(alice), content, sign(t, alice, registry.Domain{}.RecordDigest("facts", content))); err != nil {
			t.Fatal(err)
		}
		d := ok(r.Datanet(ctx, "facts")).of(t)
		if d.Version != uint64(i+1) || d.Root == prevRoot {
			t.Fatalf("after %d appends: version %d, root %q (before %q)", i+1, d.Version, d.Root, prevRoot)
		}
		prevRoot = d.Root
		d.Version, d.Root, d.Policy.Agents = 999, "tampered", append(d.Policy.Agents, "x")
		for j := range d.Frontier {
			clear(d.Frontier[j].Hash)
		}
		if again := ok(r.Datanet(ctx, "facts")).of(t); again.Version != uint64(i+1) || again.Root != prevRoot || len(again.Policy.Agents) != 0 {
			t.Fatalf("a caller's change to a read datanet reached the next read: %+v", again)
		}
	}
}
