package kv

import (
	"bytes"
	"errors"

	"github.com/dgraph-io/badger/v4"
)

// Badger is a Store in a Badger database.
type Badger struct{ db *badger.DB }

// NewBadger wraps an open Badger database; closing the store closes it.
func NewBadger(db *badger.DB) *Badger { return &Badger{db: db} }

// DB is the Badger database under the store.
func (b *Badger) DB() *badger.DB { return b.db }

func (b *Badger) View(fn func(Txn) error) error {
	return badgerErr(b.db.View(func(t *badger.Txn) error { return fn(badgerTxn{t}) }))
}

func (b *Badger) Update(fn func(Txn) error) error {
	if b.db.Opts().ReadOnly {
		return ErrReadOnly
	}
	return badgerErr(b.db.Update(func(t *badger.Txn) error { return fn(badgerTxn{t}) }))
}

func (b *Badger) Begin() (Tx, error) {
	if b.db.Opts().ReadOnly {
		return nil, ErrReadOnly
	}
	return badgerTx{badgerTxn{b.db.NewTransaction(true)}}, nil
}

func (b *Badger) Close() error { return b.db.Close() }

// badgerErr maps Badger's errors to the package's.
func badgerErr(err error) error {
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		return ErrNotFound
	case errors.Is(err, badger.ErrConflict):
		return ErrConflict
	}
	return err
}

type badgerTxn struct{ t *badger.Txn }

func (t badgerTxn) Get(key []byte) ([]byte, error) {
	item, err := t.t.Get(key)
	if err != nil {
		return nil, badgerErr(err)
	}
	return item.ValueCopy(nil)
}

func (t badgerTxn) Set(key, value []byte) error { return t.t.Set(key, value) }
func (t badgerTxn) Delete(key []byte) error     { return t.t.Delete(key) }

func (t badgerTxn) NewIterator(opts IterOptions) Iterator {
	it := t.t.NewIterator(badger.IteratorOptions{Prefix: opts.Prefix, PrefetchValues: !opts.KeysOnly, PrefetchSize: 64})
	return &badgerIter{it: it, prefix: opts.Prefix}
}

type badgerTx struct{ badgerTxn }

func (t badgerTx) Commit() error { return badgerErr(t.t.Commit()) }
func (t badgerTx) Discard()      { t.t.Discard() }

type badgerIter struct {
	it     *badger.Iterator
	prefix []byte
}

func (i *badgerIter) Rewind() { i.it.Rewind() }
func (i *badgerIter) Seek(key []byte) {
	if bytes.Compare(key, i.prefix) < 0 {
		key = i.prefix
	}
	i.it.Seek(key)
}
func (i *badgerIter) Valid() bool            { return i.it.Valid() }
func (i *badgerIter) Next()                  { i.it.Next() }
func (i *badgerIter) Key() []byte            { return i.it.Item().Key() }
func (i *badgerIter) Value() ([]byte, error) { return i.it.Item().ValueCopy(nil) }
func (i *badgerIter) Close()                 { i.it.Close() }
