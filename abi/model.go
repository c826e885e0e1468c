package abi

// CodeModelFailed is a model's backend failing or running past the
// agent's time.
const CodeModelFailed Code = "model_failed"

// Message is one turn of a chat-style prompt.
type Message struct {
	Role    string `json:"role"` // "system", "user" or "assistant"
	Content string `json:"content"`
}

// GenerateRequest asks a model the agent is granted for a completion, the
// request of [FnModelGenerate]. Set Prompt or Messages; a model continues
// the Prompt, or the messages' contents one per line.
type GenerateRequest struct {
	Model    string    `json:"model"` // name@version, as the agent's manifest grants it
	Prompt   string    `json:"prompt,omitempty"`
	Messages []Message `json:"messages,omitempty"`
	// MaxTokens bounds the tokens generated; 0 takes the grant's cap, and
	// more than the cap is refused. The caller is charged for the tokens
	// generated, but must be able to pay for MaxTokens of them.
	MaxTokens int `json:"max_tokens,omitempty"`
	// Temperature 0 takes the most likely token each time.
	Temperature float64  `json:"temperature,omitempty"`
	Seed        uint64   `json:"seed,omitempty"`
	Stop        []string `json:"stop,omitempty"`
}

// GenerateResponse is the envelope returned by [FnModelGenerate].
type GenerateResponse struct {
	Text      string `json:"text,omitempty"`
	TokensIn  int    `json:"tokens_in"`
	TokensOut int    `json:"tokens_out"`
	// FinishReason is "length" (MaxTokens reached), "stop" (a stop
	// string) or "end" (the model ended its answer).
	FinishReason string `json:"finish_reason,omitempty"`
	Error        *Error `json:"error,omitempty"`
}
