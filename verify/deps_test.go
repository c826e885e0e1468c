package verify_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/tollgate-dev/tollgate/"

// TestLayersPointDown checks the import graph keeps every arrow pointing
// down: the verifier and the packages the engine and plugins build on link
// no server layer (API, sign-in, settlement, commands), and the verifier
// links no engine; settlement drives the chain without the API, and the
// engine without settlement.
func TestLayersPointDown(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not on PATH")
	}
	server := []string{"api", "api/auth", "settle", "cmd"}
	cases := map[string][]string{
		"verify":      append([]string{"host"}, server...),
		"rules":       server,
		"abi":         server,
		"abi/guest":   server,
		"attribution": server,
		"host":        server,
		"settle":      {"api", "api/auth", "host", "cmd"},
		"ledger":      append([]string{"host"}, server...),
		"registry":    append([]string{"host"}, server...),
		"runtime":     append([]string{"host"}, server...),
		"metrics":     append([]string{"host"}, server...),
		// What plugin and model authors build on links no node at all.
		"internal/infgram": append([]string{"host", "ledger", "registry", "runtime"}, server...),
		"examples/knn":     append([]string{"host", "ledger", "registry", "runtime"}, server...),
	}
	// A rule about a package that does not exist would hold vacuously.
	for _, pkg := range append([]string{"host"}, server[:3]...) {
		if err := exec.Command("go", "list", module+pkg).Run(); err != nil {
			t.Fatalf("go list %s: %v: the layering names a package that is gone", pkg, err)
		}
	}
	for pkg, forbidden := range cases {
		t.Run(pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", module+pkg).Output()
			if err != nil {
				t.Fatalf("go list -deps %s: %v", pkg, err)
			}
			for _, dep := range strings.Fields(string(out)) {
				for _, f := range forbidden {
					if dep == module+f || strings.HasPrefix(dep, module+f+"/") {
						t.Errorf("%s imports %s", pkg, dep)
					}
				}
			}
		})
	}
}
