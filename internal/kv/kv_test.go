package kv_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/tollgate-dev/tollgate/internal/kv"
	"github.com/tollgate-dev/tollgate/internal/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// engine opens a store, and reopens it (after Close) on the same data.
type engine struct {
	name   string
	open   func(t *testing.T) (reopen func(readOnly bool) kv.Store)
	native bool
}

var engines = []engine{
	{name: "badger", open: func(t *testing.T) func(bool) kv.Store {
		dir := t.TempDir()
		return func(ro bool) kv.Store {
			db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil).WithReadOnly(ro).WithSyncWrites(true))
			if err != nil {
				t.Fatal(err)
			}
			return kv.NewBadger(db)
		}
	}},
	{name: "postgres", open: func(t *testing.T) func(bool) kv.Store {
		dsn := pgtest.DSN(t)
		return func(ro bool) kv.Store {
			s, err := kv.OpenPostgres(context.Background(), dsn, kv.PostgresOptions{Store: kv.StoreLedger, ReadOnly: ro, Writer: !ro})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}},
}

// forEach runs the test against every engine.
func forEach(t *testing.T, test func(t *testing.T, open func(readOnly bool) kv.Store)) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) { test(t, e.open(t)) })
	}
}

func set(t *testing.T, s kv.Store, kvs ...string) {
	t.Helper()
	if err := s.Update(func(txn kv.Txn) error {
		for i := 0; i < len(kvs); i += 2 {
			if err := txn.Set([]byte(kvs[i]), []byte(kvs[i+1])); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, s kv.Store, k string) (string, error) {
	t.Helper()
	var v []byte
	err := s.View(func(txn kv.Txn) (err error) { v, err = txn.Get([]byte(k)); return err })
	return string(v), err
}

func walk(txn kv.Txn, prefix, seek string) (keys []string) {
	it := txn.NewIterator(kv.IterOptions{Prefix: []byte(prefix)})
	defer it.Close()
	if seek == "" {
		it.Rewind()
	} else {
		it.Seek([]byte(seek))
	}
	for ; it.Valid(); it.Next() {
		v, _ := it.Value()
		keys = append(keys, string(it.Key())+"="+string(v))
	}
	return keys
}

func TestGetSetDelete(t *testing.T) {
	forEach(t, func(t *testing.T, open func(bool) kv.Store) {
		s := open(false)
		defer s.Close()
		if _, err := get(t, s, "a"); !errors.Is(err, kv.ErrNotFound) {
			t.Fatalf("missing key: %v, want ErrNotFound", err)
		}
		set(t, s, "a", "1", "b", "", "c", "3")
		if v, err := get(t, s, "a"); v != "1" || err != nil {
			t.Fatalf("a = %q, %v", v, err)
		}
		if v, err := get(t, s, "b"); v != "" || err != nil {
			t.Fatalf("an empty value: %q, %v", v, err)
		}
		err := s.Update(func(txn kv.Txn) error {
			if err := txn.Delete([]byte("a")); err != nil {
				return err
			}
			if _, err := txn.Get([]byte("a")); !errors.Is(err, kv.ErrNotFound) {
				return fmt.Errorf("a deleted in this transaction: %v", err)
			}
			if err := txn.Set([]byte("c"), []byte("33")); err != nil {
				return err
			}
			if v, err := txn.Get([]byte("c")); string(v) != "33" || err != nil {
				return fmt.Errorf("own write: %q, %v", v, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := get(t, s, "a"); !errors.Is(err, kv.ErrNotFound) {
			t.Fatalf("deleted: %v", err)
		}
		if v, _ := get(t, s, "c"); v != "33" {
			t.Fatalf("c = %q", v)
		}
		// A failed update writes nothing.
		boom := errors.New("boom")
		if err := s.Update(func(txn kv.Txn) error { txn.Set([]byte("d"), []byte("4")); return boom }); err != boom {
			t.Fatal(err)
		}
		if _, err := get(t, s, "d"); !errors.Is(err, kv.ErrNotFound) {
			t.Fatalf("a failed update wrote: %v", err)
		}
		big := bytes.Repeat([]byte{0, 1, 0xff}, 1<<20)
		if err := s.Update(func(txn kv.Txn) error { return txn.Set([]byte("big"), big) }); err != nil {
			t.Fatal(err)
		}
		if v, err := get(t, s, "big"); v != string(big) || err != nil {
			t.Fatalf("3 MB value back: %d bytes, %v", len(v), err)
		}
	})
}

func TestIterationIsOrderedByBytes(t *testing.T) {
	forEach(t, func(t *testing.T, open func(bool) kv.Store) {
		s := open(false)
		defer s.Close()
		set(t, s, "p/b", "2", "p/a", "1", "p\xff", "x", "q", "y", "p/\xff\xff", "3", "p/\x00", "0", "o", "z")
		err := s.View(func(txn kv.Txn) error {
			if got, want := fmt.Sprint(walk(txn, "p/", "")), "[p/\x00=0 p/a=1 p/b=2 p/\xff\xff=3]"; got != want {
				t.Errorf("prefix p/: %q, want %q", got, want)
			}
			if got, want := fmt.Sprint(walk(txn, "p/", "p/b")), "[p/b=2 p/\xff\xff=3]"; got != want {
				t.Errorf("seek p/b: %q, want %q", got, want)
			}
			if got, want := fmt.Sprint(walk(txn, "p/", "a")), "[p/\x00=0 p/a=1 p/b=2 p/\xff\xff=3]"; got != want {
				t.Errorf("seek before the prefix: %q, want %q", got, want)
			}
			if got, want := fmt.Sprint(walk(txn, "p\xff", "")), "[p\xff=x]"; got != want {
				t.Errorf("prefix ending in 0xff: %q, want %q", got, want)
			}
			if got := len(walk(txn, "", "")); got != 7 {
				t.Errorf("every key: %d, want 7", got)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// Many keys, past any page, in order, with the transaction's own
		// writes and deletes, and reads between steps.
		err = s.Update(func(txn kv.Txn) error {
			for i := range 3000 {
				if err := txn.Set(fmt.Appendf(nil, "n/%05d", i), fmt.Appendf(nil, "%d", i)); err != nil {
					return err
				}
			}
			return txn.Delete([]byte("n/00007"))
		})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Update(func(txn kv.Txn) error {
			txn.Delete([]byte("n/00008"))
			txn.Set([]byte("n/00008x"), []byte("x"))
			it := txn.NewIterator(kv.IterOptions{Prefix: []byte("n/"), KeysOnly: true})
			defer it.Close()
			var n int
			var last []byte
			for it.Rewind(); it.Valid(); it.Next() {
				k := it.Key()
				if bytes.Compare(k, last) <= 0 {
					return fmt.Errorf("%q after %q", k, last)
				}
				last = bytes.Clone(k)
				if _, err := txn.Get([]byte("q")); err != nil {
					return err
				}
				if n == 1500 {
					if v, err := it.Value(); err != nil || !bytes.HasPrefix(k, []byte("n/")) || len(v) == 0 {
						return fmt.Errorf("value of a keys-only walk: %q, %v", v, err)
					}
				}
				n++
			}
			if n != 2999 {
				return fmt.Errorf("walked %d keys, want 2999", n)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestSnapshotsAndConflicts(t *testing.T) {
	forEach(t, func(t *testing.T, open func(bool) kv.Store) {
		s := open(false)
		defer s.Close()
		set(t, s, "k", "0")
		a, err := s.Begin()
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.Begin()
		if err != nil {
			t.Fatal(err)
		}
		defer a.Discard()
		defer b.Discard()
		for _, tx := range []kv.Tx{a, b} {
			if v, err := tx.Get([]byte("k")); string(v) != "0" || err != nil {
				t.Fatalf("k = %q, %v", v, err)
			}
		}
		a.Set([]byte("k"), []byte("a"))
		b.Set([]byte("k"), []byte("b"))
		if v, _ := get(t, s, "k"); v != "0" {
			t.Fatalf("an uncommitted write is visible: %q", v)
		}
		if err := a.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(); !errors.Is(err, kv.ErrConflict) {
			t.Fatalf("a lost update committed: %v, want ErrConflict", err)
		}
		if v, _ := get(t, s, "k"); v != "a" {
			t.Fatalf("k = %q after the conflict, want a", v)
		}

		// A read snapshot does not move.
		c, _ := s.Begin()
		defer c.Discard()
		c.Get([]byte("k"))
		set(t, s, "k", "later", "new", "1")
		if v, _ := c.Get([]byte("k")); string(v) != "a" {
			t.Fatalf("the snapshot moved: %q", v)
		}
		if _, err := c.Get([]byte("new")); !errors.Is(err, kv.ErrNotFound) {
			t.Fatalf("a later key is in the snapshot: %v", err)
		}

		d, _ := s.Begin()
		d.Set([]byte("discarded"), []byte("1"))
		d.Discard()
		if _, err := get(t, s, "discarded"); !errors.Is(err, kv.ErrNotFound) {
			t.Fatalf("a discarded write landed: %v", err)
		}
	})
}

func TestReopenAndReadOnly(t *testing.T) {
	forEach(t, func(t *testing.T, open func(bool) kv.Store) {
		s := open(false)
		if have, err := kv.Layout(s, 3, false); have != "" || err != nil {
			t.Fatalf("stamping an empty store: %q, %v", have, err)
		}
		set(t, s, "x", "1")
		s.Close()
		r := open(true)
		defer r.Close()
		if v, err := get(t, r, "x"); v != "1" || err != nil {
			t.Fatalf("after reopening: %q, %v", v, err)
		}
		if have, err := kv.Layout(r, 4, true); have != "3" || err != nil {
			t.Fatalf("layout of a store stamped 3, read as 4: %q, %v", have, err)
		}
		if err := r.Update(func(txn kv.Txn) error { return txn.Set([]byte("y"), nil) }); !errors.Is(err, kv.ErrReadOnly) {
			t.Fatalf("a write to a read-only store: %v", err)
		}
		if err := r.View(func(txn kv.Txn) error { return txn.Set([]byte("y"), nil) }); err == nil {
			t.Fatal("a write in a read transaction was accepted")
		}
	})
}

func TestPrefixEnd(t *testing.T) {
	for p, want := range map[string]string{"": "", "a": "b", "a\xff": "b", "\xff\xff": "", "ab\x00": "ab\x01"} {
		if got := string(kv.PrefixEnd([]byte(p))); got != want {
			t.Errorf("PrefixEnd(%q) = %q, want %q", p, got, want)
		}
	}
}

func TestAWalkWithoutPrefixSeesEveryKeyAndALayoutItsStamp(t *testing.T) {
	forEach(t, func(t *testing.T, open func(bool) kv.Store) {
		s := open(false)
		defer s.Close()
		set(t, s, "a", "1", "b", "2")
		var keys []string
		if err := s.View(func(txn kv.Txn) error {
			it := txn.NewIterator(kv.IterOptions{KeysOnly: true})
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				keys = append(keys, string(it.Key()))
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if strings.Join(keys, ",") != "a,b" {
			t.Fatalf("a walk with no prefix saw %q, want a,b", keys)
		}
		// Keys with no format stamp are books of the first layout, never
		// taken for an empty store.
		if have, err := kv.Layout(s, 2, false); err != nil || have != "1" {
			t.Fatalf("Layout of unstamped keys = %q, %v; want 1", have, err)
		}
	})
}

// Within a transaction, a key read, then written, then sent to the
// server (a walk sends pending writes) reads what was written.
func TestAReadKeyWrittenAndFlushedReadsTheWrite(t *testing.T) {
	forEach(t, func(t *testing.T, open func(bool) kv.Store) {
		s := open(false)
		defer s.Close()
		set(t, s, "k", "old")
		if err := s.Update(func(txn kv.Txn) error {
			if v, err := txn.Get([]byte("k")); err != nil || string(v) != "old" {
				return fmt.Errorf("first read: %q %v", v, err)
			}
			if _, err := txn.Get([]byte("absent")); !errors.Is(err, kv.ErrNotFound) {
				return fmt.Errorf("absent: %v", err)
			}
			txn.Set([]byte("k"), []byte("new"))
			txn.Set([]byte("absent"), []byte("here"))
			it := txn.NewIterator(kv.IterOptions{})
			it.Rewind()
			it.Close()
			if v, err := txn.Get([]byte("k")); err != nil || string(v) != "new" {
				return fmt.Errorf("read after the write was sent: %q %v", v, err)
			}
			if v, err := txn.Get([]byte("absent")); err != nil || string(v) != "here" {
				return fmt.Errorf("a key read absent, then written: %q %v", v, err)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
}
