// Package host is the Tollgate service: it wires the runtime, registry,
// attribution and ledger into [Host.Invoke], settles epochs on-chain with
// [Host.Settle], and serves all of it over Connect ([Host.Handler]).
//
// One invocation:
//
//  1. load the agent by name@version (hash and signature checked);
//  2. refuse a caller whose credit cannot cover the price, and hold it;
//  3. run the agent in a fresh instance; every record it reads through the
//     host functions is metered and its fee held before it is handed over
//     (a read the caller cannot pay for is refused to the agent). If the
//     agent fails after reading, the reads alone are charged and the
//     receipt says "failed:<code>";
//  4. run the agent's attribution plugin on the output and the accesses, and
//     validate its weights (falling back to weighting by bytes read if the
//     plugin fails, so the contributors' share is never lost);
//  5. split the price (protocol fee, developer, contributors by weight) and
//     the access fees into balanced postings, and commit them with the
//     receipt in one durable ledger transaction, signed by the ledger for
//     the epoch it lands in, before answering.
//
// Errors carry an [abi.Code]. The Connect handlers return them as they
// are; one interceptor, on every service, maps each to its Connect code,
// a message with the next step, and the [CodeHeader] header.
package host
