// Package grant names the datanets a plugin may read. The registry signs
// them into a plugin's manifest, the runtime refuses reads outside them,
// and the host and attribution pass them from one to the other; they share
// this type so the rule for "may read" is written once. It lives apart from
// the runtime so the registry need not link the WebAssembly engine.
package grant

import "slices"

// List is the datanets a plugin is granted, in the order its manifest
// names them. It is a []string underneath, so it encodes to JSON as one.
type List []string

// Allows reports whether the plugin may read datanet.
func (l List) Allows(datanet string) bool { return slices.Contains(l, datanet) }

// Model lets an agent call a model (name@version), generating at most
// MaxTokens tokens per call.
type Model struct {
	Model     string `json:"model"`
	MaxTokens int    `json:"max_tokens"`
}

// Models is the models an agent is granted.
type Models []Model

// Cap returns the token cap of the grant of model, and whether there is one.
func (l Models) Cap(model string) (int, bool) {
	for _, g := range l {
		if g.Model == model {
			return g.MaxTokens, true
		}
	}
	return 0, false
}
