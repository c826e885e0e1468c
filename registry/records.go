package registry

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/kv"
)

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
	err := r.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("d/")})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var d Datanet
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &d) }); err != nil {
				return err
			}
			if d.Version == 0 {
				continue
			}
			if _, err := txn.Get(versionIDKey(d.Name, d.Version)); errors.Is(err, badger.ErrKeyNotFound) {
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
		wb := r.db.NewWriteBatch()
		err := r.Records(context.Background(), d.Name, func(rec Record) error {
			return wb.Set(versionIDKey(d.Name, rec.Version), []byte(rec.ID))
		})
		if err == nil {
			err = wb.Flush()
		}
		wb.Cancel()
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
	err = r.db.View(func(txn *badger.Txn) error {
		var d Datanet
		if err := kv.GetJSON(txn, datanetKey(datanet), &d); errors.Is(err, badger.ErrKeyNotFound) {
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
		for v := after + 1; v <= at && v > after && len(recs) < limit && size < MaxListBytes; v++ {
			id, err := kv.GetBytes(txn, versionIDKey(datanet, v))
			if err != nil {
				return fmt.Errorf("registry: %s version %d: %w", datanet, v, err)
			}
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
	return r.db.Update(func(txn *badger.Txn) error {
		if _, err := txn.Get(datanetKey(d.Name)); err == nil {
			return errorf(abi.CodeAlreadyExists, "datanet %s exists", d.Name)
		}
		return kv.SetJSON(txn, datanetKey(d.Name), d)
	})
}
