// Package gen holds the Go code generated from proto/ by buf with
// protoc-gen-go and protoc-gen-connect-go. Regenerate with `go generate ./gen`.
package gen

//go:generate sh -c "cd .. && go tool buf lint && go tool buf generate"
