package api

import (
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
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

// A long output is traced over its first MaxTraceBytes, cut at a space,
// or at a rune when one word is longer than that.
func TestTraceCut(t *testing.T) {
	if s, partial := traceCut("short text"); s != "short text" || partial {
		t.Fatalf("short: %q %v", s, partial)
	}
	long := strings.Repeat("word ", MaxTraceBytes/5) + "é tail"
	s, partial := traceCut(long)
	if !partial || len(s) > MaxTraceBytes || !strings.HasPrefix(long, s) || !strings.HasSuffix(s, "word") && !strings.HasSuffix(s, "word ") {
		t.Fatalf("cut %d bytes, partial %v, ends %q", len(s), partial, s[max(0, len(s)-8):])
	}
	one := strings.Repeat("é", MaxTraceBytes) // a single word of two-byte runes
	s, partial = traceCut(one)
	if !partial || !utf8.ValidString(s) || len(s) > MaxTraceBytes || len(s) < MaxTraceBytes-1 {
		t.Fatalf("one long word: cut %d bytes, valid %v", len(s), utf8.ValidString(s))
	}
}
