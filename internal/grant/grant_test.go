package grant

import (
	"encoding/json"
	"testing"
)

func TestAllows(t *testing.T) {
	l := List{"acme/docs", "acme/faq"}
	for _, tc := range []struct {
		datanet string
		want    bool
	}{
		{"acme/docs", true},
		{"acme/faq", true},
		{"acme/doc", false},
		{"", false},
	} {
		if got := l.Allows(tc.datanet); got != tc.want {
			t.Errorf("Allows(%q) = %v, want %v", tc.datanet, got, tc.want)
		}
	}
	if (List)(nil).Allows("acme/docs") {
		t.Error("an empty list allows a datanet")
	}
}

// TestJSON checks a List encodes exactly as the []string it replaced:
// manifests carrying one are signed over their JSON.
func TestJSON(t *testing.T) {
	for _, l := range []List{nil, {}, {"acme/docs", "b"}} {
		got, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal([]string(l))
		if string(got) != string(want) {
			t.Errorf("Marshal(%#v) = %s, want %s", l, got, want)
		}
	}
}
