package ollamatest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Server is an `ollama serve` a test started, on loopback, with its home
// and models in a temporary directory.
type Server struct {
	URL  string
	bin  string
	env  []string
	dir  string
	cmd  *exec.Cmd
	logs *bytes.Buffer
}

// Binary returns the Ollama binary tests run ($TOLLGATE_OLLAMA, which
// .ci/run builds and sets). Without it a test is skipped, unless $CI is
// set, where it fails.
func Binary(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("TOLLGATE_OLLAMA")
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TOLLGATE_OLLAMA is not set: .ci/run builds ollama and sets it")
		}
		t.Skip("set TOLLGATE_OLLAMA to an ollama binary (.ci/run builds one) to run against a real model server")
	}
	return bin
}

// Start starts ollama serve and waits until it answers. It is stopped
// (with its runner) when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &Server{URL: "http://" + addr, bin: bin, dir: dir, logs: &bytes.Buffer{}}
	s.env = append(os.Environ(), "HOME="+filepath.Join(dir, "home"), "OLLAMA_MODELS="+filepath.Join(dir, "models"),
		"OLLAMA_HOST="+addr, "OLLAMA_NUM_PARALLEL=1", "OLLAMA_KEEP_ALIVE=10m")
	os.MkdirAll(filepath.Join(dir, "home"), 0o755)
	s.start(t)
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start(t testing.TB) {
	t.Helper()
	s.cmd = exec.Command(s.bin, "serve")
	s.cmd.Env = s.env
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	// Its own process group, so its runner children stop with it.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/api/version")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("ollama serve did not answer within 30s: %v\n%s", err, s.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends the server and its runners.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	s.cmd = nil
}

// Kill ends the server and its runners at once, as a crash would.
func (s *Server) Kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	s.cmd.Wait()
	s.cmd = nil
}

// Create writes a model answering reply and registers it as name.
func (s *Server) Create(t testing.TB, name, reply string) {
	t.Helper()
	dir := filepath.Join(s.dir, "model-"+name)
	os.MkdirAll(dir, 0o755)
	if err := WriteModel(filepath.Join(dir, "model.gguf"), reply); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Modelfile"), []byte("FROM ./model.gguf\nPARAMETER num_ctx 512\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, "create", name, "-f", filepath.Join(dir, "Modelfile"))
	cmd.Env, cmd.Dir = s.env, dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ollama create %s: %v\n%s", name, err, out)
	}
}

// Logs returns what the server printed.
func (s *Server) Logs() string { return s.logs.String() }

// Chat calls the server's chat completions directly, for comparison.
func (s *Server) Chat(ctx context.Context, model, prompt string, maxTokens int) (*http.Response, error) {
	body := fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":%q}],"max_tokens":%d,"temperature":0,"seed":1}`, model, prompt, maxTokens)
	req, err := http.NewRequestWithContext(ctx, "POST", s.URL+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return http.DefaultClient.Do(req)
}
