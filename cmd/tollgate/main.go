// Command tollgate runs and uses a Tollgate node.
//
// Every command, its flags and examples are in `tollgate help` and
// `tollgate COMMAND --help`; README.md walks through the common jobs.
// The command table is [newRoot].
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/tollgate-dev/tollgate/api"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/abi"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := mainExit(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// mainExit runs the command line and reports a failure on stderr, as text
// or, under --json, as a JSON object; it returns the exit code.
func mainExit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := newApp(ctx, stdout)
	err := a.execute(args)
	if err == nil {
		return 0
	}
	reportError(stderr, err, a.asJSON || jsonAsked(args))
	return exitCode(err)
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

const exitCodesHelp = `Exit codes:
  0  ok
  1  failed (anything not below)
  2  usage: unknown command, bad flag, wrong arguments, unknown key address
  3  denied: not signed in, or not allowed
  4  not found: no such plugin, datanet, receipt, epoch or account
  5  refused by the node as the request stands: credit, limits, conflicts, bad input
  6  unavailable: the node or the chain could not be reached`

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

// errorCode names an error's class for --json: "usage", the Connect code
// the node answered with ("not_found", "unauthenticated", …), the
// Tollgate code of a local failure, or "failed".
func errorCode(err error) string {
	var ue usageError
	if errors.As(err, &ue) {
		return "usage"
	}
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce.Code().String()
	}
	if c := abi.CodeOf(err); c != "" {
		return string(c)
	}
	if exitCode(err) == exitUnavailable {
		return "unavailable"
	}
	return "failed"
}

// jsonError is what a failed command prints under --json, on stderr.
type jsonError struct {
	Error struct {
		Code string `json:"code"`
		// Reason is the node's Tollgate code for the refusal, when it sent
		// one (insufficient_credit, price_exceeded, …).
		Reason  string `json:"reason,omitempty"`
		Message string `json:"message"`
		Exit    int    `json:"exit"`
	} `json:"error"`
}

func reportError(w io.Writer, err error, asJSON bool) {
	if !asJSON {
		fmt.Fprintln(w, "tollgate:", err)
		return
	}
	var je jsonError
	je.Error.Code, je.Error.Message, je.Error.Exit = errorCode(err), err.Error(), exitCode(err)
	var ce *connect.Error
	if errors.As(err, &ce) {
		je.Error.Reason = ce.Meta().Get(api.CodeHeader)
	}
	b, _ := json.Marshal(je)
	fmt.Fprintln(w, string(b))
}

// jsonAsked reports whether --json is on a command line that could not be
// parsed, so that its usage error is JSON too.
func jsonAsked(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "--json" || a == "--json=true" {
			return true
		}
	}
	return false
}

// run runs a command line, writing what it prints to out; tests and the
// serve child use it directly.
func run(ctx context.Context, args []string, out io.Writer) error {
	return newApp(ctx, out).execute(args)
}

// app holds the values of the flags every command that talks to a node
// shares, declared once (serverFlags, keyFlags, jsonFlag), and the config
// file read before a command runs.
type app struct {
	ctx context.Context
	out io.Writer

	server, token    string
	keyRef, passFile string
	asJSON           bool
	configFlag       string
	cfg              *config
	root             *cobra.Command
}

func newApp(ctx context.Context, out io.Writer) *app {
	a := &app{ctx: ctx, out: out}
	a.root = newRoot(a)
	return a
}

func (a *app) execute(args []string) error {
	a.root.SetArgs(args)
	a.root.SetOut(a.out)
	a.root.SetErr(a.out)
	a.root.SetContext(a.ctx)
	cmd, err := a.root.ExecuteC()
	if err == nil {
		return nil
	}
	if strings.HasPrefix(err.Error(), "unknown command") || strings.HasPrefix(err.Error(), "unknown flag") {
		err = usageErr(err.Error())
	}
	return a.explain(cmd, err)
}

