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
// links no engine. A package not written yet simply never matches.
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
