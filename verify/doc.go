// Package verify re-runs a closed epoch the way a third party would and
// checks it against the root the settlement contract holds: every
// receipt's signature, its plugins' hashes, the attribution re-run on the
// recorded output and reads, the price split again by the same [rules],
// and the tree of cumulative earnings rebuilt.
//
// A [Verifier] reads through [EpochData] and [RootReader]: a node's own
// stores ([StoreData]) and chain, or a node's public API ([RemoteData],
// [RemoteChain]) — so `tollgate verify` checks a node it does not trust
// without linking the server.
package verify