// explain adds what to do next to the errors a newcomer meets first.
func (a *app) explain(cmd *cobra.Command, err error) error {
	if !talksToNode(cmd) || a.server == "" {
		return err
	}
	switch exitCode(err) {
	case exitDenied:
		if connect.CodeOf(err) == connect.CodeUnauthenticated {
			return fmt.Errorf("not signed in to %s: run `tollgate login --server %s --key FILE` (or give --token): %w", a.server, a.server, err)
		}
	case exitUnavailable:
		if connect.CodeOf(err) == connect.CodeUnavailable || isNetErr(err) {
			return fmt.Errorf("cannot reach the node at %s: start one with `tollgate serve`, or give --server URL: %w", a.server, err)
		}
	}
	return err
}

func isNetErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
}

// newRoot is the command table: every command and group of the CLI.
func newRoot(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "tollgate",
		Short: "Run and use a Tollgate node: metered AI agents over paid datanets, settled on-chain",
		Long: `tollgate runs a node (serve), and talks to one: invoke agents, publish
plugins, create and fill datanets, see receipts and earnings, settle epochs
and claim on-chain.

Flags may stand anywhere on the line; -- ends them, so an input may start
with a dash. Commands that talk to a node take --server (default ` + defaultServer + `)
and the token ` + "`tollgate login`" + ` saved for that server, or --token.

Amounts are in TGT (18 decimals): 1.5 or 0.001 TGT, or base units with a
wei suffix (1500wei).

--json prints a command's result as JSON with the API's lowerCamelCase
names; a failure under --json is a JSON object on stderr:
  {"error":{"code":"not_found","message":"…","exit":4}}

The config file ($TOLLGATE_CONFIG, else config.json in the user's tollgate
config dir) holds a default server and key, the tokens login saved per
server, and defaults for any flag; see README.md.

` + exitCodesHelp,
		Example: `  tollgate demo
  tollgate serve --data ./tollgate-data
  tollgate key new
  tollgate login --key 0xYOURADDRESS
  tollgate faucet
  tollgate invoke examples/qa "Why is the sky blue?"`,
		Args:          cobra.ArbitraryArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				cmd.Help()
				return usageErr("no command (see tollgate --help)")
			}
			msg := fmt.Sprintf("unknown command %q", args[0])
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += "; did you mean " + strings.Join(s, " or ") + "?"
			}
			return usageErr(msg + " (see tollgate --help)")
		},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return a.loadConfig(cmd)
		},
	}
	root.PersistentFlags().StringVar(&a.configFlag, "config", "", "config file (default: $"+configEnv+", else config.json in the user's tollgate config dir)")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageErr(fmt.Sprintf("%s: %v (see %s --help)", cmd.CommandPath(), err, cmd.CommandPath()))
	})
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetHelpCommand(helpCommand(root))
	root.AddGroup(&cobra.Group{ID: "node", Title: "Running a node:"},
		&cobra.Group{ID: "use", Title: "Using a node:"},
		&cobra.Group{ID: "money", Title: "Money and settlement:"},
		&cobra.Group{ID: "tools", Title: "Keys and tools:"})
	add := func(group string, cmds ...*cobra.Command) {
		for _, c := range cmds {
			c.GroupID = group
			root.AddCommand(c)
		}
	}
	add("node", serveCommand(a), demoCommand(a), benchCommand(a), verifyCommand(a), checkCommand(a))
	add("use", invokeCommand(a), pluginCommand(a), modelCommand(a), datanetCommand(a), receiptCommand(a))
	add("money", balanceCommand(a), earningsCommand(a), depositCommand(a), withdrawCommand(a), claimCommand(a), faucetCommand(a), epochCommand(a))
	add("tools", loginCommand(a), keyCommand(a), completionCommand())
	return root
}

