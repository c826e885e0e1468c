package host_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/api"
)

// TestErrorMessagesSayWhatWentWrong sends each service requests it must
// refuse and checks that every message says more than its code: not the
// code again, not the code in other words, and not the code twice.
func TestErrorMessagesSayWhatWentWrong(t *testing.T) {
	e := newEnv(t)
	_, tok := e.fund(t, 0)
	nextSteps := map[string]string{
		"LedgerService/GetBalance  map[]":                                       "sign in",
		"LedgerService/GetReceipt " + tok + " map[]":                            "give a receipt id",
		"LedgerService/GetReceipt " + tok + " map[id:rc-missing-42]":            "check the name or id",
		"AgentService/Invoke " + tok + " map[agent:acme/qa@1.0.0 inputText:hi]": "deposit tokens",
	}
	for _, c := range []struct {
		method, token string
		body          map[string]any
	}{
		{"LedgerService/GetReceipt", tok, map[string]any{"id": "rc-missing-42"}},
		{"LedgerService/GetReceipt", tok, map[string]any{}},
		{"LedgerService/GetBalance", "", map[string]any{}},
		{"LedgerService/GetBalance", tok, map[string]any{"account": "nobody"}},
		{"LedgerService/GetProof", tok, map[string]any{"epoch": 7}},
		{"LedgerService/GetProof", tok, map[string]any{}},
		{"LedgerService/GetEpoch", tok, map[string]any{"epoch": 9}},
		{"LedgerService/CloseEpoch", tok, map[string]any{}},
		{"LedgerService/Withdraw", tok, map[string]any{"amount": "5"}},
		{"LedgerService/Withdraw", tok, map[string]any{"amount": "x"}},
		{"LedgerService/ListEpochs", tok, map[string]any{"pageToken": "zz"}},
		{"AgentService/Invoke", tok, map[string]any{"agent": "acme/qa@1.0.0", "inputText": "hi"}},
		{"AgentService/Invoke", tok, map[string]any{"agent": "acme/none@1.0.0", "inputText": "hi"}},
		{"AgentService/Invoke", tok, map[string]any{"agent": "", "inputText": "hi"}},
		{"AgentService/Invoke", tok, map[string]any{"agent": "acme/qa@1.0.0", "inputText": "hi", "maxPrice": "1"}},
		{"RegistryService/GetPlugin", tok, map[string]any{"ref": "acme/none@latest"}},
		{"RegistryService/GetPlugin", tok, map[string]any{"ref": "???"}},
		{"RegistryService/GetPluginWasm", tok, map[string]any{"sha256": "00"}},
		{"RegistryService/YankPlugin", tok, map[string]any{"ref": "acme/qa@1.0.0", "signature": "0x00"}},
		{"DatanetService/GetDatanet", tok, map[string]any{"name": "nothere"}},
		{"DatanetService/GetRecord", tok, map[string]any{"datanet": "facts", "id": "nope"}},
		{"DatanetService/Search", tok, map[string]any{"datanet": "nothere", "query": "sky"}},
		{"DatanetService/GetVersion", tok, map[string]any{"datanet": "facts", "version": 99}},
		{"AuthService/SignIn", "", map[string]any{"message": "hello", "signature": "0x00"}},
		{"AuthService/WhoAmI", "bogus", map[string]any{}},
	} {
		status, hdr, out := e.post(t, c.method, c.token, c.body)
		if status == 200 {
			t.Errorf("%s %v: status 200, want a refusal", c.method, c.body)
			continue
		}
		code, _ := out["code"].(string)
		msg, _ := out["message"].(string)
		abiCode := hdr.Get(api.CodeHeader)
		t.Logf("%s %v: %s/%s: %s", c.method, c.body, code, abiCode, msg)
		for _, k := range []string{code, abiCode} {
			if k == "" {
				continue
			}
			plain := strings.ReplaceAll(k, "_", " ")
			trimmed := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(msg, k), ":"))
			if msg == k || strings.EqualFold(msg, plain) || trimmed == "" || trimmed == k || strings.EqualFold(trimmed, plain) || strings.HasPrefix(trimmed, k+":") {
				t.Errorf("%s %v: message %q only repeats its code %s", c.method, c.body, msg, k)
			}
		}
		if want := nextSteps[c.method+" "+c.token+" "+fmt.Sprint(c.body)]; want != "" && !strings.Contains(msg, want) {
			t.Errorf("%s %v: message %q does not say what to do next (%q)", c.method, c.body, msg, want)
		}
		if len(msg) < 12 {
			t.Errorf("%s %v: message %q is too short to say what went wrong", c.method, c.body, msg)
		}
	}
}
