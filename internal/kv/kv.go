// Package kv holds the Badger helpers the ledger and the registry share:
// values stored as JSON, raw values, and the stamp of a store's key layout.
package kv

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// GetJSON decodes the value at key into v; badger.ErrKeyNotFound if none.
func GetJSON(txn *badger.Txn, key []byte, v any) error {
	item, err := txn.Get(key)
	if err != nil {
		return err
	}
	return item.Value(func(b []byte) error { return json.Unmarshal(b, v) })
}

// SetJSON stores v at key as JSON.
func SetJSON(txn *badger.Txn, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return txn.Set(key, b)
}

// GetBytes returns a copy of the value at key; badger.ErrKeyNotFound if none.
func GetBytes(txn *badger.Txn, key []byte) ([]byte, error) {
	item, err := txn.Get(key)
	if err != nil {
		return nil, err
	}
	return item.ValueCopy(nil)
}

// layoutKey holds the version of a store's key layout.
var layoutKey = []byte("m/format")

// Layout stamps an empty store with layout version want and reports the
// layout of one already written: "" when it is want, else the version found
// ("1" for a store with keys but no stamp, written before stamps existed).
// A read-only store is never stamped.
func Layout(db *badger.DB, want int, readOnly bool) (have string, err error) {
	update := db.Update
	if readOnly {
		update = db.View
	}
	err = update(func(txn *badger.Txn) error {
		got, err := GetBytes(txn, layoutKey)
		switch {
		case err == nil:
			if string(got) != fmt.Sprint(want) {
				have = string(got)
			}
			return nil
		case !errors.Is(err, badger.ErrKeyNotFound):
			return err
		}
		it := txn.NewIterator(badger.IteratorOptions{})
		it.Rewind()
		used := it.Valid()
		it.Close()
		if used {
			have = "1"
			return nil
		}
		if readOnly {
			return nil
		}
		return txn.Set(layoutKey, []byte(fmt.Sprint(want)))
	})
	return have, err
}
