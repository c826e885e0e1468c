package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dgraph-io/badger/v4"
	"golang.org/x/mod/semver"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/kv"
)

// MaxRecordBytes bounds the content of one record.
const MaxRecordBytes = 64 << 10

// Options configures [Open]. The zero value works.
type Options struct {
	// InMemory keeps everything in memory (tests, demo); Dir is ignored.
	InMemory bool
	// ReadOnly opens the registry for reading only (verification).
	ReadOnly bool
	Logger   *slog.Logger
	// Operator is the address that may, besides a version's publisher and
	// the name's owner, yank any version, and the only one that may publish
	// in the Reserved namespaces.
	Operator string
	// Reserved are namespaces (the part of a plugin name before "/", such
	// as "builtin" for the plugins the node ships) whose names only
	// Operator may publish; a name equal to one is reserved too. Without
	// them anyone may claim any new name.
	Reserved []string
	// Domain is the deployment every signature must be made for.
	Domain Domain
	// Scratch marks a verifier's private copy, which may mirror datanets
	// (see [Registry.MirrorDatanet]).
	Scratch bool
}

// Registry is the store of plugins and datanets. It is safe for concurrent use.
type Registry struct {
	db       *badger.DB
	logger   *slog.Logger
	operator string   // canonical address, or ""
	reserved []string // namespaces only the operator publishes in
	domain   Domain
	scratch  bool

	// verified holds plugins whose module bytes matched their hash and
	// whose manifest signature checked, by name@version: a plugin is
	// verified when first loaded, not on every call. Yank drops its entry.
	verifiedMu  sync.RWMutex
	verified    map[string]*Plugin
	verifiedGen uint64 // advanced by each forget: a Load that read before one does not cache

	datanets sync.Map // name → *cachedDatanet
	records  *recordCache

	mu     sync.Mutex              // serialises appends to a datanet and guards indexes
	corpus map[string]*corpusIndex // corpus_match, segments added by appends
	search map[string]*searchIndex // BM25, grown by appends

	// Index builds run under ctx, cancelled by Close, which waits for them
	// (builds) before closing the database.
	ctx    context.Context
	cancel context.CancelFunc
	builds sync.WaitGroup
	closed bool // under mu
}

// Open opens (creating if needed) the registry in dir.
func Open(dir string, opts Options) (*Registry, error) {
	// Record bodies (~0.5-64 KB) go to the value log, keeping the LSM tree
	// small: at a million records that halves import time.
	bo := badger.DefaultOptions(dir).WithSyncWrites(true).WithLogger(nil).WithValueThreshold(256).WithReadOnly(opts.ReadOnly)
	if opts.InMemory {
		// In memory there is no value log: Badger refuses (by panicking,
		// in v4.9) values above the threshold, so keep its default.
		bo = bo.WithDir("").WithValueDir("").WithInMemory(true).WithValueThreshold(badger.DefaultOptions("").ValueThreshold)
	}
	db, err := badger.Open(bo)
	if err != nil {
		return nil, fmt.Errorf("registry: open %s: %w", dir, err)
	}
	if err := checkFormat(db, opts.ReadOnly); err != nil {
		db.Close()
		return nil, err
	}
	r := &Registry{db: db, logger: opts.Logger, domain: opts.Domain, scratch: opts.Scratch, corpus: map[string]*corpusIndex{}, search: map[string]*searchIndex{}, records: newRecordCache(RecordCacheBytes)}
	if opts.Operator != "" {
		if r.operator, err = CanonicalAddress(opts.Operator); err != nil {
			db.Close()
			return nil, err
		}
	}
	for _, ns := range opts.Reserved {
		if r.operator == "" || !nameRE.MatchString(ns) || strings.Contains(ns, "/") {
			db.Close()
			return nil, fmt.Errorf("registry: reserved namespace %q: want a one-segment name, and an Operator to publish in it", ns)
		}
	}
	r.reserved = slices.Clone(opts.Reserved)
	if !opts.ReadOnly {
		if err := r.indexVersions(); err != nil {
			db.Close()
			return nil, err
		}
		if err := r.repairLatest(); err != nil {
			db.Close()
			return nil, err
		}
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	if r.logger == nil {
		r.logger = slog.New(slog.DiscardHandler)
	}
	return r, nil
}

// Domain returns the deployment the registry's signatures are bound to.
func (r *Registry) Domain() Domain { return r.domain }

// Close stops index builds and closes the database.
func (r *Registry) Close() error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.builds.Wait()
	return r.db.Close()
}

