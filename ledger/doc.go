// Package ledger keeps Tollgate's books in Badger: accounts, balanced
// postings, the [Receipt] of every invocation, and [Epoch]s whose cumulative
// earnings form a Merkle tree that the settlement contract pays out from.
//
// Every write is one Badger transaction with SyncWrites on: a receipt and its
// postings are on disk together, or not at all. [Ledger.Check] verifies the
// invariants: postings sum to zero, credit and earnings equal what their
// records sum to, the books are solvent (Σ credit + Σ cumulative earnings ≤
// Σ deposits), every receipt is signed by the operator, the epoch index is
// consistent, cumulative earnings never decrease, and each epoch's tree holds
// its total.
//
// An account has two balances: credit ([Ledger.Balance]), which pays for
// calls, and cumulative earnings ([Ledger.Earned]), which are claimed
// on-chain and never spent here.
//
// Amounts are integers of the token's base unit (*big.Int), never floats.
// Accounts are checksummed Ethereum addresses.
package ledger
