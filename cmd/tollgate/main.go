// Command tollgate runs and uses a Tollgate node.
//
//	tollgate serve [--data DIR] [--addr HOST:PORT] [--rpc URL]
//	tollgate demo
//	tollgate invoke --token TOKEN --agent NAME@VERSION [--server URL] INPUT
//	tollgate balance [--server URL] ACCOUNT
//	tollgate verify [--data DIR] [--epoch N]
//	tollgate import [--data DIR] --datanet NAME [--key FILE] [--create] FILE.jsonl
package main

import (
	"context"
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
		os.Exit(1)
	}
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
  bench     load a node with concurrent invocations; --noop compares with a no-op handler
  verify    re-run an epoch's receipts and check its root (node stopped)
  import    bulk-import a JSONL file of signed records into a datanet (node stopped)
`

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(out, usage)
		return errors.New("no command")
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
	case "verify":
		return verifyCmd(ctx, args, out)
	case "import":
		return importCmd(ctx, args, out)
	case "help", "-h", "--help":
		fmt.Fprint(out, usage)
		return nil
	}
	fmt.Fprint(out, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("tollgate "+name, flag.ContinueOnError)
	return fs
}