// startBuild registers an index build; it refuses once the registry is
// closing. The caller holds r.mu and calls r.builds.Done when done.
func (r *Registry) startBuild() error {
	if r.closed {
		return errorf(abi.CodeUnavailable, "registry is closing")
	}
	r.builds.Add(1)
	return nil
}

// Warm builds the search and corpus_match indexes of every datanet, one
// after another, so that the first queries after a start need not wait.
// It returns when all are built, or at the first failure.
func (r *Registry) Warm(ctx context.Context) error {
	var names []string
	err := r.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("d/")})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			names = append(names, string(it.Item().Key()[len("d/"):]))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, name := range names {
		start := time.Now()
		if _, err := r.searchIndexFor(ctx, name); err != nil {
			return err
		}
		if _, err := r.corpusIndexFor(ctx, name); err != nil {
			return err
		}
		r.logger.Info("datanet indexed", "datanet", name, "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// Plugin is a published plugin: its manifest, the publisher's signature and
// the module's bytes.
type Plugin struct {
	Manifest  Manifest  `json:"manifest"`
	Signature []byte    `json:"signature"`
	Published time.Time `json:"published"`
	Yanked    bool      `json:"yanked,omitempty"`
	YankedAt  time.Time `json:"yanked_at,omitzero"`
	Wasm      []byte    `json:"-"`
}

// Hash returns the hex sha256 of the module.
func (p *Plugin) Hash() string { return p.Manifest.WasmSHA256 }

// Key layout, one prefix per kind of value.
func blobKey(hash string) []byte            { return []byte("b/" + hash) }
func pluginKey(name, version string) []byte { return []byte("p/" + name + "@" + version) }
func latestKey(name string) []byte          { return []byte("l/" + name) }
func ownerKey(name string) []byte           { return []byte("o/" + name) }
func datanetKey(name string) []byte         { return []byte("d/" + name) }
func recordKey(datanet, id string) []byte   { return append(scoped("r/", datanet), id...) }
func recordPrefix(datanet string) []byte    { return scoped("r/", datanet) }

// scoped is prefix, the datanet name's length in one byte, then the name.
// Keys under one datanet are therefore never a prefix of another's, even
// though names may contain '/' ("pub" and "pub/secret"); names are at most
// 129 bytes (nameRE).
func scoped(prefix, datanet string) []byte {
	b := make([]byte, 0, len(prefix)+1+len(datanet)+80)
	b = append(b, prefix...)
	b = append(b, byte(len(datanet)))
	return append(b, datanet...)
}

// checkDatanet refuses a datanet name that is not well formed.
func checkDatanet(name string) error {
	if !nameRE.MatchString(name) {
		return errorf(abi.CodeBadIdentifier, "datanet name %.80q is not well formed", name)
	}
	return nil
}

// checkRecordID refuses a record id that is not a hex sha256.
func checkRecordID(id string) error {
	if !hashRE.MatchString(id) {
		return errorf(abi.CodeBadIdentifier, "record id %.80q is not a hex sha256", id)
	}
	return nil
}

// Format is the version of the registry's key layout; a registry written
// in another layout is refused at Open rather than misread.
const Format = 2

// checkFormat stamps a new registry with Format and refuses any other.
func checkFormat(db *badger.DB, readOnly bool) error {
	have, err := kv.Layout(db, Format, readOnly)
	switch {
	case err != nil:
		return fmt.Errorf("registry: read layout: %w", err)
	case have == "1":
		return errorf(abi.CodeInternal, "registry: written in layout 1, where datanet keys could alias; this build reads layout %d: keep the data with the build that wrote it", Format)
	case have != "":
		return errorf(abi.CodeInternal, "registry: layout %s, this build reads layout %d", have, Format)
	}
	return nil
}

// CodeReservedName refuses a publication in a reserved namespace (see
// [Options.Reserved]) by anyone but the operator, and one in a key's own
// namespace by any other key.
const CodeReservedName abi.Code = "reserved_name"

// keyNamespaceRE matches a key's own namespace: its address in lower case
// ("0xab…/agent"). Whatever names others claim first, a publisher can
// always publish under its own address, and nobody else can.
var keyNamespaceRE = regexp.MustCompile(`^0x[0-9a-f]{40}$`)

// CheckPublish makes every check of a publication that needs no more than
// the manifest, the signature and the module's bytes, in order of cost:
// the manifest is valid, wasm hashes to its WasmSHA256, sig is the
// publisher's signature of the manifest, a reserved namespace is the
// operator's, the name belongs to its first publisher, the version is new,
// and the datanets it reads admit it. It writes nothing. A host runs it
// before compiling the module, so work follows authorship: nobody makes
// the node compile a module they could not publish.
func (r *Registry) CheckPublish(ctx context.Context, m Manifest, sig, wasm []byte) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if got := sha256Hex(wasm); got != m.WasmSHA256 {
		return errorf(abi.CodeHashMismatch, "%s: module hashes to %s, manifest says %s", m.Ref(), got, m.WasmSHA256)
	}
	if err := verifySigner(r.domain.ManifestDigest(m), sig, m.Publisher); err != nil {
		return fmt.Errorf("registry: publish %s: %w", m.Ref(), err)
	}
	ns, _, _ := strings.Cut(m.Name, "/")
	if slices.Contains(r.reserved, ns) && m.Publisher != r.operator {
		return errorf(CodeReservedName, "%s is in the namespace %s/, reserved for the operator %s", m.Name, ns, r.operator)
	}
	if keyNamespaceRE.MatchString(ns) && ns != strings.ToLower(m.Publisher) {
		return errorf(CodeReservedName, "%s is in the namespace of the key %s: only that key publishes there", m.Name, ns)
	}
	if err := r.db.View(func(txn *badger.Txn) error {
		_, err := checkNew(txn, m)
		return err
	}); err != nil {
		return err
	}
	if err := r.CheckGrants(ctx, m); err != nil {
		return fmt.Errorf("registry: publish %s: %w", m.Ref(), err)
	}
	return nil
}

// checkNew refuses a version already published and a name another
// publisher owns; claim is true when the name has no owner yet.
func checkNew(txn *badger.Txn, m Manifest) (claim bool, err error) {
	if _, err := txn.Get(pluginKey(m.Name, m.Version)); err == nil {
		return false, errorf(abi.CodeAlreadyExists, "%s is already published", m.Ref())
	} else if !errors.Is(err, badger.ErrKeyNotFound) {
		return false, err
	}
	owner, err := getString(txn, ownerKey(m.Name))
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		return true, nil
	case err != nil:
		return false, err
	case owner != m.Publisher:
		return false, errorf(abi.CodeBadSignature, "%s belongs to %s, not %s", m.Name, owner, m.Publisher)
	}
	return false, nil
}

