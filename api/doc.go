// Package api serves a node over HTTP: the Connect services (agents,
// ledger, auth, registry, datanets) for Connect, gRPC and gRPC-Web
// clients and curl, health and reflection, /metrics for the operator, and
// the web page, all behind the edge ([Limits]: body and stream bounds,
// per-account rate and concurrency, the Host check).
//
// Handlers return domain errors as they are; one interceptor on every
// service maps each [abi.Code] to its Connect code, a message that says
// what to do next, and the [CodeHeader] header. TestEveryCodeHasAConnectCode
// fails when a package defines a code without a mapping.
//
// The API calls the engine (host) for invocations and publishing, the
// settler (settle) for deposits, epochs, withdrawals, the faucet and
// claims, and reads the registry and ledger directly. Sign-in and tokens
// are package api/auth.
package api
