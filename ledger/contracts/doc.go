// Package contracts holds Tollgate's Solidity contracts (src/), their compiled
// artifacts (artifacts/combined.json) and the Go bindings generated from them
// (bindings.go, abigen v2). Artifacts and bindings are committed, so building
// Tollgate needs no Solidity compiler; `go generate ./ledger/...` rebuilds
// them with the solc version pinned in package.json.
package contracts

//go:generate sh -c "npm ci --no-audit --no-fund --silent && node compile.js > artifacts/combined.json"
//go:generate go tool abigen --v2 --combined-json artifacts/combined.json --pkg contracts --out bindings.go
