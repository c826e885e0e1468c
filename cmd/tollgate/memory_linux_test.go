package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A fresh node idles in little memory of its own: its stores' memtables,
// allocated as they open, are resident only where written. Allocated from
// the heap's garbage of starting the chain, the runtime cleared them
// first and all of them stayed resident, about 42 MB of anonymous memory
// where a node needs about 21 (the binary's own pages, read from its
// file, come on top).
func TestAFreshNodeIdlesInLittleAnonymousMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	const bound = 32 << 20
	child, out := startServe(t, t.TempDir())
	defer func() {
		child.Process.Signal(syscall.SIGTERM)
		child.Wait()
	}()
	readUntilServing(t, out)
	// Warming the indexes in the background ends with returning its
	// garbage; give it the time it takes on a slow machine.
	var anon int64
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		var err error
		if anon, err = statusBytes(child.Process.Pid, "RssAnon:"); err != nil {
			t.Fatal(err)
		}
		if anon <= bound || time.Now().After(deadline) {
			break
		}
	}
	if anon > bound {
		t.Fatalf("idle node holds %d MB of anonymous memory, more than %d", anon>>20, bound>>20)
	}
	t.Logf("idle node: %d MB anonymous", anon>>20)
}

// statusBytes reads a field given in kB from /proc/PID/status.
func statusBytes(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}