// Publish verifies and stores a plugin: everything [Registry.CheckPublish]
// checks, and the name's ownership and the version's novelty again in the
// write, which a concurrent publication may have changed. Nothing is
// written unless every check passes. name@latest is the highest semantic
// version not yanked and not a pre-release, so publishing a fix to an
// older line does not move it back, and a pre-release (1.0.0-rc.1) is
// loaded only by its exact version.
func (r *Registry) Publish(ctx context.Context, m Manifest, sig, wasm []byte) (*Plugin, error) {
	if err := r.CheckPublish(ctx, m, sig, wasm); err != nil {
		return nil, err
	}
	p := &Plugin{Manifest: m, Signature: sig, Published: time.Now().UTC(), Wasm: wasm}
	err := r.db.Update(func(txn *badger.Txn) error {
		claim, err := checkNew(txn, m)
		if err != nil {
			return err
		}
		if claim {
			if err := txn.Set(ownerKey(m.Name), []byte(m.Publisher)); err != nil {
				return err
			}
		}
		meta, err := json.Marshal(p)
		if err != nil {
			return err
		}
		if err := txn.Set(blobKey(m.WasmSHA256), wasm); err != nil {
			return err
		}
		if err := txn.Set(pluginKey(m.Name, m.Version), meta); err != nil {
			return err
		}
		if isPreRelease(m.Version) {
			return nil
		}
		cur, err := getString(txn, latestKey(m.Name))
		if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		if cur != "" && compareVersions(cur, m.Version) >= 0 {
			return nil
		}
		return txn.Set(latestKey(m.Name), []byte(m.Version))
	})
	if err != nil {
		return nil, err
	}
	r.logger.Info("published plugin", "ref", m.Ref(), "sha256", m.WasmSHA256, "publisher", m.Publisher)
	return p, nil
}

