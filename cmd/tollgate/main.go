// Command tollgate runs and uses a Tollgate node.
//
//	tollgate serve [--data DIR] [--addr HOST:PORT] [--rpc URL]
//	tollgate demo
//	tollgate invoke [--token TOKEN] [--max-price AMOUNT] [--server URL] [NAME[@VERSION]] [INPUT] (no INPUT: stdin)
//	tollgate help, tollgate COMMAND --help
//	tollgate balance [--server URL] ACCOUNT
//	tollgate verify --server URL [--rpc URL] [--epoch N]
//	tollgate datanet import [--server URL] [--key FILE] NAME FILE.jsonl
package main

import (
	"context"
	"net"
	"strings"

	"connectrpc.com/connect"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tollgate:", err)
		stop()
		os.Exit(exitCode(err))
	}
}

// defaultServer is the node commands talk to unless --server or the config
// file says otherwise.
const defaultServer = "http://127.0.0.1:8080"

// Exit codes, for scripts.
const (
	exitFailed      = 1 // anything else
	exitUsage       = 2 // bad command line
	exitDenied      = 3 // not signed in, or not allowed
	exitNotFound    = 4 // no such plugin, datanet, receipt, epoch or account
	exitRefused     = 5 // the node refused the request as it stands: credit, limits, conflicts, bad input
	exitUnavailable = 6 // the node or the chain could not be reached
)

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usageErr(msg string) error { return usageError{msg} }

// exitCode maps an error to the exit code scripts branch on.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	switch connect.CodeOf(err) {
	case connect.CodeUnauthenticated, connect.CodePermissionDenied:
		return exitDenied
	case connect.CodeNotFound:
		return exitNotFound
	case connect.CodeInvalidArgument, connect.CodeFailedPrecondition, connect.CodeAlreadyExists, connect.CodeResourceExhausted, connect.CodeAborted, connect.CodeDataLoss:
		return exitRefused
	case connect.CodeUnavailable, connect.CodeDeadlineExceeded:
		return exitUnavailable
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return exitUnavailable
	}
	return exitFailed
}

const usage = `usage: tollgate <command> [flags]

commands:
  serve     run a node: Connect API and web page, ledger, embedded chain
  demo      run the whole loop once, end to end, in a temporary directory
  invoke    invoke an agent on a running node
  balance   show an account's balance on a running node
  withdraw  take back unspent credit: it becomes claimable on-chain at the next root
  claim     claim an account's earnings on-chain, or print the calldata for a wallet
  key       keystore v3 key files: new, import, list, address
  datanet   create datanets, add records, show and search them on a running node
  plugin    publish, list, show and yank plugins on a running node
  login     sign in to a node with an Ethereum key (Sign-In with Ethereum) and keep the token
  faucet    on a development chain, get test credit and gas for the signed-in account
  deposit   deposit tokens from a wallet on-chain as an account's credit
  receipt   show a receipt, or list an account's receipts
  earnings  what an account earned in all, and from which calls
  epoch     list closed epochs, or close the open one (operator)
  bench     load a node with concurrent invocations; --noop compares with a no-op handler
  verify    re-run an epoch's receipts and check its root: --server URL through a
            node's public API, or --data DIR from a stopped node's data dir
`

func run(ctx context.Context, args []string, out io.Writer) error {
	err := dispatch(ctx, args, out)
	var help helpRequested
	if errors.As(err, &help) {
		fmt.Fprint(out, help.usage)
		return nil
	}
	return err
}

func dispatch(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(out, usage)
		return usageErr("no command")
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, args, out)
	case "demo":
		return demo(ctx, args, out)
	case "invoke":
		return invokeCmd(ctx, args, out)
	case "balance":
		return balanceCmd(ctx, args, out)
	case "withdraw":
		return withdrawCmd(ctx, args, out)
	case "claim":
		return claimCmd(ctx, args, out)
	case "key":
		return keyCmd(args, out)
	case "bench":
		return benchCmd(ctx, args, out)
	case "datanet":
		return datanetCmd(ctx, args, out)
	case "plugin":
		return pluginCmd(ctx, args, out)
	case "login":
		return loginCmd(ctx, args, out)
	case "faucet":
		return faucetCmd(ctx, args, out)
	case "receipt":
		return receiptCmd(ctx, args, out)
	case "earnings":
		return earningsCmd(ctx, args, out)
	case "epoch":
		return epochCmd(ctx, args, out)
	case "deposit":
		return depositCmd(ctx, args, out)
	case "verify":
		return verifyCmd(ctx, args, out)
	case "help", "-h", "-help", "--help":
		if len(args) > 0 && !isHelp(args[0]) {
			// tollgate help invoke: the same as tollgate invoke --help.
			return dispatch(ctx, append(args[:1:1], "--help"), out)
		}
		fmt.Fprint(out, usage)
		return nil
	}
	fmt.Fprint(out, usage)
	return usageErr(fmt.Sprintf("unknown command %q", cmd))
}

// isHelp reports whether arg asks for help where a subcommand is expected
// (tollgate datanet --help).
func isHelp(arg string) bool {
	switch arg {
	case "help", "-h", "-help", "--help":
		return true
	}
	return false
}

// subcommand returns a command group's subcommand, a helpRequested for
// its usage line, or a usage error if there is none.
func subcommand(args []string, use string) (string, error) {
	if len(args) == 0 {
		return "", usageErr(use)
	}
	if isHelp(args[0]) {
		return "", helpRequested{use + "\n"}
	}
	return args[0], nil
}

// commandArgs is the positional part of each command's usage line.
var commandArgs = map[string]string{
	"invoke":         "[NAME[@VERSION]] [INPUT…]   (without INPUT: read from standard input; NAME without @VERSION is NAME@latest)",
	"balance":        "[ACCOUNT]",
	"withdraw":       "AMOUNT",
	"deposit":        "AMOUNT",
	"receipt show":   "ID",
	"key address":    "FILE",
	"key import":     "FILE",
	"plugin publish": "MODULE.wasm",
	"plugin show":    "NAME@VERSION",
	"plugin yank":    "NAME@VERSION",
	"datanet create": "NAME",
	"datanet add":    "NAME [RECORD…]",
	"datanet import": "NAME FILE.jsonl",
	"datanet sign":   "NAME RECORDS.jsonl",
	"datanet policy": "NAME",
	"datanet show":   "NAME",
	"datanet search": "NAME QUERY",
}

// commandDoc is the line the command list gives a command, or its group.
func commandDoc(name string) string {
	top, _, _ := strings.Cut(name, " ")
	for _, line := range strings.Split(usage, "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(line, "  ") && f[0] == top {
			return strings.Join(f[1:], " ")
		}
	}
	return ""
}

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("tollgate "+name, flag.ContinueOnError)
	return fs
}
