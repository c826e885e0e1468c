//go:build !linux

package main

// releaseEmbedded gives the embedded modules' pages back to the kernel
// on Linux; elsewhere it does nothing.
func releaseEmbedded() {}
