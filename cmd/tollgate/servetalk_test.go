package main

import (
	"bufio"
	"strings"
	"syscall"
	"testing"
	"time"
)

// serve says what it installed, by the versions it published, and says so
// when it has stopped.
func TestServeSaysWhatItInstalledAndWhenItStopped(t *testing.T) {
	if testing.Short() {
		t.Skip("serve in -short mode")
	}
	child, out := startServeWith(t, "serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--chain-rpc", "127.0.0.1:0")
	lines := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var published bool
	for line := range lines {
		if strings.Contains(line, "first start: published "+exampleAgent+"@"+exampleAgentVersion+" ") {
			published = true
		}
		if strings.Contains(line, "web page on ") {
			break
		}
	}
	if !published {
		t.Errorf("serve's first start did not name %s@%s", exampleAgent, exampleAgentVersion)
	}
	child.Process.Signal(syscall.SIGTERM)
	var said []string
	timeout := time.After(60 * time.Second)
	for done := false; !done; {
		select {
		case line, ok := <-lines:
			if !ok {
				done = true
				break
			}
			said = append(said, line)
		case <-timeout:
			t.Fatal("serve did not stop within a minute of SIGTERM")
		}
	}
	child.Wait()
	if len(said) == 0 || said[len(said)-1] != "tollgate: stopped" {
		t.Fatalf("serve's last words after SIGTERM: %q, want %q", said, "tollgate: stopped")
	}
}
