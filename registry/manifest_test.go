package registry_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/registry"
)

// An attribution plugin declares the few short methods it may name in a
// receipt; a manifest declaring none has one, its name.
func TestManifestMethods(t *testing.T) {
	base := registry.Manifest{Name: "acme/attr", Version: "1.0.0", Kind: abi.KindAttribution, WasmSHA256: strings.Repeat("a", 64),
		Publisher: "0x0000000000000000000000000000000000000001"}
	many := make([]string, registry.MaxMethods+1)
	for i := range many {
		many[i] = fmt.Sprint("m/v", i)
	}
	cases := []struct {
		name    string
		kind    string
		methods []string
		ok      bool
	}{
		{"none", abi.KindAttribution, nil, true},
		{"declared", abi.KindAttribution, []string{"ngram/v1", "ngram/v1:access-bytes"}, true},
		{"as many as allowed", abi.KindAttribution, many[:registry.MaxMethods], true},
		{"too many", abi.KindAttribution, many, false},
		{"too long", abi.KindAttribution, []string{strings.Repeat("a", 65)}, false},
		{"empty", abi.KindAttribution, []string{""}, false},
		{"free text", abi.KindAttribution, []string{"has space"}, false},
		{"the host's failed:", abi.KindAttribution, []string{"failed:x"}, false},
		{"the host's fallback:", abi.KindAttribution, []string{"fallback:x"}, false},
		{"twice", abi.KindAttribution, []string{"a/v1", "a/v1"}, false},
		{"on an agent", abi.KindAgent, []string{"a/v1"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := base
			m.Kind, m.Methods = c.kind, c.methods
			if err := m.Validate(); (err == nil) != c.ok || (err != nil && abi.CodeOf(err) != abi.CodeBadRequest) {
				t.Fatalf("Validate = %v, want ok %v", err, c.ok)
			}
		})
	}
	if got := base.DeclaredMethods(); !reflect.DeepEqual(got, []string{"acme/attr"}) {
		t.Fatalf("declared methods of a manifest without any: %v", got)
	}
	if got := (registry.Manifest{Kind: abi.KindAgent}).AttributionName(); got != "builtin/ngram" {
		t.Fatalf("an agent naming no attribution plugin gets %q", got)
	}
}