// Load returns the plugin ref names ("name@version" or "name@latest"),
// checking again that its bytes match the manifest and the manifest the
// publisher's signature.
func (r *Registry) Load(ctx context.Context, ref string) (*Plugin, error) {
	name, version, err := ParseRef(ref)
	if err != nil {
		return nil, err
	}
	if version == "latest" {
		err = r.db.View(func(txn *badger.Txn) (err error) {
			version, err = getString(txn, latestKey(name))
			return err
		})
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil, r.noLatest(name)
		} else if err != nil {
			return nil, fmt.Errorf("registry: load %s: %w", ref, err)
		}
	}
	key := name + "@" + version
	r.verifiedMu.RLock()
	cached, gen := r.verified[key], r.verifiedGen
	r.verifiedMu.RUnlock()
	if cached != nil {
		cp := *cached // the module bytes are shared and never written
		return &cp, nil
	}
	var p Plugin
	err = r.db.View(func(txn *badger.Txn) error {
		meta, err := kv.GetBytes(txn, pluginKey(name, version))
		if err != nil {
			return err
		}
		if err := json.Unmarshal(meta, &p); err != nil {
			return fmt.Errorf("decode manifest: %w", err)
		}
		p.Wasm, err = kv.GetBytes(txn, blobKey(p.Manifest.WasmSHA256))
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, errorf(abi.CodeNotFound, "no plugin %s", ref)
	}
	if err != nil {
		return nil, fmt.Errorf("registry: load %s: %w", ref, err)
	}
	if got := sha256Hex(p.Wasm); got != p.Manifest.WasmSHA256 {
		return nil, errorf(abi.CodeHashMismatch, "%s: stored module hashes to %s, manifest says %s", ref, got, p.Manifest.WasmSHA256)
	}
	if err := verifySigner(r.domain.ManifestDigest(p.Manifest), p.Signature, p.Manifest.Publisher); err != nil {
		return nil, fmt.Errorf("registry: load %s: %w", ref, err)
	}
	r.verifiedMu.Lock()
	defer r.verifiedMu.Unlock()
	if gen != r.verifiedGen {
		return &p, nil // a yank may have landed after this read
	}
	if r.verified == nil {
		r.verified = map[string]*Plugin{}
	}
	if len(r.verified) >= maxVerified {
		for k := range r.verified { // evict one; a miss only costs a check
			delete(r.verified, k)
			break
		}
	}
	cp := p
	r.verified[key] = &cp
	return &p, nil
}

// maxVerified bounds the verified-plugin cache (each holds its module).
const maxVerified = 64

// Datanet is a named collection of records with a price per record read.
type Datanet struct {
	Name         string    `json:"name"`
	Owner        string    `json:"owner"`
	Description  string    `json:"description,omitempty"`
	License      string    `json:"license,omitempty"`
	PricePerRead string    `json:"price_per_read"` // base units, decimal
	Version      uint64    `json:"version"`        // number of appends so far
	Root         string    `json:"root,omitempty"` // Merkle root of the records at Version
	Created      time.Time `json:"created"`
	Policy       Policy    `json:"policy"` // which agents may read it
	// PolicyNonce counts policy changes; the next change is signed with it.
	PolicyNonce uint64 `json:"policy_nonce"`
	// Creation is what the owner signed to create the datanet, so anyone
	// can check its price and terms (see [Domain.DatanetDigest]).
	Creation *DatanetCreation `json:"creation,omitempty"`

	Frontier []frontierNode `json:"frontier,omitempty"`
}

// DatanetCreation is a datanet's signed creation: the policy it was created
// with (a later SetPolicy changes Policy) and the owner's signature.
type DatanetCreation struct {
	Policy    Policy `json:"policy"`
	Signature []byte `json:"signature"`
}

