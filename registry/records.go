package registry

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/kv"
)

// MaxRecordBytes bounds the content of one record.
const MaxRecordBytes = 64 << 10

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
	err = r.update(func(txn kv.Txn) error {
		var d Datanet
		if err := kv.GetJSON(txn, datanetKey(datanet), &d); errors.Is(err, kv.ErrNotFound) {
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
		} else if !errors.Is(err, kv.ErrNotFound) {
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
		rec = &Record{Datanet: datanet, ID: id, Contributor: contributor, Content: content, Signature: sig}
		if err := appendRecord(txn, datanet, &d, rec, time.Now().UTC()); err != nil {
			return err
		}
		return kv.SetJSON(txn, datanetKey(datanet), d)
	})
	if err != nil {
		return nil, false, err
	}
	if !dup {
		r.indexAppended(datanet, []*Record{rec})
	}
	return rec, dup, nil
}

// appendRecord makes rec the next version of datanet, whose record is d,
// in txn: it extends d's Merkle frontier and writes rec, the version's
// root and the version's place in the order of records. The caller
// stores d.
func appendRecord(txn kv.Txn, datanet string, d *Datanet, rec *Record, now time.Time) error {
	d.Version++
	d.Frontier = appendLeaf(d.Frontier, leafHash(rec.ID))
	d.Root = hex.EncodeToString(frontierRoot(d.Frontier))
	rec.Version, rec.Added = d.Version, now
	if err := kv.SetJSON(txn, recordKey(datanet, rec.ID), rec); err != nil {
		return err
	}
	if err := txn.Set(versionKey(datanet, d.Version), []byte(d.Root)); err != nil {
		return err
	}
	return txn.Set(versionIDKey(datanet, d.Version), []byte(rec.ID))
}

