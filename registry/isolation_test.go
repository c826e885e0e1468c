package registry_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/registry"
)

// twoTenants is a registry with datanet "pub" and, allow-listed to someone
// else, "pub/secret", whose name extends the first: the layout in which
// "r/<datanet>/<id>" keys aliased.
func twoTenants(t testing.TB) (r *registry.Registry, pubID, secretID string) {
	r = open(t)
	ctx := context.Background()
	owner := key(t)
	for _, d := range []string{"pub", "pub/secret", "pu"} {
		if _, err := newDatanet(t, r, owner, registry.Datanet{Name: d, Owner: registry.Address(owner)}); err != nil {
			t.Fatal(err)
		}
	}
	add := func(d, content string) string {
		sig, _ := registry.Sign(owner, registry.Domain{}.RecordDigest(d, content))
		rec, _, err := r.AddRecord(ctx, d, registry.Address(owner), content, sig)
		if err != nil {
			t.Fatal(err)
		}
		return rec.ID
	}
	pubID = add("pub", "public words about the sky")
	secretID = add("pub/secret", "secret words about the sky")
	return r, pubID, secretID
}

// No read through datanet "pub" reaches a record of "pub/secret", however
// the name and id are spelled.
func TestReadsDoNotCrossDatanets(t *testing.T) {
	r, pubID, secretID := twoTenants(t)
	ctx := context.Background()
	for _, c := range []struct{ datanet, id string }{
		{"pub", "secret/" + secretID},
		{"pub/", "secret/" + secretID},
		{"pub/secret/", secretID},
		{"pu", "b/secret/" + secretID},
		{"pub", secretID},
		{"pub", strings.ToUpper(pubID)},
		{"pub", pubID + "/"},
		{"../pub/secret", secretID},
	} {
		rec, err := r.Get(ctx, c.datanet, c.id)
		if err == nil {
			t.Fatalf("Get(%q, %q) read %s/%s", c.datanet, c.id, rec.Datanet, rec.ID)
		}
		if code := abi.CodeOf(err); code != abi.CodeNotFound && code != abi.CodeBadIdentifier {
			t.Fatalf("Get(%q, %q): %v", c.datanet, c.id, err)
		}
	}
	if rec, err := r.Get(ctx, "pub", pubID); err != nil || rec.Datanet != "pub" {
		t.Fatalf("the honest read failed: %+v %v", rec, err)
	}
	recs, err := r.Search(ctx, "pub", "secret words sky", 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		if rec.Datanet != "pub" {
			t.Fatalf("search of pub returned %s/%s", rec.Datanet, rec.ID)
		}
	}
	if len(recs) != 1 {
		t.Fatalf("search of pub found %d records, want its one", len(recs))
	}
	spans, err := r.CorpusMatch(ctx, "pub", "secret words about the sky", 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range spans {
		for _, id := range sp.Records {
			if id == secretID {
				t.Fatalf("corpus_match of pub found the secret record")
			}
		}
	}
}

// FuzzReadsStayInTheirDatanet: whatever datanet name and id a plugin sends,
// a record comes back only from the datanet it named, under the id it
// named.
func FuzzReadsStayInTheirDatanet(f *testing.F) {
	r, pubID, secretID := twoTenants(f)
	for _, s := range [][2]string{{"pub", "secret/" + secretID}, {"pub", pubID}, {"pub/secret", secretID}, {"pu", "b/secret/" + secretID}, {"pub\x00", secretID}, {"", ""}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, datanet, id string) {
		rec, err := r.Get(context.Background(), datanet, id)
		if err != nil {
			if code := abi.CodeOf(err); code != abi.CodeNotFound && code != abi.CodeBadIdentifier {
				t.Fatalf("Get(%q, %q): unexpected %v", datanet, id, err)
			}
			return
		}
		if rec.Datanet != datanet || rec.ID != id {
			t.Fatalf("Get(%q, %q) read %s/%s", datanet, id, rec.Datanet, rec.ID)
		}
	})
}