// CheckCreation reports whether d's name, owner, description, licence and
// price are the ones its owner signed for domain.
func (d Datanet) CheckCreation(domain Domain) error {
	if d.Creation == nil {
		return errorf(abi.CodeBadSignature, "datanet %s carries no creation signature", d.Name)
	}
	spec := d
	spec.Policy = d.Creation.Policy
	if err := verifySigner(domain.DatanetDigest(spec), d.Creation.Signature, d.Owner); err != nil {
		return fmt.Errorf("registry: datanet %s is not as its owner created it: %w", d.Name, err)
	}
	return nil
}

// Price returns PricePerRead as an integer.
func (d Datanet) Price() *big.Int {
	p, ok := new(big.Int).SetString(d.PricePerRead, 10)
	if !ok {
		return new(big.Int)
	}
	return p
}

// CreateDatanet creates a datanet; its name must be new, and sig must be
// its owner's signature of [Domain.DatanetDigest].
func (r *Registry) CreateDatanet(ctx context.Context, d Datanet, sig []byte) (*Datanet, error) {
	if !nameRE.MatchString(d.Name) {
		return nil, errorf(abi.CodeBadRequest, "datanet name %q is not valid", d.Name)
	}
	owner, err := CanonicalAddress(d.Owner)
	if err != nil {
		return nil, err
	}
	d.Owner = owner
	if d.PricePerRead == "" {
		d.PricePerRead = "0"
	}
	if p, ok := new(big.Int).SetString(d.PricePerRead, 10); !ok || p.Sign() < 0 || p.BitLen() > 256 {
		return nil, errorf(abi.CodeBadRequest, "datanet price %q: want a decimal integer in [0, 2^256)", d.PricePerRead)
	}
	if err := d.Policy.validate(); err != nil {
		return nil, err
	}
	if err := verifySigner(r.domain.DatanetDigest(d), sig, d.Owner); err != nil {
		return nil, fmt.Errorf("registry: create datanet %s: %w", d.Name, err)
	}
	d.Version, d.Created, d.PolicyNonce = 0, time.Now().UTC(), 0
	d.Creation = &DatanetCreation{Policy: d.Policy, Signature: sig}
	err = r.db.Update(func(txn *badger.Txn) error {
		if _, err := txn.Get(datanetKey(d.Name)); err == nil {
			return errorf(abi.CodeAlreadyExists, "datanet %s exists", d.Name)
		}
		return kv.SetJSON(txn, datanetKey(d.Name), d)
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// Datanet returns a datanet by name.
func (r *Registry) Datanet(ctx context.Context, name string) (*Datanet, error) {
	if err := checkDatanet(name); err != nil {
		return nil, err
	}
	var d Datanet
	err := r.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(datanetKey(name))
		if err != nil {
			return err
		}
		// Decoding a datanet costs far more than finding it; the decoded
		// datanet is kept with the version (commit) of the entry it came
		// from, which every write of the datanet advances.
		if c, ok := r.datanets.Load(name); ok && c.(*cachedDatanet).at == item.Version() {
			d = c.(*cachedDatanet).d.clone()
			return nil
		}
		if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &d) }); err != nil {
			return err
		}
		r.datanets.Store(name, &cachedDatanet{at: item.Version(), d: d.clone()})
		return nil
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, errorf(abi.CodeNotFound, "no datanet %s", name)
	}
	if err != nil {
		return nil, fmt.Errorf("registry: datanet %s: %w", name, err)
	}
	return &d, nil
}

// cachedDatanet is a decoded datanet and the Badger version of the entry
// it was decoded from.
type cachedDatanet struct {
	at uint64
	d  Datanet
}

// clone copies d deeply enough that changing the copy leaves d alone.
func (d Datanet) clone() Datanet {
	d.Policy = d.Policy.clone()
	d.Frontier = slices.Clone(d.Frontier)
	for i := range d.Frontier {
		d.Frontier[i].Hash = slices.Clone(d.Frontier[i].Hash)
	}
	if d.Creation != nil {
		c := *d.Creation
		c.Policy = c.Policy.clone()
		c.Signature = slices.Clone(c.Signature)
		d.Creation = &c
	}
	return d
}

// Record is one contribution to a datanet. Its ID is the hex sha256 of its
// content; Signature is the contributor's EIP-712 signature of the content
// for this datanet (see [Domain.RecordDigest]).
type Record struct {
	Datanet     string    `json:"datanet"`
	ID          string    `json:"id"`
	Contributor string    `json:"contributor"`
	Content     string    `json:"content"`
	Signature   []byte    `json:"signature"`
	Version     uint64    `json:"version"` // datanet version that added it
	Added       time.Time `json:"added"`
}

