package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/api"

	"google.golang.org/protobuf/proto"

	"github.com/tollgate-dev/tollgate/api/auth"
	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
)

// commands is every command line that takes flags: each top-level command,
// and each subcommand of the groups.
var commands = [][]string{
	{"serve"}, {"demo"}, {"invoke"}, {"balance"}, {"withdraw"}, {"claim"},
	{"key", "new"}, {"key", "import"}, {"key", "list"}, {"key", "address"},
	{"bench"},
	{"datanet", "create"}, {"datanet", "add"}, {"datanet", "import"}, {"datanet", "sign"},
	{"datanet", "policy"}, {"datanet", "show"}, {"datanet", "search"},
	{"plugin", "publish"}, {"plugin", "list"}, {"plugin", "show"}, {"plugin", "yank"},
	{"login"}, {"faucet"}, {"deposit"},
	{"receipt", "show"}, {"receipt", "list"},
	{"earnings"}, {"epoch", "list"}, {"epoch", "close"}, {"verify"},
}

// noConfig keeps a developer's own config file out of a test.
func noConfig(t *testing.T) {
	t.Helper()
	t.Setenv(configEnv, filepath.Join(t.TempDir(), "none.json"))
	os.WriteFile(os.Getenv(configEnv), []byte("{}"), 0o600)
}

// Asking for help is not a mistake: it prints the usage on standard
// output and exits 0, for every command, wherever --help stands.
func TestHelpPrintsUsageAndExitsZero(t *testing.T) {
	noConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	type tc struct {
		name string
		args []string
		want string
	}
	cases := []tc{
		{"tollgate --help", []string{"--help"}, "Exit codes:"},
		{"tollgate -h", []string{"-h"}, "Exit codes:"},
		{"tollgate help", []string{"help"}, "Exit codes:"},
		{"tollgate help invoke", []string{"help", "invoke"}, "Usage:\n  tollgate invoke"},
		{"invoke after input", []string{"invoke", "why?", "--help"}, "Usage:\n  tollgate invoke"},
	}
	for _, group := range []string{"key", "datanet", "plugin", "receipt", "epoch"} {
		cases = append(cases, tc{group + " --help", []string{group, "--help"}, "Usage:\n  tollgate " + group})
	}
	for _, c := range commands {
		name := strings.Join(c, " ")
		cases = append(cases,
			tc{name + " --help", append(append([]string{}, c...), "--help"), "Usage:\n  tollgate " + name},
			tc{name + " -h", append(append([]string{}, c...), "-h"), "Usage:\n  tollgate " + name})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(ctx, c.args, &out)
			if err != nil {
				t.Fatalf("tollgate %s: %v (exit %d)\n%s", strings.Join(c.args, " "), err, exitCode(err), out.String())
			}
			if !strings.Contains(out.String(), c.want) {
				t.Fatalf("tollgate %s printed %q, want it to contain %q", strings.Join(c.args, " "), out.String(), c.want)
			}
		})
	}
}

// A mistake on the command line exits 2, whatever the command, so that
// scripts can tell it from a failure of the node or the network.
func TestUsageErrorsExitTwo(t *testing.T) {
	noConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	type tc struct {
		name string
		args []string
	}
	var cases []tc
	for _, c := range commands {
		cases = append(cases, tc{strings.Join(c, " ") + " --bogus", append(append([]string{}, c...), "--bogus")})
	}
	cases = append(cases,
		tc{"no command", nil},
		tc{"unknown command", []string{"frobnicate"}},
		tc{"bad flag value", []string{"receipt", "list", "--epoch", "soon"}},
		tc{"bad bool value", []string{"invoke", "--json=maybe", "why?"}},
		tc{"flag without value", []string{"balance", "--server"}},
		tc{"bench non-positive", []string{"bench", "-c", "0"}},
		tc{"key without subcommand", []string{"key"}},
		tc{"datanet without subcommand", []string{"datanet"}},
		tc{"plugin without subcommand", []string{"plugin"}},
		tc{"receipt without subcommand", []string{"receipt"}},
		tc{"epoch without subcommand", []string{"epoch"}},
		tc{"key unknown subcommand", []string{"key", "frob"}},
		tc{"datanet create without name", []string{"datanet", "create"}},
		tc{"datanet search without query", []string{"datanet", "search", "d"}},
		tc{"plugin show without ref", []string{"plugin", "show"}},
		tc{"receipt show without id", []string{"receipt", "show"}},
		tc{"key address without file", []string{"key", "address"}},
		tc{"withdraw without amount", []string{"withdraw"}},
		tc{"withdraw bad amount", []string{"withdraw", "lots"}},
		tc{"deposit without amount", []string{"deposit"}},
		tc{"balance two accounts", []string{"balance", "0x1", "0x2"}},
		tc{"login without key", []string{"login"}},
		tc{"claim without account", []string{"claim"}},
		tc{"invoke without input on a terminal", []string{"invoke", "--server", "http://127.0.0.1:1"}},
	)
	// A character device, as a terminal is: no input to read.
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	stdin := os.Stdin
	os.Stdin = devNull
	defer func() { os.Stdin = stdin }()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			// A server nobody listens on: a usage error must be found
			// before any request.
			err := run(ctx, c.args, &out)
			if got := exitCode(errOr(err)); got != exitUsage {
				t.Fatalf("tollgate %s: exit %d, want %d (%v)", strings.Join(c.args, " "), got, exitUsage, err)
			}
		})
	}
}

// errOr turns a nil error into one that maps to exitFailed, so that a
// command that wrongly succeeds fails the test.
func errOr(err error) error {
	if err == nil {
		return io.EOF
	}
	return err
}

