package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/kv"
	"github.com/tollgate-dev/tollgate/ledger"
)

// CodeBooksBroken says the books break a money invariant.
const CodeBooksBroken abi.Code = "books_broken"

// checkCommand runs the ledger's money invariants over a node's books,
// read-only: a stopped node's data dir, or the PostgreSQL store that
// running hosts share.
func checkCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check --data DIR | --store postgres://…",
		Short: "Check the books' money invariants, read-only: every credit, earning, deposit and receipt adds up",
		Long: `Read the whole ledger in one snapshot and check its invariants: every
receipt balances and is signed by the operator, every account's credit
(wherever it is leased) equals its deposits less its calls, every earning
equals its postings, no more is owed than was deposited, and every epoch's
root rebuilds from its leaves. With --data it opens a stopped node's ledger;
with --store it reads the PostgreSQL books that running hosts share, while
they run. It exits non-zero, listing every violation, if any is found.`,
		Example: `  tollgate check --data ./tollgate-data
  tollgate check --store postgres://tollgate@db/tollgate --json`,
		Args: nArgs(0, 0),
	}
	fs := cmd.Flags()
	dataDir := fs.String("data", "./tollgate-data", "data directory of a stopped node")
	store := fs.String("store", "", "the PostgreSQL store hosts share (postgres://…), instead of a data dir")
	fs.SetAnnotation("store", skipConfig, []string{"true"})
	a.jsonFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if *store != "" && cmd.Flags().Changed("data") {
			return usageErr("check: give --data DIR (a stopped node's books) or --store URL (shared books), not both")
		}
		if *store != "" && !strings.HasPrefix(*store, "postgres://") && !strings.HasPrefix(*store, "postgresql://") {
			return usageErr("check: --store takes a postgres:// URL")
		}
		return checkRun(cmd.Context(), a.out, *dataDir, *store, a.asJSON)
	}
	return cmd
}

func checkRun(ctx context.Context, out io.Writer, dataDir, store string, asJSON bool) error {
	var led *ledger.Ledger
	var err error
	where := store
	if store == "" {
		where = filepath.Join(dataDir, "ledger")
		led, err = ledger.Open(where, ledger.Options{ReadOnly: true})
	} else {
		var s *kv.Postgres
		if s, err = kv.OpenPostgres(ctx, store, kv.PostgresOptions{Store: kv.StoreLedger, ReadOnly: true}); err == nil {
			led, err = ledger.OpenStore(s, ledger.Options{ReadOnly: true})
		}
		where = redactDSN(store)
	}
	if err != nil {
		return fmt.Errorf("check: open the books read-only: %w", err)
	}
	defer led.Close()
	checkErr := led.Check(ctx)
	t, err := led.Totals(ctx)
	if err != nil {
		return err
	}
	open, err := led.OpenEpoch(ctx)
	if err != nil {
		return err
	}
	var problems []string
	if checkErr != nil {
		problems = strings.Split(checkErr.Error(), "\n")
	}
	if asJSON {
		if problems == nil {
			problems = []string{}
		}
		if err := printValue(out, map[string]any{"books": where, "openEpoch": open, "deposited": t.Deposited.String(),
			"credit": t.Credit.String(), "earned": t.Earned.String(), "problems": problems, "ok": checkErr == nil}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(out, "books %s: epoch %d open; deposited %s, credit %s, earned %s (wei)\n", where, open, t.Deposited, t.Credit, t.Earned)
		for _, p := range problems {
			fmt.Fprintln(out, "  PROBLEM", p)
		}
		if checkErr == nil {
			fmt.Fprintln(out, "every invariant holds")
		}
	}
	if checkErr != nil {
		return abi.Wrap(CodeBooksBroken, errors.New(problems[0]), "check: the books break %d invariant(s)", len(problems))
	}
	return nil
}

// redactDSN drops a PostgreSQL URL's password, for printing.
func redactDSN(dsn string) string {
	if at := strings.LastIndex(dsn, "@"); at > 0 {
		if scheme := strings.Index(dsn, "://"); scheme > 0 && scheme < at {
			user, _, _ := strings.Cut(dsn[scheme+3:at], ":")
			return dsn[:scheme+3] + user + dsn[at:]
		}
	}
	return dsn
}