// indexAppended brings the datanet's loaded indexes up to date with recs,
// the records just appended to it; those without a version were not.
// r.mu must be held.
func (r *Registry) indexAppended(datanet string, recs []*Record) {
	// Versions other hosts appended before these (a shared store) go in
	// first, so each index holds an unbroken run of versions; one that
	// cannot read them is dropped, to be rebuilt on its next use.
	first := uint64(0)
	for _, rec := range recs {
		if rec.Version > 0 && (first == 0 || rec.Version < first) {
			first = rec.Version
		}
	}
	if first > 1 {
		if ix := r.corpus[datanet]; ix != nil && r.feedCorpusLocked(datanet, ix, first-1) != nil {
			dropIndex(r.corpus, datanet, ix)
		}
		if ix := r.search[datanet]; ix != nil && ix.isReady() && r.feedSearchLocked(datanet, ix, first-1) != nil {
			dropIndex(r.search, datanet, ix)
		}
	}
	if ix := r.corpus[datanet]; ix != nil {
		for _, rec := range recs {
			if rec.Version > 0 {
				ix.appended(*rec)
			}
		}
	}
	if ix := r.search[datanet]; ix != nil {
		for _, rec := range recs {
			if rec.Version > 0 && !ix.add(rec.Version, rec.ID, rec.Content) {
				delete(r.search, datanet) // out of step: rebuilt on next use
				break
			}
		}
	}
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
	if errors.Is(err, kv.ErrNotFound) {
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
	if err := r.db.View(func(txn kv.Txn) error { return kv.GetJSON(txn, recordKey(datanet, id), &rec) }); err != nil {
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
	return r.db.View(func(txn kv.Txn) error {
		var d Datanet
		if err := kv.GetJSON(txn, datanetKey(datanet), &d); errors.Is(err, kv.ErrNotFound) {
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
	return r.db.View(func(txn kv.Txn) error { return eachRecord(ctx, txn, datanet, fn) })
}

func eachRecord(ctx context.Context, txn kv.Txn, datanet string, fn func(Record) error) error {
	it := txn.NewIterator(kv.IterOptions{Prefix: recordPrefix(datanet)})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		var rec Record
		if err := kv.ValueOf(it, func(v []byte) error { return json.Unmarshal(v, &rec) }); err != nil {
			return err
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

// Each append also records which record it added, so a datanet's records
// can be listed in the order they were added (the order its Merkle tree is
// built in): n/<datanet><version, 8 bytes big-endian> -> record id.
func versionIDKey(datanet string, v uint64) []byte {
	return binary.BigEndian.AppendUint64(scoped("n/", datanet), v)
}

// indexVersions writes the version index of datanets appended to before
// the registry kept one, once per datanet.
func (r *Registry) indexVersions() error {
	var stale []Datanet
	err := r.db.View(func(txn kv.Txn) error {
		it := txn.NewIterator(kv.IterOptions{Prefix: []byte("d/")})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var d Datanet
			if err := kv.ValueOf(it, func(v []byte) error { return json.Unmarshal(v, &d) }); err != nil {
				return err
			}
			if d.Version == 0 {
				continue
			}
			if _, err := txn.Get(versionIDKey(d.Name, d.Version)); errors.Is(err, kv.ErrNotFound) {
				stale = append(stale, d)
			} else if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, d := range stale {
		var keys, ids [][]byte
		err := r.Records(context.Background(), d.Name, func(rec Record) error {
			keys, ids = append(keys, versionIDKey(d.Name, rec.Version)), append(ids, []byte(rec.ID))
			return nil
		})
		for i := 0; err == nil && i < len(keys); i += 10_000 {
			err = r.update(func(txn kv.Txn) error {
				for j := i; j < min(i+10_000, len(keys)); j++ {
					if err := txn.Set(keys[j], ids[j]); err != nil {
						return err
					}
				}
				return nil
			})
		}
		if err != nil {
			return fmt.Errorf("registry: index the versions of %s: %w", d.Name, err)
		}
	}
	return nil
}

// MaxListBytes bounds the record content one RecordsAt page returns (it
// holds at least one record).
const MaxListBytes = 4 << 20

// RecordsAt returns up to limit records of a datanet in the order they were
// added, from version after+1 up to version at (0: the current version),
// and the version listed.
func (r *Registry) RecordsAt(ctx context.Context, datanet string, at, after uint64, limit int) (recs []Record, version uint64, err error) {
	if err := checkDatanet(datanet); err != nil {
		return nil, 0, err
	}
	err = r.db.View(func(txn kv.Txn) error {
		var d Datanet
		if err := kv.GetJSON(txn, datanetKey(datanet), &d); errors.Is(err, kv.ErrNotFound) {
			return errorf(abi.CodeNotFound, "no datanet %s", datanet)
		} else if err != nil {
			return err
		}
		switch {
		case at == 0:
			at = d.Version
		case at > d.Version:
			return errorf(abi.CodeNotFound, "datanet %s has no version %d (it is at %d)", datanet, at, d.Version)
		}
		version = at
		size := 0
		// The version index is walked, not looked up key by key: its keys
		// lie in version order.
		it := txn.NewIterator(kv.IterOptions{Prefix: scoped("n/", datanet)})
		defer it.Close()
		it.Seek(versionIDKey(datanet, after+1))
		for v := after + 1; v <= at && v > after && len(recs) < limit && size < MaxListBytes; v++ {
			if !it.Valid() || !bytes.Equal(it.Key(), versionIDKey(datanet, v)) {
				return fmt.Errorf("registry: %s version %d: %w", datanet, v, kv.ErrNotFound)
			}
			id, err := it.Value()
			if err != nil {
				return fmt.Errorf("registry: %s version %d: %w", datanet, v, err)
			}
			it.Next()
			var rec Record
			if err := kv.GetJSON(txn, recordKey(datanet, string(id)), &rec); err != nil {
				return fmt.Errorf("registry: %s record %s: %w", datanet, id, err)
			}
			recs = append(recs, rec)
			size += len(rec.Content)
		}
		return nil
	})
	return recs, version, err
}

// MirrorDatanet creates a datanet as another node holds it, without its
// owner's signature, in a scratch registry (Options.Scratch) that a
// verifier fills with records it downloaded: their own signatures and the
// version roots are what it checks.
func (r *Registry) MirrorDatanet(ctx context.Context, d Datanet) error {
	if !r.scratch {
		return errorf(abi.CodeInternal, "registry: only a scratch registry mirrors datanets")
	}
	d.Version, d.Root, d.Frontier = 0, "", nil
	return r.update(func(txn kv.Txn) error {
		if _, err := txn.Get(datanetKey(d.Name)); err == nil {
			return errorf(abi.CodeAlreadyExists, "datanet %s exists", d.Name)
		}
		return kv.SetJSON(txn, datanetKey(d.Name), d)
	})
}
