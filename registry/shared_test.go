package registry_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/kv"
	"github.com/tollgate-dev/tollgate/internal/pgtest"
	"github.com/tollgate-dev/tollgate/registry"
)

// openHost opens a registry writing the shared store at dsn in one of
// seats writer seats, with its own index directory.
func openHost(t *testing.T, dsn string, seats int) *registry.Registry {
	t.Helper()
	s, err := kv.OpenPostgres(context.Background(), dsn, kv.PostgresOptions{Store: kv.StoreRegistry, Writer: true, Seats: seats})
	if err != nil {
		t.Fatal(err)
	}
	r, err := registry.OpenStore(s, t.TempDir(), registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// Two hosts append to one datanet at once, and each answers searches and
// verbatim matches over every record, whichever host appended it: an
// index catches up with the versions it has not seen before it answers.
func TestHostsSeeEachOthersRecords(t *testing.T) {
	if os.Getenv("TOLLGATE_TEST_STORE") != "postgres" {
		t.Skip("a registry shared by several hosts is kept in PostgreSQL")
	}
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	a, b := openHost(t, dsn, 2), openHost(t, dsn, 2)
	owner := key(t)
	if _, err := newDatanet(t, a, owner, registry.Datanet{Name: "facts", Owner: registry.Address(owner)}); err != nil {
		t.Fatal(err)
	}
	add := func(r *registry.Registry, c string) error {
		_, _, err := r.AddRecord(ctx, "facts", registry.Address(owner), c, sign(t, owner, registry.Domain{}.RecordDigest("facts", c)))
		return err
	}
	// Both build their indexes first, so what follows must reach built ones.
	if err := add(a, "the first record mentions zebras"); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*registry.Registry{a, b} {
		if got, err := r.Search(ctx, "facts", "zebras", 10); err != nil || len(got) != 1 {
			t.Fatalf("search before: %v %v", got, err)
		}
		if _, err := r.CorpusMatch(ctx, "facts", "the first record mentions zebras", 3); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for h, r := range []*registry.Registry{a, b} {
		wg.Go(func() {
			for i := range 10 {
				if err := add(r, fmt.Sprintf("host %d wrote giraffe fact number %d", h, i)); err != nil {
					t.Errorf("host %d append %d: %v", h, i, err)
				}
			}
		})
	}
	wg.Wait()
	for h, r := range []*registry.Registry{a, b} {
		d, err := r.Datanet(ctx, "facts")
		if err != nil || d.Version != 21 {
			t.Fatalf("host %d: datanet %v, %v; want version 21", h, d, err)
		}
		got, err := r.Search(ctx, "facts", "giraffe", 100)
		if err != nil || len(got) != 20 {
			t.Fatalf("host %d finds %d giraffe records (%v), want all 20", h, len(got), err)
		}
		for other := range 2 {
			text := fmt.Sprintf("host %d wrote giraffe fact number 7", other)
			spans, err := r.CorpusMatch(ctx, "facts", text, 3)
			if err != nil {
				t.Fatal(err)
			}
			want, found := registry.RecordID(text), false
			for _, sp := range spans {
				if sp.Start == 0 && sp.End == len(text) && slices.Contains(sp.Records, want) {
					found = true
				}
			}
			if !found {
				t.Fatalf("host %d: no whole verbatim match for the record host %d wrote: %+v", h, other, spans)
			}
		}
	}
	// A refused write is refused on every host, and counts nowhere.
	if err := add(b, ""); abi.CodeOf(err) != abi.CodeBadRequest {
		t.Fatalf("an empty record: %v", err)
	}
}
