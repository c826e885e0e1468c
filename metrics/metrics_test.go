package metrics

import (
	"fmt"
	"testing"
)

// Past MaxLabelValues distinct agents, metrics count the rest as "other":
// anyone may publish agents, and must not grow the node's series without end.
func TestMetricLabelsAreBounded(t *testing.T) {
	m := New()
	for i := range MaxLabelValues {
		if got := m.label("agent", fmt.Sprint("a", i)); got != fmt.Sprint("a", i) {
			t.Fatalf("label %d = %q", i, got)
		}
	}
	if got := m.label("agent", "one-too-many"); got != "other" {
		t.Fatalf("label past the bound = %q", got)
	}
	if got := m.label("agent", "a7"); got != "a7" {
		t.Fatalf("a label in use = %q", got)
	}
}
