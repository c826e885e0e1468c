package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/keys"
)

// Every policy flag of `datanet create` and `datanet policy` reaches the
// datanet the node stores, and `datanet show` says who may write.
func TestDatanetPolicyFlagsTakeEffect(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	child, out := startServe(t, t.TempDir())
	defer func() { child.Process.Kill(); child.Wait() }()
	api := readUntilServing(t, out)["api"]
	if !strings.Contains(api, "://") {
		api = "http://" + api
	}
	t.Setenv(configEnv, filepath.Join(t.TempDir(), "tokens.json"))
	t.Setenv(keys.PassphraseEnv, "policy")
	cli := func(args ...string) (string, error) {
		var b bytes.Buffer
		err := run(ctx, args, &b)
		return b.String(), err
	}
	newKey := func() (addr, path string) {
		o, err := cli("key", "new", "--dir", t.TempDir(), "--json")
		if err != nil {
			t.Fatal(err)
		}
		var k map[string]string
		json.Unmarshal([]byte(o), &k)
		return k["address"], k["path"]
	}
	_, owner := newKey()
	if _, err := cli("login", "--server", api, "--key", owner); err != nil {
		t.Fatal(err)
	}
	show := func(name string) map[string]any {
		t.Helper()
		o, err := cli("datanet", "show", "--server", api, "--json", name)
		var d map[string]any
		if err != nil || json.Unmarshal([]byte(o), &d) != nil {
			t.Fatalf("datanet show %s: %v\n%s", name, err, o)
		}
		return d
	}
	policy := func(d map[string]any) string {
		p, _ := json.Marshal(d["policy"])
		return string(p)
	}
	create := func(name string, flags ...string) map[string]any {
		t.Helper()
		args := append([]string{"datanet", "create", "--server", api, "--key", owner}, flags...)
		if o, err := cli(append(args, name)...); err != nil {
			t.Fatalf("datanet create %v: %v\n%s", flags, err, o)
		}
		return show(name)
	}

	// The read rules, which create used to drop.
	if d := create("cli/listed", "--access", "allowlist", "--agents", "acme/qa,acme/other"); !strings.Contains(policy(d), `"access":"allowlist","agents":["acme/qa","acme/other"]`) {
		t.Fatalf("--access allowlist --agents: %s", policy(d))
	}
	if d := create("cli/tier", "--access", "tier", "--min-agent-price", "0.5"); !strings.Contains(policy(d), `"access":"tier"`) || !strings.Contains(policy(d), `"minAgentPrice":"500000000000000000"`) {
		t.Fatalf("--access tier --min-agent-price: %s", policy(d))
	}
	// A creation stored as signed: its creation policy is the policy.
	if d := show("cli/tier"); fmt.Sprint(d["creationPolicy"]) != fmt.Sprint(d["policy"]) {
		t.Fatalf("creation policy %v, policy %v", d["creationPolicy"], d["policy"])
	}

	// The write rules. Said nothing: the owner only.
	aliceAddr, alice := newKey()
	bobAddr, bob := newKey()
	add := func(key, name, content string) error {
		_, err := cli("datanet", "add", "--server", api, "--key", key, name, content)
		return err
	}
	if d := create("cli/mine"); d["write"] != "owner" {
		t.Fatalf("a datanet created with no write rule: %v", d)
	}
	if err := add(alice, "cli/mine", "Alice's fact."); !strings.Contains(fmt.Sprint(err), "write_denied") || exitCode(err) != exitDenied {
		t.Fatalf("a stranger's record in an owner's datanet: exit %d, %v", exitCode(err), err)
	}
	// --writers takes any case and signs the checksummed form.
	d := create("cli/team", "--write", "allowlist", "--writers", strings.ToLower(aliceAddr), "--attribution", "builtin/access,acme/spans")
	if d["write"] != "allowlist" || fmt.Sprint(d["policy"].(map[string]any)["writers"]) != "["+aliceAddr+"]" || fmt.Sprint(d["attribution"]) != "[builtin/access acme/spans]" {
		t.Fatalf("--write allowlist --writers --attribution: %v", d)
	}
	if err := add(alice, "cli/team", "Alice's fact."); err != nil {
		t.Fatalf("a listed writer's record: %v", err)
	}
	if err := add(bob, "cli/team", "Bob's fact."); !strings.Contains(fmt.Sprint(err), "write_denied") {
		t.Fatalf("an unlisted writer's record: %v", err)
	}
	if o, err := cli("datanet", "show", "--server", api, "cli/team"); err != nil || !strings.Contains(o, "written by its owner and 1 listed writers "+aliceAddr) || !strings.Contains(o, "attribution by builtin/access, acme/spans") {
		t.Fatalf("datanet show: %v\n%s", err, o)
	}
	// The policy command changes the rules it is given and keeps the rest.
	if o, err := cli("datanet", "policy", "--server", api, "--key", owner, "--write", "open", "--quota", "1", "--quota-bytes", "1000", "cli/team"); err != nil || !strings.Contains(o, "at most 1 records and 1000 bytes per contributor") {
		t.Fatalf("datanet policy --write open --quota: %v\n%s", err, o)
	}
	if d := show("cli/team"); d["write"] != "open" || fmt.Sprint(d["attribution"]) != "[builtin/access acme/spans]" {
		t.Fatalf("after the policy change: %v", d)
	}
	if err := add(bob, "cli/team", "Bob's fact."); err != nil {
		t.Fatalf("bob's first record in an open datanet: %v", err)
	}
	if err := add(bob, "cli/team", "Bob's second fact."); !strings.Contains(fmt.Sprint(err), "write_quota") || exitCode(err) != exitRefused {
		t.Fatalf("bob's record past the quota: exit %d, %v", exitCode(err), err)
	}
	if _, err := cli("datanet", "policy", "--server", api, "--key", owner, "--quota", "2", "cli/team"); err != nil {
		t.Fatal(err)
	}
	if err := add(bob, "cli/team", "Bob's second fact."); err != nil {
		t.Fatalf("bob's record after the quota was raised: %v", err)
	}
	if _, err := cli("datanet", "policy", "--server", api, "--key", owner, "--writers", bobAddr, "cli/team"); !strings.Contains(fmt.Sprint(err), "bad_request") {
		t.Fatalf("writers for an open datanet: %v", err)
	}
	if _, err := cli("datanet", "create", "--server", api, "--key", owner, "--writers", "bob", "cli/bad"); err == nil || !strings.Contains(err.Error(), "--writers") {
		t.Fatalf("a writer that is not an address: %v", err)
	}
}
