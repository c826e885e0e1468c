package registry

import (
	"fmt"
	"strings"
	"testing"
)

// TestRecordCacheIsBoundedAndKeepsItsOwnCopy: the cache never holds more
// than its bound, drops the least recently used first, and what a caller
// does to a record it was given never reaches the next caller.
func TestRecordCacheIsBoundedAndKeepsItsOwnCopy(t *testing.T) {
	const max = 64 << 10
	c := newRecordCache(max)
	rec := func(i int) Record {
		return Record{Datanet: "d", ID: fmt.Sprint(i), Content: strings.Repeat("x", 1000), Signature: []byte{1, 2, 3}}
	}
	for i := range 200 {
		c.put("d", fmt.Sprint(i), rec(i))
		if _, ok := c.get("d", "0"); !ok && i < 40 {
			t.Fatalf("record 0, used after every put, was dropped at put %d", i)
		}
		if c.bytes > max {
			t.Fatalf("cache holds %d bytes, bound %d", c.bytes, max)
		}
	}
	if _, ok := c.get("d", "1"); ok {
		t.Fatal("the least recently used record was kept past the bound")
	}
	if _, ok := c.get("d", "199"); !ok {
		t.Fatal("the last record put was dropped")
	}
	if _, ok := c.get("e", "199"); ok {
		t.Fatal("a record was found under another datanet")
	}
	got, _ := c.get("d", "199")
	got.Signature[0] = 9
	again, _ := c.get("d", "199")
	if again.Signature[0] != 1 {
		t.Fatal("a caller's change to a cached record reached the cache")
	}
	big := Record{Content: strings.Repeat("y", max)}
	c.put("d", "big", big)
	if _, ok := c.get("d", "big"); ok || c.bytes > max {
		t.Fatal("a record larger than the cache's share was kept")
	}
}
