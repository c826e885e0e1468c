package runtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/runtime"
)

// tableData is a DataSource over a fixed slice: the runtime's tests exercise
// grants, limits and metering, not search quality.
type tableData []abi.Record

func (d tableData) Search(_ context.Context, datanet, query string, limit int) ([]abi.Record, error) {
	var out []abi.Record
	for _, r := range d {
		if r.Datanet == datanet && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

func (d tableData) Get(_ context.Context, datanet, id string) (abi.Record, error) {
	for _, r := range d {
		if r.Datanet == datanet && r.ID == id {
			return r, nil
		}
	}
	return abi.Record{}, abi.Errorf(abi.CodeNotFound, "no record %s", id)
}

func (d tableData) CorpusMatch(context.Context, string, string, int) ([]abi.Span, error) {
	return nil, nil
}

var records = tableData{
	{Datanet: "facts", ID: "r1", Contributor: "0x01", Content: "The sky is blue because of Rayleigh scattering."},
	{Datanet: "facts", ID: "r2", Contributor: "0x02", Content: "Water boils at 100 degrees Celsius at sea level."},
	{Datanet: "secret", ID: "s1", Contributor: "0x03", Content: "Another tenant's data."},
}

// exampleRecords are records the size of the example datanet's (a
// sentence or two each), which the Go example agent answers from.
var exampleRecords = tableData{
	{Datanet: "facts", ID: "8f1e2d3c4b5a6978", Contributor: "0x01", Content: "The sky looks blue because air molecules scatter short blue wavelengths of sunlight far more than red ones. This is Rayleigh scattering."},
	{Datanet: "facts", ID: "9f1e2d3c4b5a6978", Contributor: "0x02", Content: "Sunsets look red and orange because sunlight crosses more air near the horizon, and the blue light is scattered away before it reaches you."},
	{Datanet: "facts", ID: "af1e2d3c4b5a6978", Contributor: "0x03", Content: "Water boils at 100 degrees Celsius at sea level. At higher altitude the air pressure is lower, so water boils at a lower temperature."},
}

func compile(t testing.TB, rt *runtime.Runtime, path string, opts runtime.ModuleOptions) *runtime.Module {
	t.Helper()
	wasm, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := rt.Compile(context.Background(), wasm, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(context.Background()) })
	return m
}

func newRuntime(t testing.TB) *runtime.Runtime {
	t.Helper()
	rt, err := runtime.New(runtime.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	return rt
}

// extismWasm returns the path of one of Extism's own test plugins.
func extismWasm(t testing.TB, name string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/extism/go-sdk").Output()
	if err != nil {
		t.Fatalf("locate extism go-sdk: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "wasm", name)
}

func TestAgentReadsAreMeteredRecordByRecord(t *testing.T) {
	rt := newRuntime(t)
	qa := compile(t, rt, "../examples/agents/qa/qa.wasm", runtime.ModuleOptions{})
	var metered []string
	env := &runtime.Env{
		Data:   records,
		Grants: []string{"facts"},
		Meter:  func(r abi.Record) error { metered = append(metered, r.ID); return nil },
		Config: map[string]string{"tollgate.datanets": "facts"},
	}
	out, err := qa.Call(context.Background(), abi.ExportInvoke, []byte("Why is the sky blue?"), env)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(metered, ","), "r1,r2"; got != want {
		t.Fatalf("metered %q, want %q", got, want)
	}
	if !strings.Contains(string(out), "Rayleigh scattering") || !strings.Contains(string(out), "facts/r1") {
		t.Fatalf("answer does not cite the record it used:\n%s", out)
	}
}

func TestUngrantedDatanetGetsAnErrorNotData(t *testing.T) {
	rt := newRuntime(t)
	qa := compile(t, rt, "../examples/agents/qa/qa.wasm", runtime.ModuleOptions{})
	metered := 0
	env := &runtime.Env{Data: records, Grants: []string{"facts"}, Meter: func(abi.Record) error { metered++; return nil }}
	in, _ := json.Marshal(map[string]string{"datanet": "secret", "question": "data"})
	_, err := qa.Call(context.Background(), abi.ExportInvoke, in, env)
	if abi.CodeOf(err) != abi.CodePluginError || !strings.Contains(err.Error(), string(abi.CodeGrantDenied)) {
		t.Fatalf("err = %v, want the plugin to fail on %s", err, abi.CodeGrantDenied)
	}
	if metered != 0 {
		t.Fatalf("%d records metered from an ungranted datanet", metered)
	}
	// The module goes on serving.
	if _, err := qa.Call(context.Background(), abi.ExportInvoke, []byte(`{"datanet":"facts","question":"boils"}`), env); err != nil {
		t.Fatalf("next good call: %v", err)
	}
}

func TestAnyExtismPluginRunsAsAnAgent(t *testing.T) {
	rt := newRuntime(t)
	m := compile(t, rt, extismWasm(t, "count_vowels.wasm"), runtime.ModuleOptions{})
	out, err := m.Call(context.Background(), "count_vowels", []byte("Hello, payable world"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Count int `json:"count"`
	}
	if err := json.Unmarshal(out, &got); err != nil || got.Count != 6 {
		t.Fatalf("count_vowels = %s (%v), want count 6", out, err)
	}
}

func TestHaskellPluginRunsAsAnAgent(t *testing.T) {
	rt := newRuntime(t)
	m := compile(t, rt, extismWasm(t, "hello_haskell.wasm"), runtime.ModuleOptions{})
	out, err := m.Call(context.Background(), "testing", []byte("Tollgate"), &runtime.Env{Config: map[string]string{"greeting": "Hi there"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(out); got != "Hi there, Tollgate" {
		t.Fatalf("hello_haskell said %q", got)
	}
}

// TestFilesAreDenied: Extism's fs.wasm returns the contents of
// /mnt/test.txt when the host mounts a directory there; we mount nothing.
func TestFilesAreDenied(t *testing.T) {
	rt := newRuntime(t)
	m := compile(t, rt, extismWasm(t, "fs.wasm"), runtime.ModuleOptions{})
	out, err := m.Call(context.Background(), "run_test", nil, nil)
	if len(out) != 0 {
		t.Fatalf("fs.wasm read %q (err %v)", out, err)
	}
}

func TestFailuresHaveTheirOwnCodes(t *testing.T) {
	rt := newRuntime(t)
	cases := []struct {
		name   string
		wasm   string
		export string
		input  string
		limits runtime.Limits
		want   abi.Code
		clock  bool
		config map[string]string
	}{
		{"missing export", "count_vowels.wasm", "nope", "", runtime.Limits{}, abi.CodeInvalidPlugin, false, nil},
		{"input too large", "count_vowels.wasm", "count_vowels", strings.Repeat("a", 100), runtime.Limits{MaxInputBytes: 10}, abi.CodeInputTooLarge, false, nil},
		{"output too large", "count_vowels.wasm", "count_vowels", "aaaa", runtime.Limits{MaxOutputBytes: 4}, abi.CodeOutputTooLarge, false, nil},
		{"sleeps past its deadline", "sleep.wasm", "run_test", "", runtime.Limits{Timeout: 100e6}, abi.CodeTimeout, true, map[string]string{"duration": "3"}},
		{"plugin reports an error", "fail.wasm", "run_test", "", runtime.Limits{}, abi.CodePluginError, false, nil},
		{"http is denied", "http.wasm", "run_test", "", runtime.Limits{}, abi.CodeNetworkDenied, false, nil},
		{"files are denied", "fs.wasm", "run_test", "", runtime.Limits{}, abi.CodeFileDenied, false, nil},
		{"exit with a code", "exit.wasm", "_start", "", runtime.Limits{}, abi.CodeExit, false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := compile(t, rt, extismWasm(t, c.wasm), runtime.ModuleOptions{Limits: c.limits, Nondeterministic: c.clock})
			_, err := m.Call(context.Background(), c.export, []byte(c.input), &runtime.Env{Config: c.config})
			if got := abi.CodeOf(err); got != c.want {
				t.Fatalf("code %q (%v), want %q", got, err, c.want)
			}
			if !errors.Is(err, &abi.Error{Code: c.want}) {
				t.Fatalf("errors.Is does not match code %s", c.want)
			}
		})
	}
}

func TestOperatorCapsWhatAManifestAsks(t *testing.T) {
	rt, err := runtime.New(runtime.Config{Max: runtime.Limits{Timeout: time.Second, MaxMemoryPages: 300}})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(context.Background())
	m := compile(t, rt, extismWasm(t, "count_vowels.wasm"), runtime.ModuleOptions{Limits: runtime.Limits{Timeout: time.Hour, MaxMemoryPages: 60000, MaxHostCalls: 5}})
	got := m.Limits()
	if got.Timeout != time.Second || got.MaxMemoryPages != 300 || got.MaxHostCalls != 5 || got.MaxRecords != runtime.DefaultMaxRecords {
		t.Fatalf("limits %+v", got)
	}
	m2 := compile(t, rt, extismWasm(t, "count_vowels.wasm"), runtime.ModuleOptions{Limits: runtime.Limits{MaxHostCalls: 1 << 30}})
	if m2.Limits().MaxHostCalls != runtime.MaxHostCalls {
		t.Fatalf("an uncapped field was not held to the default maximum: %+v", m2.Limits())
	}
}

// TestAssemblyScriptAgent runs the AssemblyScript example agent, which .ci/run
// builds with npm: the ABI works outside Go.
func TestAssemblyScriptAgent(t *testing.T) {
	path := "../examples/agents/qa-as/qa-as.wasm"
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s missing: .ci/run builds it", path)
		}
		t.Skip("build it with: cd examples/agents/qa-as && npm ci && npm run build")
	}
	rt := newRuntime(t)
	m := compile(t, rt, path, runtime.ModuleOptions{})
	var metered []string
	env := &runtime.Env{Data: records, Grants: []string{"facts"}, Config: map[string]string{"tollgate.datanets": "facts"},
		Meter: func(r abi.Record) error { metered = append(metered, r.ID); return nil }}
	out, err := m.Call(context.Background(), abi.ExportInvoke, []byte("Why is the sky blue?"), env)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "Rayleigh scattering") || strings.Join(metered, ",") != "r1" {
		t.Fatalf("output %q, metered %v", out, metered)
	}
	env.Config = map[string]string{"tollgate.datanets": "secret"}
	if _, err := m.Call(context.Background(), abi.ExportInvoke, []byte("data"), env); abi.CodeOf(err) != abi.CodePluginError {
		t.Fatalf("ungranted datanet: %v", err)
	}
}

// A deterministic plugin spends the same fuel on the same input, in every
// fresh instance.
func TestFuelIsDeterministic(t *testing.T) {
	rt := newRuntime(t)
	ctx := context.Background()
	m := compile(t, rt, extismWasm(t, "count_vowels.wasm"), runtime.ModuleOptions{})
	input := []byte(strings.Repeat("Payable AI pays the people whose data shaped the answer. ", 500))
	var used []uint64
	for range 3 {
		env := &runtime.Env{}
		if _, err := m.Call(ctx, "count_vowels", input, env); err != nil {
			t.Fatal(err)
		}
		used = append(used, env.FuelUsed)
	}
	if used[0] == 0 || used[0] != used[1] || used[1] != used[2] {
		t.Fatalf("fuel spent on the same input: %v", used)
	}
}
