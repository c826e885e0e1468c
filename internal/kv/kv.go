// Package kv holds the Badger helpers the ledger and the registry share:
// values stored as JSON.
package kv

import (
	"encoding/json"

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
