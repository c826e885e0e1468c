// Package host is the Tollgate service: it wires the runtime, registry,
// attribution and ledger into [Host.Invoke], settles epochs on-chain with
// [Host.Settle], and serves all of it over Connect ([Host.Handler]).
//
// One invocation:
//
//  1. load the agent by name@version (hash and signature checked);
//  2. refuse a caller whose credit cannot cover the price;
//  3. run the agent in a fresh instance; every record it reads through the
//     host functions is metered;
//  4. run the agent's attribution plugin on the output and the accesses, and
//     validate its weights (falling back to weighting by bytes read if the
//     plugin fails, so the contributors' share is never lost);
//  5. split the price (protocol fee, developer, contributors by weight) and
//     the access fees into balanced postings, and commit them with the
//     receipt in one durable ledger transaction before answering.
package host
