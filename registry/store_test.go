package registry_test

import (
	"context"
	"os"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/kv"
	"github.com/tollgate-dev/tollgate/internal/pgtest"
	"github.com/tollgate-dev/tollgate/registry"
)

// The registry's tests are its store conformance suite: TestMain runs them
// on Badger, then on PostgreSQL (when TOLLGATE_POSTGRES names its programs;
// CI always does). Tests that open a Badger directory themselves run on
// Badger in both passes.
func TestMain(m *testing.M) {
	code := 0
	for _, store := range []string{"badger", "postgres"} {
		if store == "postgres" && os.Getenv("TOLLGATE_POSTGRES") == "" && os.Getenv("CI") == "" {
			continue
		}
		os.Setenv("TOLLGATE_TEST_STORE", store)
		if c := m.Run(); c != 0 {
			code = c
		}
	}
	pgtest.Stop()
	os.Exit(code)
}

// openStore opens a registry with opts on this pass's store: a Badger
// directory, or a new PostgreSQL database with its indexes in a temporary
// directory.
func openStore(t testing.TB, opts registry.Options) (*registry.Registry, error) {
	t.Helper()
	if os.Getenv("TOLLGATE_TEST_STORE") != "postgres" {
		return registry.Open(t.TempDir(), opts)
	}
	s, err := kv.OpenPostgres(context.Background(), pgtest.DSN(t), kv.PostgresOptions{Store: kv.StoreRegistry, ReadOnly: opts.ReadOnly, Writer: !opts.ReadOnly})
	if err != nil {
		return nil, err
	}
	return registry.OpenStore(s, t.TempDir(), opts)
}
