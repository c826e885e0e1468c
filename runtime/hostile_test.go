package runtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/runtime"
)

// TestHostileCorpus runs each misdeed of the hostile plugins and asserts the
// exact code it ends with, that nothing was metered past a limit, and that
// the next good call on the same module still succeeds.
func TestHostileCorpus(t *testing.T) {
	rt := newRuntime(t)
	limits := runtime.Limits{Timeout: 2 * time.Second, MaxMemoryPages: 256, MaxOutputBytes: 1 << 20, MaxHostCalls: 100, MaxRecords: 10}
	hostile := compile(t, rt, plugin(t, "hostile"), runtime.ModuleOptions{Limits: limits})
	cases := []struct {
		name   string
		plugin string
		export string
		want   abi.Code
	}{
		{"infinite loop", "hostile", "loop", abi.CodeTimeout},
		{"memory.fill spin", "spin", "fill", abi.CodeTimeout},
		{"memory.copy spin", "spin", "copy", abi.CodeTimeout},
		{"memory.init spin", "spin", "init", abi.CodeTimeout},
		{"Extism kernel alloc and reset spin", "spin", "kernel", abi.CodeTimeout},
		{"memory bomb", "hostile", "bomb", abi.CodeMemoryLimit},
		{"huge output", "hostile", "huge_output", abi.CodeOutputTooLarge},
		{"proc_exit", "hostile", "exit", abi.CodeExit},
		{"bogus pointer to datanet_search", "hostile", "bad_pointer_search", abi.CodeBadPointer},
		{"bogus pointer to datanet_get", "hostile", "bad_pointer_get", abi.CodeBadPointer},
		{"bogus pointer to corpus_match", "hostile", "bad_pointer_match", abi.CodeBadPointer},
		{"bogus pointer to config_get", "hostile", "bad_pointer_config", abi.CodeBadPointer},
		{"output set to a block that does not exist", "hostile", "bad_output", abi.CodeBadPluginOutput},
		{"malformed JSON to a host function", "hostile", "bad_json", abi.CodeBadHostCall},
		{"malformed binary request to a host function", "hostile", "bad_binary", abi.CodeBadHostCall},
		{"flood of host calls", "hostile", "flood", abi.CodeHostCallLimit},
		{"flood of record reads", "hostile", "read_flood", abi.CodeRecordLimit},
		// wazero grows the stack by copying it: reaching its maximum takes a
		// second or two of a loaded machine, before the 2 s limit or after.
		{"deep recursion", "recurse", "recurse", abi.CodeStackOverflow},
		{"trap", "trap", "trap", abi.CodeTrap},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := hostile
			if c.plugin != "hostile" {
				l := limits
				if c.want == abi.CodeStackOverflow {
					l.Timeout = 8 * time.Second
				}
				m = compile(t, rt, plugin(t, c.plugin), runtime.ModuleOptions{Limits: l})
			}
			metered := 0
			env := &runtime.Env{Data: records, Grants: []string{"facts", "empty"}, Meter: func(abi.Record) error { metered++; return nil }}
			start := time.Now()
			_, err := m.Call(context.Background(), c.export, nil, env)
			if got := abi.CodeOf(err); got != c.want {
				t.Fatalf("code %q (%v), want %q", got, err, c.want)
			}
			if metered > limits.MaxRecords {
				t.Fatalf("%d records metered, limit %d", metered, limits.MaxRecords)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Fatalf("took %v to fail", d)
			}
			// The host goes on serving: the next good call succeeds.
			if _, err := hostile.Call(context.Background(), "leak", []byte("x"), env); err != nil {
				t.Fatalf("good call after %s: %v", c.name, err)
			}
		})
	}
}

