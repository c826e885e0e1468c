//go:build wasip1

// Command rag is an example Tollgate agent that answers with a model: it
// searches a datanet for the records closest to the question, puts them
// in the prompt, asks a model it is granted to continue, and cites the
// records it retrieved. Its receipt pays three ways: the records it read
// (access), the model's publisher, and the records the model was built
// from, for the tokens they made (training).
//
// Input is plain text (the question, asked of the first datanet and the
// first model the agent is granted) or JSON {"question": "...",
// "datanet": "...", "model": "name@version", "max_tokens": n,
// "temperature": t, "seed": s}.
package main

import (
	"encoding/json"
	"fmt"
	"strings"

	pdk "github.com/extism/go-pdk"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/abi/guest"
	"github.com/tollgate-dev/tollgate/abi/guest/model"
)

type question struct {
	Question    string  `json:"question"`
	Datanet     string  `json:"datanet"`
	Model       string  `json:"model"`
	MaxTokens   int     `json:"max_tokens"`
	Temperature float64 `json:"temperature"`
	Seed        uint64  `json:"seed"`
}

// retrieved is how many records go into the prompt.
const retrieved = 3

//go:wasmexport invoke
func invoke() int32 {
	q, err := parse(guest.Input())
	if err != nil {
		return guest.Fail(err)
	}
	records, err := guest.Search(q.Datanet, q.Question, retrieved)
	if err != nil {
		return guest.Fail(err)
	}
	resp, err := model.Generate(abi.GenerateRequest{
		Model: q.Model, Prompt: prompt(q.Question, records), MaxTokens: q.MaxTokens,
		Temperature: q.Temperature, Seed: q.Seed, Stop: []string{"\n"},
	})
	if err != nil {
		return guest.Fail(err)
	}
	guest.Output([]byte(answer(q.Question, resp.Text, records)))
	return 0
}

// prompt puts the retrieved records before the question, one per line:
// the model continues from the question's words.
func prompt(question string, records []abi.Record) string {
	var b strings.Builder
	for _, r := range records {
		b.WriteString(strings.ReplaceAll(r.Content, "\n", " "))
		b.WriteByte('\n')
	}
	// Without its question mark: the model continues the question's words.
	b.WriteString(strings.TrimRight(strings.TrimSpace(question), "?"))
	return b.String()
}

func answer(question, text string, records []abi.Record) string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(strings.TrimRight(strings.TrimSpace(question), "?")))
	if text != "" {
		b.WriteByte(' ')
		b.WriteString(strings.TrimSpace(text))
	}
	if len(records) > 0 {
		b.WriteString("\n\nSources:")
		for i, r := range records {
			fmt.Fprintf(&b, "\n[%d] %s/%s", i+1, r.Datanet, short(r.ID))
		}
	}
	return b.String()
}

func parse(in []byte) (question, error) {
	var q question
	if len(in) > 0 && in[0] == '{' {
		if err := json.Unmarshal(in, &q); err != nil {
			return q, fmt.Errorf("input: %w", err)
		}
	} else {
		q.Question = string(in)
	}
	if q.Datanet == "" {
		granted, _ := pdk.GetConfig("tollgate.datanets")
		q.Datanet, _, _ = strings.Cut(granted, ",")
	}
	if q.Model == "" {
		granted, _ := pdk.GetConfig("tollgate.models")
		q.Model, _, _ = strings.Cut(granted, ",")
	}
	if strings.TrimSpace(q.Question) == "" || q.Datanet == "" || q.Model == "" {
		return q, fmt.Errorf("input: need a question, a datanet and a model")
	}
	return q, nil
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func main() {}
