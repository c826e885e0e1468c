package abi_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tollgate-dev/tollgate/abi"
)

// A host function answers with a records envelope: the records on success,
// an error with its code otherwise. This is the JSON a plugin receives.
func ExampleRecordsResponse() {
	ok, _ := json.Marshal(abi.RecordsResponse{Records: []abi.Record{{
		Datanet: "papers", ID: "9f86d08", Contributor: "0xA11CE", Content: "bm25 ranks records", Score: 1.5,
	}}})
	fmt.Println(string(ok))

	denied, _ := json.Marshal(abi.RecordsResponse{Error: abi.Errorf(abi.CodeGrantDenied, "not granted %q", "private")})
	fmt.Println(string(denied))
	// Output:
	// {"records":[{"datanet":"papers","id":"9f86d08","contributor":"0xA11CE","content":"bm25 ranks records","score":1.5}]}
	// {"error":{"code":"grant_denied","message":"not granted \"private\""}}
}

// An attribution plugin reads an AttributeRequest and answers with relative
// weights per record; the host normalises them.
func ExampleAttributeRequest() {
	in := `{"invocation":"inv-1","output":"the answer","accesses":[
		{"datanet":"papers","record":"r1","contributor":"0xA11CE","bytes":120,"content":"..."},
		{"datanet":"papers","record":"r2","contributor":"0xB0B","bytes":40,"content":"..."}]}`
	var req abi.AttributeRequest
	if err := json.Unmarshal([]byte(in), &req); err != nil {
		fmt.Println(err)
		return
	}
	resp := abi.AttributeResponse{Method: "by-bytes"}
	for _, a := range req.Accesses {
		resp.Scores = append(resp.Scores, abi.Score{Record: a.Record, Weight: float64(a.Bytes)})
	}
	out, _ := json.Marshal(resp)
	fmt.Println(string(out))
	// Output:
	// {"method":"by-bytes","scores":[{"record":"r1","weight":120},{"record":"r2","weight":40}]}
}

// Errors carry a Code that callers branch on, through any wrapping; a
// sentinel of a code matches every error of that code with errors.Is.
func ExampleErrorf() {
	err := fmt.Errorf("invoke summarise: %w", abi.Errorf(abi.CodeInsufficientCredit, "needs %d more", 40))
	fmt.Println(err)
	fmt.Println(abi.CodeOf(err))
	fmt.Println(errors.Is(err, &abi.Error{Code: abi.CodeInsufficientCredit}))
	fmt.Println(errors.Is(err, &abi.Error{Code: abi.CodeTimeout}))
	fmt.Println(abi.CodeOf(errors.New("disk full")))
	// Output:
	// invoke summarise: insufficient_credit: needs 40 more
	// insufficient_credit
	// true
	// false
	// internal
}

// Wrap keeps the cause for the host's logs and errors.Is, while only the
// code and message cross the plugin boundary.
func ExampleWrap() {
	cause := errors.New("connection reset")
	err := abi.Wrap(abi.CodeUnavailable, cause, "datanet %s", "papers")
	fmt.Println(err)
	fmt.Println(errors.Is(err, cause))
	b, _ := json.Marshal(err)
	fmt.Println(string(b))
	// Output:
	// unavailable: datanet papers: connection reset
	// true
	// {"code":"unavailable","message":"datanet papers: connection reset"}
}
