// Package ledger keeps Tollgate's books in Badger: accounts, balanced
// postings, the [Receipt] of every invocation, and [Epoch]s whose cumulative
// earnings form a Merkle tree that the settlement contract pays out from.
//
// Every write is one Badger transaction with SyncWrites on: a receipt and its
// postings are on disk together, or not at all. [Ledger.Check] verifies the
// invariants: postings sum to zero, balances equal the sum of their postings,
// cumulative earnings never decrease, and each epoch's tree holds its total.
//
// Amounts are integers of the token's base unit (*big.Int), never floats.
// Accounts are checksummed Ethereum addresses, except the system account
// [DepositsAccount] that funds callers' credit.
package ledger
