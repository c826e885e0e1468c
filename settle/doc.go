// Package settle drives the chain for a node ([Settler]): it credits
// on-chain deposits once they have their confirmations (and undoes those a
// reorganisation removed), closes epochs and posts their Merkle roots,
// finishes a post a crash interrupted without posting twice, takes
// withdrawals of unspent credit, runs the development faucet, relays
// claims for earners without gas, and serves the proofs they claim with.
//
// The books it moves are the ledger's; the chain is reached through
// ledger/chain. Every operation that needs the chain returns [ErrNoChain]
// (chain.CodeChain) on a node without one.
package settle