// group is a command that only holds subcommands: run bare or with an
// unknown subcommand, it is a usage error that lists them.
func group(use, short, long, example string, subs ...*cobra.Command) *cobra.Command {
	g := &cobra.Command{Use: use + " COMMAND", Short: short, Long: long, Example: example, Args: cobra.ArbitraryArgs}
	g.RunE = func(cmd *cobra.Command, args []string) error {
		var names []string
		for _, c := range cmd.Commands() {
			names = append(names, c.Name())
		}
		if len(args) == 0 {
			return usageErr(fmt.Sprintf("%s: give a command: %s (see %s --help)", cmd.CommandPath(), strings.Join(names, ", "), cmd.CommandPath()))
		}
		return usageErr(fmt.Sprintf("%s: unknown command %q: want %s (see %s --help)", cmd.CommandPath(), args[0], strings.Join(names, ", "), cmd.CommandPath()))
	}
	g.AddCommand(subs...)
	return g
}

// nArgs accepts between lo and hi positional arguments (hi < 0: any
// number), and otherwise is a usage error naming what to give.
func nArgs(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) >= lo && (hi < 0 || len(args) <= hi) {
			return nil
		}
		want := fmt.Sprintf("%d", lo)
		switch {
		case hi < 0:
			want = fmt.Sprintf("at least %d", lo)
		case hi != lo && lo == 0:
			want = fmt.Sprintf("at most %d", hi)
		case hi != lo:
			want = fmt.Sprintf("%d to %d", lo, hi)
		}
		return usageErr(fmt.Sprintf("%s: want %s arguments, got %d: usage: %s (see %s --help)", cmd.CommandPath(), want, len(args), cmd.UseLine(), cmd.CommandPath()))
	}
}

// serverFlags adds --server and --token, which every command that talks
// to a node takes.
func (a *app) serverFlags(cmd *cobra.Command, persistent bool) {
	fs := cmd.Flags()
	if persistent {
		fs = cmd.PersistentFlags()
	}
	fs.StringVar(&a.server, "server", defaultServer, "node URL (the config file's \"server\" changes the default)")
	fs.StringVar(&a.token, "token", "", "API token (default: the one login saved for --server; a signed command with --key signs in by itself)")
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations["node"] = "true"
}

// talksToNode reports whether cmd, or its group, takes --server.
func talksToNode(cmd *cobra.Command) bool {
	for c := cmd; c != nil; c = c.Parent() {
		if c.Annotations["node"] != "" {
			return true
		}
	}
	return false
}

// keyFlags adds --key and --passphrase-file.
func (a *app) keyFlags(cmd *cobra.Command, persistent bool, what string) {
	fs := cmd.Flags()
	if persistent {
		fs = cmd.PersistentFlags()
	}
	fs.StringVar(&a.keyRef, "key", "", what+": a key file (keystore v3, or hex), or the address of one in the key dir (tollgate key list); default from the config file's \"key\"")
	fs.StringVar(&a.passFile, "passphrase-file", "", "file holding the key's passphrase (default: $"+passphraseEnvName+", else a prompt on a terminal)")
}

// jsonFlag adds --json to a command that prints a result.
func (a *app) jsonFlag(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&a.asJSON, "json", false, "print the result as JSON (lowerCamelCase names, as the API's JSON)")
}

func helpCommand(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:     "help [COMMAND]…",
		Short:   "Help about any command",
		Example: "  tollgate help\n  tollgate help datanet import",
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 && cmd.HasSubCommands() {
				return usageErr(fmt.Sprintf("unknown help topic %q (see tollgate --help)", strings.Join(args, " ")))
			}
			return cmd.Help()
		},
	}
}

func completionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `Print a script that completes tollgate's commands and flags in your shell.
Load it for the current session, or install it where your shell looks.`,
		Example: `  source <(tollgate completion bash)
  tollgate completion zsh > "${fpath[1]}/_tollgate"
  tollgate completion fish > ~/.config/fish/completions/tollgate.fish`,
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args:      nArgs(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out, root := cmd.OutOrStdout(), cmd.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, true)
			case "zsh":
				return root.GenZshCompletion(out)
			case "fish":
				return root.GenFishCompletion(out, true)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(out)
			}
			return usageErr(fmt.Sprintf("completion: unknown shell %q: want bash, zsh, fish or powershell", args[0]))
		},
	}
}
