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
