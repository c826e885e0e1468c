package abi

import "encoding/json"

// SearchRequest asks for the records of a datanet that best match a query.
type SearchRequest struct {
	Datanet string `json:"datanet"`
	Query   string `json:"query"`
	Limit   int    `json:"limit"`
}

// GetRequest asks for one record by id (its content hash).
type GetRequest struct {
	Datanet string `json:"datanet"`
	ID      string `json:"id"`
}

// Record is one record of a datanet as a plugin sees it. Every Record a host
// function returns is one metered access.
type Record struct {
	Datanet     string  `json:"datanet"`
	ID          string  `json:"id"`
	Contributor string  `json:"contributor"`
	Content     string  `json:"content"`
	Score       float64 `json:"score,omitempty"`
}

// RecordsResponse is the envelope returned by [FnDatanetSearch] and [FnDatanetGet].
type RecordsResponse struct {
	Records []Record `json:"records,omitempty"`
	Error   *Error   `json:"error,omitempty"`
}

// MatchRequest asks which records of a datanet contain spans of text.
type MatchRequest struct {
	Datanet   string `json:"datanet"`
	Text      string `json:"text"`
	MinTokens int    `json:"min_tokens"`
}

// Span is a maximal span of the text found verbatim in a datanet.
type Span struct {
	Start  int `json:"start"` // byte offset in the text
	End    int `json:"end"`
	Tokens int `json:"tokens"`
	// Records are the sorted ids of the records containing the span, or
	// none when more than 256 records do: a span common to many is no
	// record's in particular, and naming some would depend on how the
	// host's index is laid out.
	Records []string `json:"records"`
}

// MatchResponse is the envelope returned by [FnCorpusMatch].
type MatchResponse struct {
	Spans []Span `json:"spans,omitempty"`
	Error *Error `json:"error,omitempty"`
}

// Access is one record an agent read during an invocation, as given to an
// attribution plugin.
type Access struct {
	Datanet     string `json:"datanet"`
	Record      string `json:"record"`
	Contributor string `json:"contributor"`
	Bytes       int    `json:"bytes"`
	Content     string `json:"content"`
}

// AttributeRequest is the input of an attribution plugin's [ExportAttribute].
type AttributeRequest struct {
	Invocation string   `json:"invocation"`
	Output     string   `json:"output"`
	Accesses   []Access `json:"accesses"`
	// Datanets the agent was granted: what corpus_match may search.
	Datanets []string        `json:"datanets,omitempty"`
	Params   json.RawMessage `json:"params,omitempty"`
}

// Score is the weight an attribution plugin gives one record. Weights are
// relative: the host normalises them.
type Score struct {
	Record string  `json:"record"`
	Weight float64 `json:"weight"`
}

// AttributeResponse is the output of an attribution plugin.
type AttributeResponse struct {
	Method string  `json:"method"`
	Scores []Score `json:"scores"`
}
