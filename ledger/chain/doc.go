// Package chain connects Tollgate's ledger to an EVM chain: it deploys the
// token and [Settlement] contracts, posts each epoch's root, reads deposits
// and submits claims. [StartNode] runs an embedded development chain that
// keeps its state on disk; [Dial] reaches any other node. A [Client] reaches
// its node through the small [Backend] interface, which the
// *ethclient.Client both return satisfies.
package chain
