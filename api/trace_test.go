package api

import (
	"testing"
	"unicode/utf16"
)

// A span's byte offsets become the offsets a browser's string indexes.
func TestUTF16Offsets(t *testing.T) {
	s := "naïve 🐝 bees é"
	off := utf16Offsets(s)
	if len(off) != len(s)+1 {
		t.Fatalf("%d offsets for %d bytes", len(off), len(s))
	}
	units := utf16.Encode([]rune(s))
	for i := range s { // every rune start
		want := len(utf16.Encode([]rune(s[:i])))
		if off[i] != want {
			t.Fatalf("byte %d: UTF-16 offset %d, want %d", i, off[i], want)
		}
	}
	if off[len(s)] != len(units) {
		t.Fatalf("end: %d, want %d", off[len(s)], len(units))
	}
}