// RecordID returns the id a record of content has: its hex sha256.
func RecordID(content string) string { return sha256Hex([]byte(content)) }

// AddRecord adds content to a datanet, signed by contributor. A record whose
// content is already in the datanet is not added again: the first
// contributor keeps it, and the existing record is returned with dup true.
// A contributor the datanet's write rule does not admit is refused with
// [CodeWriteDenied], one past its quota with [CodeWriteQuota]; a
// duplicate counts against no quota.
func (r *Registry) AddRecord(ctx context.Context, datanet, contributor, content string, sig []byte) (rec *Record, dup bool, err error) {
	if err := checkDatanet(datanet); err != nil {
		return nil, false, err
	}
	if len(content) == 0 || len(content) > MaxRecordBytes {
		return nil, false, errorf(abi.CodeBadRequest, "record is %d bytes, want 1..%d", len(content), MaxRecordBytes)
	}
	if !utf8.ValidString(content) {
		return nil, false, errorf(abi.CodeBadRequest, "record is not valid UTF-8")
	}
	contributor, err = CanonicalAddress(contributor)
	if err != nil {
		return nil, false, err
	}
	if err := verifySigner(r.domain.RecordDigest(datanet, content), sig, contributor); err != nil {
		return nil, false, fmt.Errorf("registry: record for %s: %w", datanet, err)
	}
	id := sha256Hex([]byte(content))
	r.mu.Lock()
	defer r.mu.Unlock()
	err = r.db.Update(func(txn *badger.Txn) error {
		var d Datanet
		if err := kv.GetJSON(txn, datanetKey(datanet), &d); errors.Is(err, badger.ErrKeyNotFound) {
			return errorf(abi.CodeNotFound, "no datanet %s", datanet)
		} else if err != nil {
			return err
		}
		// The rule before the duplicate check, so that one the datanet does
		// not admit learns nothing of what it holds.
		if !r.scratch {
			if err := d.checkWriter(contributor); err != nil {
				return err
			}
		}
		var existing Record
		if err := kv.GetJSON(txn, recordKey(datanet, id), &existing); err == nil {
			rec, dup = &existing, true
			return nil
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		if !r.scratch {
			// Counted in the record's own transaction: no crash or race
			// lets a contributor past the quota.
			w, err := getWritten(txn, datanet, contributor)
			if err != nil {
				return err
			}
			if w, err = d.admit(contributor, w, len(content)); err != nil {
				return err
			}
			if err := setWritten(txn, datanet, contributor, w); err != nil {
				return err
			}
		}
		d.Version++
		d.Frontier = appendLeaf(d.Frontier, leafHash(id))
		d.Root = hex.EncodeToString(frontierRoot(d.Frontier))
		if err := txn.Set(versionKey(datanet, d.Version), []byte(d.Root)); err != nil {
			return err
		}
		if err := txn.Set(versionIDKey(datanet, d.Version), []byte(id)); err != nil {
			return err
		}
		rec = &Record{Datanet: datanet, ID: id, Contributor: contributor, Content: content, Signature: sig, Version: d.Version, Added: time.Now().UTC()}
		if err := kv.SetJSON(txn, recordKey(datanet, id), rec); err != nil {
			return err
		}
		return kv.SetJSON(txn, datanetKey(datanet), d)
	})
	if err != nil {
		return nil, false, err
	}
	if !dup {
		if ix := r.corpus[datanet]; ix != nil {
			ix.appended(*rec)
		}
		if ix := r.search[datanet]; ix != nil && !ix.add(rec.Version, rec.ID, rec.Content) {
			delete(r.search, datanet) // out of step: rebuilt on next use
		}
	}
	return rec, dup, nil
}

// Get returns one record of a datanet.
func (r *Registry) Get(ctx context.Context, datanet, id string) (abi.Record, error) {
	rec, err := r.record(ctx, datanet, id)
	if err != nil {
		return abi.Record{}, err
	}
	return rec.abi(), nil
}

// record returns one record of a datanet, whole.
func (r *Registry) record(ctx context.Context, datanet, id string) (*Record, error) {
	if err := checkDatanet(datanet); err != nil {
		return nil, err
	}
	if err := checkRecordID(id); err != nil {
		return nil, err
	}
	rec, err := r.readRecord(datanet, id)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, errorf(abi.CodeNotFound, "no record %s in %s", id, datanet)
	}
	if err != nil {
		return nil, fmt.Errorf("registry: get %s/%s: %w", datanet, id, err)
	}
	return &rec, nil
}

