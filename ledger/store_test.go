package ledger_test

import (
	"context"
	"os"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/kv"
	"github.com/tollgate-dev/tollgate/internal/pgtest"
	"github.com/tollgate-dev/tollgate/ledger"
)

// The ledger's tests are its store conformance suite: TestMain runs them
// all on Badger, then on PostgreSQL (when TOLLGATE_POSTGRES names its
// programs; CI always does). Tests of Badger's own behaviour (reopening a
// directory, tampering with its files, paging out its logs) run once.
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

// onPostgres says whether this pass runs on PostgreSQL.
func onPostgres() bool { return os.Getenv("TOLLGATE_TEST_STORE") == "postgres" }

// badgerOnly skips a test of Badger's own behaviour in the PostgreSQL pass.
func badgerOnly(t testing.TB) {
	t.Helper()
	if onPostgres() {
		t.Skip("a test of the Badger store; it ran in the Badger pass")
	}
}

// openStore opens a ledger with opts on this pass's store: a Badger
// directory, or a new PostgreSQL database.
func openStore(t testing.TB, opts ledger.Options) (*ledger.Ledger, error) {
	t.Helper()
	if !onPostgres() {
		return ledger.Open(t.TempDir(), opts)
	}
	if opts.InMemory {
		opts.InMemory = false
	}
	s, err := kv.OpenPostgres(context.Background(), pgtest.DSN(t), kv.PostgresOptions{Store: kv.StoreLedger, ReadOnly: opts.ReadOnly, Writer: !opts.ReadOnly})
	if err != nil {
		return nil, err
	}
	return ledger.OpenStore(s, opts)
}
