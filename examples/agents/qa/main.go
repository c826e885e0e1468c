//go:build wasip1

// Command qa is an example Tollgate agent: it answers a question from the
// records of a datanet, citing the records it used.
//
// Input is either plain text (the question, asked of the first datanet the
// agent was granted) or JSON {"datanet": "...", "question": "..."}.
// Every record it reads goes through the host's metered datanet_search, so
// the contributors of those records are paid when it answers.
package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	pdk "github.com/extism/go-pdk"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/abi/guest"
	"github.com/tollgate-dev/tollgate/abi/guest/prewarm"
	"github.com/tollgate-dev/tollgate/abi/wire"
)

type question struct {
	Datanet  string `json:"datanet"`
	Question string `json:"question"`
}

//go:wasmexport invoke
func invoke() int32 {
	q, err := parse(guest.Input())
	if err != nil {
		return guest.Fail(err)
	}
	records, err := wire.Search(q.Datanet, q.Question, 3)
	if err != nil {
		return guest.Fail(err)
	}
	if len(records) == 0 {
		guest.Output([]byte("I found nothing in " + q.Datanet + " about that."))
		return 0
	}
	guest.Output([]byte(answer(q, records)))
	return 0
}

// prewarm runs the agent's path over a canned question and records, once
// per instance before the runtime saves the state every call starts from,
// so no call pays for building Go's reflection and formatting caches, nor
// for taking the allocator's spans from the heap.
//
//go:wasmexport prewarm
func prewarmExport() int32 {
	prewarm.Envelopes()
	q, err := parse([]byte(`{"datanet":"d","question":"Why is the sky blue?"}`))
	if err != nil {
		return guest.Fail(err)
	}
	answer(q, []abi.Record{
		{Datanet: "d", ID: "0123456789abcdef", Content: "The sky is blue. Light scatters.", Score: 2},
		{Datanet: "d", ID: "fedcba9876543210", Content: "Water is wet.", Score: 1},
	})
	prewarm.Allocator()
	return 0
}

// answer cites, from records (best first), the sentences that best answer q.
func answer(q question, records []abi.Record) string {
	// Cite only records that match nearly as well as the best one.
	for i, r := range records {
		if r.Score < records[0].Score/2 {
			records = records[:i]
			break
		}
	}
	var b strings.Builder
	words := tokens(q.Question)
	for i, r := range records {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(bestSentence(r.Content, words))
		b.WriteString(" [")
		b.WriteString(strconv.Itoa(i + 1))
		b.WriteByte(']')
	}
	b.WriteString("\n\nSources:")
	for i, r := range records {
		b.WriteString("\n[")
		b.WriteString(strconv.Itoa(i + 1))
		b.WriteString("] ")
		b.WriteString(r.Datanet)
		b.WriteByte('/')
		b.WriteString(short(r.ID))
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
	if strings.TrimSpace(q.Question) == "" || q.Datanet == "" {
		return q, fmt.Errorf("input: need a question and a datanet")
	}
	return q, nil
}

// bestSentence returns the sentence of content sharing most words with the question.
func bestSentence(content string, words []string) string {
	best, bestScore := strings.TrimSpace(content), -1
	for _, s := range strings.SplitAfter(content, ".") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		score := 0
		for _, w := range tokens(s) {
			if _, found := slices.BinarySearch(words, w); found {
				score++
			}
		}
		if score > bestScore {
			best, bestScore = s, score
		}
	}
	return best
}

// tokens returns the distinct words of s, lower-cased and sorted: runs of
// letters and digits. A sorted slice costs less to build and search than a
// map for the few dozen words of a sentence, and stays O(n log n) for a
// long one.
func tokens(s string) []string {
	out := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
	slices.Sort(out)
	return slices.Compact(out)
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func main() {}