// Flags stand anywhere on the line, as pflag parses them: after the
// input, with = or a separate value; -- ends them, and a lone dash is an
// argument.
func TestFlagsAnywhere(t *testing.T) {
	for _, c := range []struct {
		name      string
		args      []string
		wantArgs  []string
		wantAgent string
		wantJSON  bool
	}{
		{"flags first already", []string{"--json", "why?"}, []string{"why?"}, exampleAgent, true},
		{"bool flag after input", []string{"why?", "--json"}, []string{"why?"}, exampleAgent, true},
		{"value flag after input", []string{"why", "--agent", "a/b", "now"}, []string{"why", "now"}, "a/b", false},
		{"value with =", []string{"why", "--agent=a/b"}, []string{"why"}, "a/b", false},
		{"double dash ends flags", []string{"why", "--", "--json", "-x"}, []string{"why", "--json", "-x"}, exampleAgent, false},
		{"lone dash is an argument", []string{"-", "--json"}, []string{"-"}, exampleAgent, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := newApp(context.Background(), io.Discard)
			cmd, _, err := a.root.Find([]string{"invoke"})
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.ParseFlags(c.args); err != nil {
				t.Fatal(err)
			}
			agent, _ := cmd.Flags().GetString("agent")
			if got := cmd.Flags().Args(); !reflect.DeepEqual(got, c.wantArgs) || agent != c.wantAgent || a.asJSON != c.wantJSON {
				t.Fatalf("%q: args %q agent %q json %v, want %q %q %v", c.args, got, agent, a.asJSON, c.wantArgs, c.wantAgent, c.wantJSON)
			}
		})
	}
	for _, bad := range [][]string{{"why", "--bogus", "now"}, {"why", "--agent"}} {
		a := newApp(context.Background(), io.Discard)
		if err := a.execute(append([]string{"invoke"}, bad...)); exitCode(err) != exitUsage {
			t.Fatalf("invoke %q: exit %d (%v), want %d", bad, exitCode(err), err, exitUsage)
		}
	}
}

// Against a real node: flags after the input are flags, not input that is
// charged for; the agent may be given first and without a version; with
// no input argument the input comes from standard input.
func TestInvokeFlagsAnywhereAgentAndStdin(t *testing.T) {
	noConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, err := openNode(ctx, nodeConfig{dataDir: t.TempDir(), logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer n.close(context.Background())
	if _, err := seedExample(ctx, n); err != nil {
		t.Fatal(err)
	}
	caller := newParty("caller")
	if _, err := fund(ctx, n, caller, callerCredit); err != nil {
		t.Fatal(err)
	}
	tok, err := n.tokens.Issue(auth.Principal{Account: caller.addr()})
	if err != nil {
		t.Fatal(err)
	}
	type sentCall struct{ agent, input string }
	var mu sync.Mutex
	var sent []sentCall
	apiH, err := n.handler(api.DefaultLimits(), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/tollgate.v1.AgentService/Invoke" {
			body, _ := io.ReadAll(r.Body)
			var msg tollgatev1.InvokeRequest
			if err := proto.Unmarshal(body, &msg); err != nil {
				t.Errorf("Invoke is not protobuf: %v", err)
			}
			mu.Lock()
			sent = append(sent, sentCall{msg.GetAgent(), msg.GetInputText()})
			mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		apiH.ServeHTTP(w, r)
	}))
	defer srv.Close()
	last := func() sentCall {
		mu.Lock()
		defer mu.Unlock()
		if len(sent) == 0 {
			return sentCall{}
		}
		return sent[len(sent)-1]
	}
	cli := func(args ...string) (string, error) {
		var b bytes.Buffer
		err := run(ctx, append([]string{args[0], "--server", srv.URL, "--token", tok}, args[1:]...), &b)
		return b.String(), err
	}
	const q = "Why is the sky blue?"
	// A name without a version means name@latest, which the CLI quotes and
	// then calls by the version it resolved to.
	latest := exampleAgent + "@" + exampleAgentVersion

	o, err := cli("invoke", exampleAgent, q, "--json")
	if err != nil || !json.Valid([]byte(o)) || last() != (sentCall{latest, q}) {
		t.Fatalf("invoke %s %q --json: sent %+v, %v\n%s", exampleAgent, q, last(), err, o)
	}
	if o, err := cli("invoke", q, "--agent", exampleAgent); err != nil || last() != (sentCall{latest, q}) {
		t.Fatalf("invoke %q --agent %s: sent %+v, %v\n%s", q, exampleAgent, last(), err, o)
	}
	// After --, a dash is input.
	if o, err := cli("invoke", "--", "-v", "is", "a", "flag"); err != nil || last().input != "-v is a flag" {
		t.Fatalf("invoke -- -v is a flag: sent %+v, %v\n%s", last(), err, o)
	}

	// Standard input, when no argument gives the input.
	f, err := os.CreateTemp(t.TempDir(), "input")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(q + "\n")
	f.Seek(0, io.SeekStart)
	defer f.Close()
	stdin := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = stdin }()
	if o, err := cli("invoke", "--json"); err != nil || last() != (sentCall{latest, q}) {
		t.Fatalf("invoke --json < input: sent %+v, %v\n%s", last(), err, o)
	}
	// The agent as the only argument, the input on standard input.
	f.Seek(0, io.SeekStart)
	if o, err := cli("invoke", exampleAgent); err != nil || last() != (sentCall{latest, q}) {
		t.Fatalf("invoke %s < input: sent %+v, %v\n%s", exampleAgent, last(), err, o)
	}
}