// readRecord reads one record of datanet, from the record cache when it
// holds it.
func (r *Registry) readRecord(datanet, id string) (Record, error) {
	if rec, ok := r.records.get(datanet, id); ok {
		return rec, nil
	}
	return r.loadRecord(datanet, id)
}

// loadRecord reads one record of datanet from Badger and keeps it in the
// record cache.
func (r *Registry) loadRecord(datanet, id string) (Record, error) {
	var rec Record
	if err := r.db.View(func(txn *badger.Txn) error { return kv.GetJSON(txn, recordKey(datanet, id), &rec) }); err != nil {
		return Record{}, err
	}
	r.records.put(datanet, id, rec)
	return rec, nil
}

func (rec Record) abi() abi.Record {
	return abi.Record{Datanet: rec.Datanet, ID: rec.ID, Contributor: rec.Contributor, Content: rec.Content}
}

// snapshot calls head with a datanet's version, then fn for each of its
// records at that version, all from one consistent read.
func (r *Registry) snapshot(ctx context.Context, datanet string, head func(version uint64), fn func(Record) error) error {
	if err := checkDatanet(datanet); err != nil {
		return err
	}
	return r.db.View(func(txn *badger.Txn) error {
		var d Datanet
		if err := kv.GetJSON(txn, datanetKey(datanet), &d); errors.Is(err, badger.ErrKeyNotFound) {
			return errorf(abi.CodeNotFound, "no datanet %s", datanet)
		} else if err != nil {
			return err
		}
		head(d.Version)
		return eachRecord(ctx, txn, datanet, fn)
	})
}

// Records calls fn for every record of a datanet in id order.
func (r *Registry) Records(ctx context.Context, datanet string, fn func(Record) error) error {
	if err := checkDatanet(datanet); err != nil {
		return err
	}
	return r.db.View(func(txn *badger.Txn) error { return eachRecord(ctx, txn, datanet, fn) })
}