func TestOtherTenantsDataIsNeverReturned(t *testing.T) {
	rt := newRuntime(t)
	m := compile(t, rt, plugin(t, "hostile"), runtime.ModuleOptions{})
	metered := 0
	env := &runtime.Env{Data: records, Grants: []string{"facts"}, CorpusMatch: true, Meter: func(abi.Record) error { metered++; return nil }}
	out, err := m.Call(context.Background(), "tenant", nil, env)
	if err != nil {
		t.Fatal(err)
	}
	var envelopes []struct {
		Records []abi.Record `json:"records"`
		Error   *abi.Error   `json:"error"`
	}
	if err := json.Unmarshal(out, &envelopes); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for i, e := range envelopes {
		if len(e.Records) > 0 || e.Error == nil || e.Error.Code != abi.CodeGrantDenied {
			t.Fatalf("envelope %d = %+v, want only a grant_denied error", i, e)
		}
	}
	if strings.Contains(string(out), "tenant's data") || metered != 0 {
		t.Fatalf("another tenant's data leaked: %s (metered %d)", out, metered)
	}
}

// A plugin reading data in its prewarm, before any call, reads nothing:
// no caller's grants exist yet, and what it would read would be in every
// caller's snapshot, unmetered.
func TestPrewarmReadsNoData(t *testing.T) {
	rt := newRuntime(t)
	m := compile(t, rt, plugin(t, "hostile"), runtime.ModuleOptions{})
	metered := 0
	out, err := m.Call(context.Background(), "prewarmed", nil, &runtime.Env{Data: records, Grants: []string{"facts"},
		Meter: func(abi.Record) error { metered++; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), string(abi.CodeGrantDenied)) || strings.Contains(string(out), "Rayleigh") || metered != 0 {
		t.Fatalf("prewarm read %s (metered %d)", out, metered)
	}
}

// TestNoStateCrossesCallers: a plugin that returns its previous call's input
// sees nothing in fresh-instance mode; with reuse within a session it sees
// only its own session's input, never another's.
func TestNoStateCrossesCallers(t *testing.T) {
	rt := newRuntime(t)
	call := func(m *runtime.Module, session, in string) string {
		out, err := m.Call(context.Background(), "leak", []byte(in), &runtime.Env{Session: session})
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	fresh := compile(t, rt, plugin(t, "hostile"), runtime.ModuleOptions{})
	call(fresh, "alice", "alice's secret")
	if got := call(fresh, "bob", "hello"); got != "" {
		t.Fatalf("fresh mode: bob saw %q", got)
	}
	if got := call(fresh, "alice", "again"); got != "" {
		t.Fatalf("fresh mode: alice saw %q", got)
	}

	reuse := compile(t, rt, plugin(t, "hostile"), runtime.ModuleOptions{ReuseWithinSession: true})
	call(reuse, "alice", "alice's secret")
	if got := call(reuse, "bob", "bob's"); got != "" {
		t.Fatalf("reuse mode: bob saw %q", got)
	}
	if got := call(reuse, "alice", "next"); got != "alice's secret" {
		t.Fatalf("reuse mode: alice's own instance was not reused (got %q)", got)
	}
	if got := call(reuse, "", "anonymous"); got != "" {
		t.Fatalf("a call without a session saw %q", got)
	}
	if s := reuse.Stats(); s.SessionReuses != 1 {
		t.Fatalf("stats %+v, want one session reuse", s)
	}
}

func TestPoolServesFromPrewarmedInstances(t *testing.T) {
	rt := newRuntime(t)
	m := compile(t, rt, plugin(t, "hostile"), runtime.ModuleOptions{PoolSize: 2})
	deadline := time.Now().Add(10 * time.Second)
	for m.Stats().Instantiations < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := m.Call(context.Background(), "leak", nil, nil); err != nil {
		t.Fatal(err)
	}
	s := m.Stats()
	if s.PoolHits != 1 || s.PoolMisses != 0 || s.InstantiateAvg <= 0 {
		t.Fatalf("stats %+v, want one hit from the pre-warmed pool", s)
	}
}

// FuzzHostCalls drives the host functions with arbitrary pointers and bytes.
// Whatever comes in, a call ends with a known code or succeeds, and the
// module keeps serving.
func FuzzHostCalls(f *testing.F) {
	rt := newRuntime(f)
	m := compile(f, rt, plugin(f, "hostile"), runtime.ModuleOptions{Limits: runtime.Limits{Timeout: 2 * time.Second}})
	env := &runtime.Env{Data: records, Grants: []string{"facts"}, CorpusMatch: true}
	f.Add([]byte{0, 1, '{', '}'})
	f.Add([]byte{1, 1, '{', '"', 'i', 'd', '"', ':', '1', '}'})
	f.Add([]byte{2, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Add([]byte{0, 1, 0xff, 0xfe})
	f.Add([]byte(`\x01\x01{"datanet":"facts","id":"r1"}`))
	allowed := map[abi.Code]bool{"": true, abi.CodeBadPointer: true, abi.CodeBadHostCall: true}
	f.Fuzz(func(t *testing.T, in []byte) {
		_, err := m.Call(context.Background(), "raw", in, env)
		if !allowed[abi.CodeOf(err)] {
			t.Fatalf("input %x: unexpected %v", in, err)
		}
		if _, err := m.Call(context.Background(), "leak", nil, env); err != nil {
			t.Fatalf("module broken after input %x: %v", in, err)
		}
	})
}

// The instances kept for sessions are bounded: one session's calls keep one,
// many sessions keep at most MaxSessions, and eviction takes the least
// recently used, never the one just released.
func TestSessionInstancesAreBounded(t *testing.T) {
	rt := newRuntime(t)
	m := compile(t, rt, plugin(t, "hostile"), runtime.ModuleOptions{ReuseWithinSession: true, PoolSize: -1})
	call := func(session, in string) string {
		out, err := m.Call(context.Background(), "leak", []byte(in), &runtime.Env{Session: session})
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	for i := range 500 {
		call("one", fmt.Sprint(i))
	}
	if s := m.Stats(); s.Sessions != 1 {
		t.Fatalf("500 calls of one session keep %d instances", s.Sessions)
	}
	for i := range runtime.MaxSessions + 10 {
		call(fmt.Sprint("s", i), "mine")
		// The session just released is never the one evicted.
		call("one", fmt.Sprint("round", i))
		if got := call("one", fmt.Sprint("next", i)); got != fmt.Sprint("round", i) {
			t.Fatalf("after %d other sessions, session one lost its instance (got %q)", i+1, got)
		}
	}
	if s := m.Stats(); s.Sessions != runtime.MaxSessions {
		t.Fatalf("%d sessions keep %d instances, want %d", runtime.MaxSessions+11, s.Sessions, runtime.MaxSessions)
	}
	if got := call("s0", "x"); got != "" {
		t.Fatalf("the least recently used session was not evicted (got %q)", got)
	}
	// Close is safe twice and concurrently, and a call after it fails.
	done := make(chan error, 2)
	for range 2 {
		go func() { done <- m.Close(context.Background()) }()
	}
	<-done
	<-done
	if _, err := m.Call(context.Background(), "leak", nil, nil); abi.CodeOf(err) != abi.CodeUnavailable {
		t.Fatalf("call after Close: %v", err)
	}
}

// The binary encoding answers outside the grants as JSON does: an error
// envelope with the grant code, no record, nothing metered.
func TestBinaryRequestsKeepToTheGrants(t *testing.T) {
	rt := newRuntime(t)
	m := compile(t, rt, plugin(t, "hostile"), runtime.ModuleOptions{})
	metered := 0
	env := &runtime.Env{Data: records, Grants: []string{"facts"}, Meter: func(abi.Record) error { metered++; return nil }}
	out, err := m.Call(context.Background(), "binary_denied", nil, env)
	if err != nil {
		t.Fatal(err)
	}
	want := `["` + string(abi.CodeGrantDenied) + `","` + string(abi.CodeGrantDenied) + `"]`
	if string(out) != want || metered != 0 {
		t.Fatalf("binary search and get of a datanet not granted: %s with %d metered, want %s and none", out, metered, want)
	}
}

// A plugin may read its config while it initialises, before its first
// call, as it could under the go-sdk.
func TestConfigReadAtInitialisation(t *testing.T) {
	rt := newRuntime(t)
	m := compile(t, rt, plugin(t, "hostile"), runtime.ModuleOptions{Config: map[string]string{"greeting": "hello"}})
	out, err := m.Call(context.Background(), "init_config", nil, &runtime.Env{Config: map[string]string{"greeting": "hello"}})
	if err != nil || string(out) != "init:hello" {
		t.Fatalf("config read at initialisation: %q, %v", out, err)
	}
}
