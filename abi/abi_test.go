package abi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/tollgate-dev/tollgate/abi"
)

func TestCodeOfFindsTheCodeThroughWrapping(t *testing.T) {
	base := abi.Errorf(abi.CodeGrantDenied, "datanet %q", "secret")
	cases := []struct {
		name string
		err  error
		want abi.Code
	}{
		{"nil", nil, ""},
		{"plain", base, abi.CodeGrantDenied},
		{"wrapped", fmt.Errorf("host: %w", base), abi.CodeGrantDenied},
		{"joined", errors.Join(errors.New("x"), base), abi.CodeGrantDenied},
		{"foreign", errors.New("disk full"), abi.CodeInternal},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := abi.CodeOf(c.err); got != c.want {
				t.Fatalf("CodeOf = %q, want %q", got, c.want)
			}
		})
	}
	if !errors.Is(fmt.Errorf("w: %w", base), &abi.Error{Code: abi.CodeGrantDenied}) || errors.Is(base, &abi.Error{Code: abi.CodeNotFound}) {
		t.Fatal("errors.Is does not compare codes")
	}
}

// FuzzRecordsResponse decodes untrusted envelope bytes the way a plugin's
// host-call results are decoded; it must never panic, and what decodes must
// re-encode to something that decodes to the same value.
func FuzzRecordsResponse(f *testing.F) {
	f.Add([]byte(`{"records":[{"datanet":"d","id":"x","contributor":"0x1","content":"c","score":1.5}]}`))
	f.Add([]byte(`{"error":{"code":"grant_denied","message":"no"}}`))
	f.Add([]byte(`{"records":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r abi.RecordsResponse
		if json.Unmarshal(b, &r) != nil {
			return
		}
		again, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var r2 abi.RecordsResponse
		if err := json.Unmarshal(again, &r2); err != nil {
			t.Fatalf("re-encoded envelope does not decode: %v", err)
		}
		// The round trip keeps every record and the error.
		if len(r2.Records) != len(r.Records) || (len(r.Records) > 0 && !reflect.DeepEqual(r2.Records, r.Records)) {
			t.Fatalf("records changed in a round trip:\n%+v\n%+v", r.Records, r2.Records)
		}
		if (r.Error == nil) != (r2.Error == nil) || (r.Error != nil && (r.Error.Code != r2.Error.Code || r.Error.Message != r2.Error.Message)) {
			t.Fatalf("error changed in a round trip: %+v, %+v", r.Error, r2.Error)
		}
		if third, _ := json.Marshal(r2); !bytes.Equal(third, again) {
			t.Fatalf("encoding is not stable: %s then %s", again, third)
		}
	})
}
