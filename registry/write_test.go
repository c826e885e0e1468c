package registry_test

import (
	"context"
	"testing"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/registry"
)

// A datanet admits the built-in attribution plugins unless its owner names
// others; a name it does not admit is refused with grant_denied, and a
// name with a version is not a name.
func TestDatanetAdmitsTheAttributionItsOwnerNames(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	owner := key(t)
	newDatanet(t, r, owner, registry.Datanet{Name: "plain", Owner: registry.Address(owner)})
	newDatanet(t, r, owner, registry.Datanet{Name: "picky", Owner: registry.Address(owner),
		Policy: registry.Policy{Attribution: []string{"acme/spans"}}})
	if _, err := newDatanet(t, r, owner, registry.Datanet{Name: "versioned", Owner: registry.Address(owner),
		Policy: registry.Policy{Attribution: []string{"acme/spans@1.0.0"}}}); abi.CodeOf(err) != abi.CodeBadRequest {
		t.Fatalf("an attribution allowlist naming a version: %v", err)
	}
	cases := []struct {
		datanet, plugin string
		want            abi.Code
	}{
		{"plain", "builtin/ngram", ""},
		{"plain", "builtin/access", ""},
		{"plain", "builtin/other", abi.CodeGrantDenied},
		{"plain", "acme/spans", abi.CodeGrantDenied},
		{"picky", "acme/spans", ""},
		{"picky", "builtin/ngram", abi.CodeGrantDenied},
	}
	for _, c := range cases {
		t.Run(c.datanet+" "+c.plugin, func(t *testing.T) {
			d, err := r.Datanet(ctx, c.datanet)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.AllowsAttribution(c.plugin); abi.CodeOf(err) != c.want {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}
