// Package auth says who a request comes from: Sign-In with Ethereum
// challenges ([SignIn]) exchanged for bearer tokens, and the tokens
// themselves ([Tokens]), kept as hashes in an append-only log.
//
// Refusals carry their own [abi.Code]s (CodeUnknownNonce, CodeNonceReused,
// CodeWrongDomain, CodeWrongChain, CodeWrongAddress, CodeExpired,
// CodeTokenExpired), which the API maps to Connect codes.
package auth
