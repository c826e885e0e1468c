//go:build !wasip1

// Package guest is the Go side of the Tollgate plugin ABI for plugin authors.
// It compiles only for GOOS=wasip1; see guest.go.
package guest
