package ledger

import (
	"maps"
	"testing"
)

func TestVersions(t *testing.T) {
	onePass(t)
	if got := Versions(nil); len(got) != 0 {
		t.Fatalf("Versions(nil) = %v, want empty", got)
	}
	vs := []DatanetVersion{{Name: "acme/docs", Version: 7, Root: "ab"}, {Name: "acme/faq", Version: 0}}
	want := map[string]uint64{"acme/docs": 7, "acme/faq": 0}
	if got := Versions(vs); !maps.Equal(got, want) {
		t.Fatalf("Versions(%v) = %v, want %v", vs, got, want)
	}
}