func eachRecord(ctx context.Context, txn *badger.Txn, datanet string, fn func(Record) error) error {
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 64, Prefix: recordPrefix(datanet)})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		var rec Record
		if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &rec) }); err != nil {
			return err
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func getString(txn *badger.Txn, key []byte) (string, error) {
	b, err := kv.GetBytes(txn, key)
	return string(b), err
}

// Yank marks a published version so that it takes no new invocations. Its
// bytes stay, so receipts that name it can still be verified. sig is the
// signature of [Domain.YankDigest] by the version's publisher, the name's
// owner or the operator. name@latest moves to the highest version not
// yanked (or, if none is left, resolves to nothing).
func (r *Registry) Yank(ctx context.Context, ref string, sig []byte) error {
	name, version, err := ParseRef(ref)
	if err != nil {
		return err
	}
	if version == "latest" {
		return errorf(abi.CodeBadRequest, "yank a version, not %s", ref)
	}
	signer, err := Recover(r.domain.YankDigest(name, version), sig)
	if err != nil {
		return err
	}
	err = r.db.Update(func(txn *badger.Txn) error {
		var p Plugin
		if err := kv.GetJSON(txn, pluginKey(name, version), &p); errors.Is(err, badger.ErrKeyNotFound) {
			return errorf(abi.CodeNotFound, "no plugin %s", ref)
		} else if err != nil {
			return err
		}
		owner, err := getString(txn, ownerKey(name))
		if err != nil {
			return err
		}
		if signer != p.Manifest.Publisher && signer != owner && signer != r.operator {
			return errorf(abi.CodeBadSignature, "%s may not yank %s, published by %s", signer, ref, p.Manifest.Publisher)
		}
		p.Yanked, p.YankedAt = true, time.Now().UTC()
		if err := kv.SetJSON(txn, pluginKey(name, version), &p); err != nil {
			return err
		}
		if err := setLatest(txn, name); err != nil {
			return err
		}
		r.forget(name + "@" + version)
		return nil
	})
	r.forget(name + "@" + version)
	return err
}

// forget drops a plugin from the verified cache. Yank calls it inside its
// write, and again after: a Load between the two may not cache the old
// state for good.
func (r *Registry) forget(key string) {
	r.verifiedMu.Lock()
	delete(r.verified, key)
	r.verifiedGen++
	r.verifiedMu.Unlock()
}

// noLatest is the error for a name@latest that resolves to nothing,
// saying why when the name has versions.
func (r *Registry) noLatest(name string) error {
	var versions []string
	err := r.db.View(func(txn *badger.Txn) error {
		prefix := pluginKey(name, "")
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid() && len(versions) < 8; it.Next() {
			versions = append(versions, string(it.Item().Key()[len(prefix):]))
		}
		return nil
	})
	switch {
	case err != nil:
		return fmt.Errorf("registry: load %s@latest: %w", name, err)
	case len(versions) == 0:
		return errorf(abi.CodeNotFound, "no plugin %s@latest", name)
	}
	return errorf(abi.CodeNotFound, "%s@latest: %s has no release that is not yanked (latest never resolves to a pre-release); name a version exactly, such as %s@%s", name, name, name, versions[len(versions)-1])
}

// isPreRelease reports whether a valid version (versionRE) is a
// pre-release, such as 2.0.0-rc.1.
func isPreRelease(version string) bool { return semver.Prerelease("v"+version) != "" }

// repairLatest moves any name@latest that a registry written before
// pre-releases were kept out of latest points at a pre-release.
func (r *Registry) repairLatest() error {
	var names []string
	err := r.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, Prefix: []byte("l/")})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			if isPreRelease(string(v)) {
				names = append(names, string(it.Item().Key()[len("l/"):]))
			}
		}
		return nil
	})
	for _, name := range names {
		if err != nil {
			break
		}
		err = r.db.Update(func(txn *badger.Txn) error { return setLatest(txn, name) })
	}
	if err != nil {
		return fmt.Errorf("registry: repair latest: %w", err)
	}
	return nil
}

// setLatest points name@latest at its highest semantic version that is
// neither yanked nor a pre-release, or at none.
func setLatest(txn *badger.Txn, name string) error {
	var latest *Plugin
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, Prefix: pluginKey(name, "")})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		var p Plugin
		if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &p) }); err != nil {
			return err
		}
		if !p.Yanked && !isPreRelease(p.Manifest.Version) && (latest == nil || compareVersions(p.Manifest.Version, latest.Manifest.Version) > 0) {
			latest = &p
		}
	}
	if latest == nil {
		return txn.Delete(latestKey(name))
	}
	return txn.Set(latestKey(name), []byte(latest.Manifest.Version))
}

// compareVersions orders two valid versions (versionRE) by semantic
// version precedence: -1, 0 or +1.
func compareVersions(a, b string) int {
	return semver.Compare("v"+a, "v"+b)
}

// Plugins lists published plugin versions in name@version order, after
// the ref after ("" from the start), at most limit of them, without their
// modules.
func (r *Registry) Plugins(ctx context.Context, after string, limit int) ([]*Plugin, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	var out []*Plugin
	err := r.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, Prefix: []byte("p/")})
		defer it.Close()
		start := []byte("p/")
		if after != "" {
			start = append([]byte("p/"+after), 0)
		}
		for it.Seek(start); it.Valid() && len(out) < limit; it.Next() {
			var p Plugin
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &p) }); err != nil {
				return err
			}
			out = append(out, &p)
		}
		return nil
	})
	return out, err
}

// Module returns the module bytes whose sha256 is hash, checked against it,
// so anyone can re-run a plugin a receipt names.
func (r *Registry) Module(ctx context.Context, hash string) ([]byte, error) {
	var b []byte
	err := r.db.View(func(txn *badger.Txn) (err error) {
		b, err = kv.GetBytes(txn, blobKey(strings.ToLower(hash)))
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, errorf(abi.CodeNotFound, "no module %.64s", hash)
	}
	if err != nil {
		return nil, err
	}
	if sha256Hex(b) != strings.ToLower(hash) {
		return nil, errorf(abi.CodeHashMismatch, "stored module does not hash to %s", hash)
	}
	return b, nil
}
