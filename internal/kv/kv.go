// Package kv is the ordered, transactional key-value store the ledger and
// the registry keep their state in, with two engines behind one interface:
// Badger in a local directory (the embedded default) and PostgreSQL (a
// store shared by many hosts). It also holds the helpers both packages
// share: values stored as JSON, raw values, and the stamp of a store's key
// layout.
package kv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// ErrNotFound is returned by Get for a key with no value.
var ErrNotFound = errors.New("kv: key not found")

// ErrConflict is returned when committing an update that read or wrote a
// key another transaction changed since it began; nothing of it was
// written, and it may be retried.
var ErrConflict = errors.New("kv: transaction conflict")

// ErrReadOnly is returned by every write to a store opened read-only.
var ErrReadOnly = errors.New("kv: store is read-only")

// Store is an ordered key-value store with snapshot reads and serializable
// updates. It is safe for concurrent use.
type Store interface {
	// View runs fn in a read-only transaction over one snapshot.
	View(fn func(Txn) error) error
	// Update runs fn in a read-write transaction and commits it if fn
	// returns nil; nothing is written if fn or the commit fails. Update
	// never retries: a conflict returns ErrConflict.
	Update(fn func(Txn) error) error
	// Begin opens a read-write transaction its caller commits or discards.
	Begin() (Tx, error)
	Close() error
}

// Txn reads and writes within one transaction. Reads see the
// transaction's own writes. Slices it returns are the caller's to keep;
// slices passed to Set must not change until the transaction ends.
type Txn interface {
	// Get returns the value at key, or ErrNotFound.
	Get(key []byte) ([]byte, error)
	Set(key, value []byte) error
	Delete(key []byte) error
	// NewIterator walks the keys with opts.Prefix in ascending order. An
	// iterator must be closed before the transaction ends. A read that fails
	// mid-walk ends the walk and fails the transaction.
	NewIterator(opts IterOptions) Iterator
}

// Tx is a transaction opened by Begin.
type Tx interface {
	Txn
	// Commit writes the transaction; ErrConflict if another changed what
	// it read or wrote.
	Commit() error
	// Discard ends the transaction without writing; after Commit it does
	// nothing.
	Discard()
}

// IterOptions says which keys an iterator walks.
type IterOptions struct {
	Prefix []byte
	// KeysOnly says the caller reads keys and few values, so values need
	// not be fetched ahead.
	KeysOnly bool
}

// Iterator walks keys in ascending order.
type Iterator interface {
	// Rewind moves to the first key with the prefix.
	Rewind()
	// Seek moves to the first key with the prefix at or after key.
	Seek(key []byte)
	Valid() bool
	Next()
	// Key is the current key, valid until Next.
	Key() []byte
	// Value is a copy of the current value.
	Value() ([]byte, error)
	Close()
}

// GetJSON decodes the value at key into v; ErrNotFound if none.
func GetJSON(txn Txn, key []byte, v any) error {
	b, err := txn.Get(key)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// SetJSON stores v at key as JSON.
func SetJSON(txn Txn, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return txn.Set(key, b)
}

// Get reads one key in a read of its own: on PostgreSQL one statement,
// without a transaction around it (a lone read is its own snapshot).
func Get(s Store, key []byte) ([]byte, error) {
	if g, ok := s.(interface{ Get([]byte) ([]byte, error) }); ok {
		return g.Get(key)
	}
	var v []byte
	err := s.View(func(txn Txn) (err error) { v, err = txn.Get(key); return err })
	return v, err
}

// MaxConflictRetries bounds how often a transaction that conflicted with
// another writer's (ErrConflict) is run again.
const MaxConflictRetries = 32

// Backoff waits before the try'th retry of a transaction that conflicted:
// exponential from 200 µs, capped at 12.8 ms, with jitter so that writers
// that conflicted do not meet again.
func Backoff(try int) {
	d := time.Duration(1<<min(try, 6)) * 200 * time.Microsecond
	time.Sleep(d/2 + rand.N(d/2+1))
}

// UpdateRetrying runs fn in an update of s, again (from the start, after
// Backoff) while it conflicts with another writer's, at most
// MaxConflictRetries times. fn must leave nothing behind but what it writes
// in the transaction and what it sets afresh on each run.
func UpdateRetrying(s Store, fn func(Txn) error) error {
	for try := 0; ; try++ {
		err := s.Update(fn)
		if !errors.Is(err, ErrConflict) || try == MaxConflictRetries {
			return err
		}
		Backoff(try)
	}
}

// GetBytes returns the value at key; ErrNotFound if none.
func GetBytes(txn Txn, key []byte) ([]byte, error) { return txn.Get(key) }

// layoutKey holds the version of a store's key layout.
var layoutKey = []byte("m/format")

// Layout stamps an empty store with layout version want and reports the
// layout of one already written: "" when it is want, else the version found
// ("1" for a store with keys but no stamp, written before stamps existed).
// A read-only store is never stamped.
func Layout(db Store, want int, readOnly bool) (have string, err error) {
	update := db.Update
	if readOnly {
		update = db.View
	}
	err = update(func(txn Txn) error {
		got, err := txn.Get(layoutKey)
		switch {
		case err == nil:
			if string(got) != fmt.Sprint(want) {
				have = string(got)
			}
			return nil
		case !errors.Is(err, ErrNotFound):
			return err
		}
		it := txn.NewIterator(IterOptions{KeysOnly: true})
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

// PrefixEnd is the first key after every key with prefix p, or nil when
// none is (p empty or all 0xff).
func PrefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// ValueOf calls fn with the iterator's current value.
func ValueOf(it Iterator, fn func(v []byte) error) error {
	v, err := it.Value()
	if err != nil {
		return err
	}
	return fn(v)
}
