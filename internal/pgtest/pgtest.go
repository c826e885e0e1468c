// Package pgtest runs a real, throwaway PostgreSQL cluster for tests: one
// cluster per test binary, in a temporary directory, listening on
// loopback, and a fresh database for every test that asks.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Bin is the directory of PostgreSQL's server programs (initdb, pg_ctl,
// postgres): TOLLGATE_POSTGRES, which .ci/run sets. Without it the test is
// skipped, except under CI, where it fails.
func Bin(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("TOLLGATE_POSTGRES")
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TOLLGATE_POSTGRES is not set: .ci/run installs PostgreSQL and sets it")
		}
		t.Skip("set TOLLGATE_POSTGRES to PostgreSQL's bin directory (.ci/run installs one) to run against PostgreSQL")
	}
	return bin
}

// Cluster is a running PostgreSQL cluster.
type Cluster struct {
	bin, dir, sock string
	Port           int
	password       string
	owner          *user.User // the cluster runs as this user when the tests run as root
}

var (
	shared    *Cluster
	sharedErr error
	sharedMu  sync.Mutex
	dbSeq     int
)

// DSN returns the address of a new, empty database in the test binary's
// shared cluster, started on first use and stopped by Stop.
func DSN(t testing.TB) string {
	t.Helper()
	bin := Bin(t)
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared == nil && sharedErr == nil {
		shared, sharedErr = Start(bin)
	}
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	dbSeq++
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq)
	if err := shared.CreateDB(name); err != nil {
		t.Fatal(err)
	}
	return shared.URL(name)
}

// Stop stops the shared cluster, if one started; call it from TestMain.
func Stop() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared != nil {
		shared.Stop()
		os.RemoveAll(shared.dir)
		shared = nil
	}
}

// Start initialises and starts a cluster in a new temporary directory.
// The caller stops it (Stop) and removes the directory.
func Start(bin string) (*Cluster, error) {
	reapOrphans(bin)
	dir, err := os.MkdirTemp("", "tollgate-pg-")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "owner"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin, dir: dir, sock: filepath.Join(dir, "sock"), password: "tollgate-test"}
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root.
		if c.owner, err = user.Lookup("postgres"); err != nil {
			return nil, fmt.Errorf("pgtest: running as root needs the postgres user: %w", err)
		}
	}
	if err := os.Mkdir(c.sock, 0o700); err != nil {
		return nil, err
	}
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte(c.password+"\n"), 0o600); err != nil {
		return nil, err
	}
	if err := c.chown(dir, c.sock, pw); err != nil {
		return nil, err
	}
	if out, err := c.run("initdb", "-D", c.data(), "-U", "postgres", "--pwfile="+pw, "-E", "UTF8", "--locale=C.UTF-8",
		"--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"); err != nil {
		return nil, fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c.Port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if err := c.Restart(); err != nil {
		return nil, err
	}
	return c, nil
}

// Standby starts a streaming replica of c in a new temporary directory:
// a base backup taken over c's replication protocol, then recovery that
// follows c. The caller stops it (Stop).
func (c *Cluster) Standby() (*Cluster, error) {
	dir, err := os.MkdirTemp("", "tollgate-pg-")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "owner"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, err
	}
	s := &Cluster{bin: c.bin, dir: dir, sock: filepath.Join(dir, "sock"), password: c.password, owner: c.owner}
	if err := os.Mkdir(s.sock, 0o700); err != nil {
		return nil, err
	}
	if err := s.chown(dir, s.sock); err != nil {
		return nil, err
	}
	if out, err := s.run("pg_basebackup", "-h", c.sock, "-p", strconv.Itoa(c.Port), "-U", "postgres", "-D", s.data(), "-R", "-X", "stream", "--no-sync"); err != nil {
		return nil, fmt.Errorf("pgtest: pg_basebackup: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.Port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return s, s.Restart()
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }

func (c *Cluster) chown(paths ...string) error {
	if c.owner == nil {
		return nil
	}
	uid, _ := strconv.Atoi(c.owner.Uid)
	gid, _ := strconv.Atoi(c.owner.Gid)
	for _, p := range paths {
		if err := os.Chown(p, uid, gid); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) command(prog string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.bin, prog), args...)
	if c.owner != nil {
		cmd = exec.Command("runuser", append([]string{"-u", c.owner.Username, "--", filepath.Join(c.bin, prog)}, args...)...)
	}
	cmd.Dir = c.dir
	return cmd
}

func (c *Cluster) run(prog string, args ...string) ([]byte, error) {
	return c.command(prog, args...).CombinedOutput()
}

// Restart starts the cluster (again, after Stop or Kill): it waits for
// the children of a killed postmaster to be gone first.
func (c *Cluster) Restart() error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := c.run("pg_ctl", "-D", c.data(), "-l", filepath.Join(c.dir, "log"), "-w", "-o",
			fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=on", c.Port, c.sock), "start")
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
			return fmt.Errorf("pgtest: pg_ctl start: %v\n%s\n%s", err, out, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Stop stops the cluster (fast shutdown).
func (c *Cluster) Stop() {
	c.run("pg_ctl", "-D", c.data(), "-m", "fast", "-w", "stop")
}

// Kill sends SIGKILL to the postmaster and waits until it and every child
// are gone, as a crash would leave them.
func (c *Cluster) Kill() error {
	b, err := os.ReadFile(filepath.Join(c.data(), "postmaster.pid"))
	if err != nil {
		return err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		return err
	}
	children, _ := exec.Command("pgrep", "-P", strconv.Itoa(pid)).Output()
	pids := []int{pid}
	for _, f := range strings.Fields(string(children)) {
		if n, err := strconv.Atoi(f); err == nil {
			pids = append(pids, n)
		}
	}
	syscall.Kill(pid, syscall.SIGKILL)
	deadline := time.Now().Add(30 * time.Second)
	for _, p := range pids {
		for syscall.Kill(p, 0) == nil {
			if time.Now().After(deadline) {
				return fmt.Errorf("pgtest: process %d outlived its postmaster", p)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// URL is the address of database name over TCP with a password.
func (c *Cluster) URL(name string) string {
	return fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/%s?sslmode=disable", c.password, c.Port, name)
}

// CreateDB creates an empty database.
func (c *Cluster) CreateDB(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("pgtest: connect: %w", err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err
}

// reapOrphans stops and removes the clusters of test binaries that died
// without stopping theirs (killed at a timeout, say).
func reapOrphans(bin string) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "tollgate-pg-*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "owner"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(string(b))
		if err != nil || pid <= 0 || !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			continue
		}
		c := &Cluster{bin: bin, dir: dir}
		if os.Geteuid() == 0 {
			c.owner, _ = user.Lookup("postgres")
		}
		c.run("pg_ctl", "-D", c.data(), "-m", "immediate", "-w", "stop")
		os.RemoveAll(dir)
	}
}
