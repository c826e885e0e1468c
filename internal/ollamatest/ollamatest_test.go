package ollamatest_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/ollamatest"
)

// The model the package writes answers its reply, whatever the prompt,
// and the server reports its usage.
func TestModelAnswersItsReply(t *testing.T) {
	s := ollamatest.Start(t)
	s.Create(t, "tiny", "air scatters blue sunlight more than red light")
	resp, err := s.Chat(context.Background(), "tiny", "Tell me something?", 32)
	if err != nil {
		t.Fatalf("%v\n%s", err, s.Logs())
	}
	defer resp.Body.Close()
	var out struct {
		Choices []struct {
			Message      struct{ Content string }
			FinishReason string `json:"finish_reason"`
		}
		Usage struct {
			Prompt     int `json:"prompt_tokens"`
			Completion int `json:"completion_tokens"`
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if len(out.Choices) != 1 || out.Choices[0].Message.Content != "air scatters blue sunlight more than red light" || out.Usage.Completion == 0 || out.Usage.Prompt == 0 {
		t.Fatalf("answer %+v\n%s", out, s.Logs())
	}
	t.Logf("usage %+v, finish %s", out.Usage, out.Choices[0].FinishReason)
}
