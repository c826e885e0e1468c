// Package host is the engine of one call: it wires the runtime, registry,
// attribution, the market rules and the ledger into [Host.Invoke].
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
//     the access fees into balanced postings ([rules.Bill]), and commit
//     them with the receipt in one durable ledger transaction, signed by
//     the ledger for the epoch it lands in, before answering.
//
// A request id makes a call safe to retry: its receipt id is
// [ledger.RequestKey] of the caller and the id, so a retry finds the
// receipt and is answered from it, charged once.
//
// The host also publishes plugins ([Host.PublishSigned] checks a module
// runs before it is stored) and the built-ins. It does not settle (package
// settle) and does not serve HTTP (package api). Errors carry an
// [abi.Code]; the API maps each to its Connect code.
package host
