package guest_test

import (
	"encoding/json"
	"fmt"

	"github.com/tollgate-dev/tollgate/abi"
)

// guest.Search sends the host a SearchRequest as JSON and decodes the
// RecordsResponse it gets back; an error envelope becomes the error it
// returns, with the host's code. (The guest functions themselves run only
// inside a wasip1 plugin; this shows what they exchange.)
func Example_search() {
	req, _ := json.Marshal(abi.SearchRequest{Datanet: "papers", Query: "block-max pruning", Limit: 3})
	fmt.Println(string(req))

	for _, answer := range []string{
		`{"records":[{"datanet":"papers","id":"9f86d08","contributor":"0xA11CE","content":"...","score":2.5}]}`,
		`{"error":{"code":"grant_denied","message":"papers is not granted"}}`,
	} {
		var resp abi.RecordsResponse
		if err := json.Unmarshal([]byte(answer), &resp); err != nil {
			fmt.Println(err)
			continue
		}
		if resp.Error != nil {
			var err error = resp.Error
			fmt.Println("error:", abi.CodeOf(err), err)
			continue
		}
		for _, r := range resp.Records {
			fmt.Println(r.ID, r.Contributor, r.Score)
		}
	}
	// Output:
	// {"datanet":"papers","query":"block-max pruning","limit":3}
	// 9f86d08 0xA11CE 2.5
	// error: grant_denied grant_denied: papers is not granted
}

// guest.Attribute decodes the plugin's input as an AttributeRequest, runs
// the body it is given and encodes the AttributeResponse as the output.
// This body weighs each record read by how often its contributor's records
// were read.
func Example_attribute() {
	body := func(req abi.AttributeRequest) (abi.AttributeResponse, error) {
		reads := map[string]int{}
		for _, a := range req.Accesses {
			reads[a.Contributor]++
		}
		resp := abi.AttributeResponse{Method: "reads"}
		for _, a := range req.Accesses {
			resp.Scores = append(resp.Scores, abi.Score{Record: a.Record, Weight: float64(reads[a.Contributor])})
		}
		return resp, nil
	}

	input := `{"invocation":"inv-7","output":"...","accesses":[
		{"datanet":"papers","record":"r1","contributor":"0xA11CE","bytes":10,"content":"..."},
		{"datanet":"papers","record":"r2","contributor":"0xB0B","bytes":10,"content":"..."},
		{"datanet":"papers","record":"r3","contributor":"0xA11CE","bytes":10,"content":"..."}]}`
	var req abi.AttributeRequest
	if err := json.Unmarshal([]byte(input), &req); err != nil {
		fmt.Println(err)
		return
	}
	resp, err := body(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, _ := json.Marshal(resp)
	fmt.Println(string(out))
	// Output:
	// {"method":"reads","scores":[{"record":"r1","weight":2},{"record":"r2","weight":1},{"record":"r3","weight":2}]}
}
