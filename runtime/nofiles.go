package runtime

import (
	"io/fs"
	"sync"
	"time"
)

// noFiles is the file system a plugin sees: an empty root where every
// open is refused. Without any file system a denied open looks, to the
// plugin and to us, like any other failure; with this one the runtime
// knows the plugin tried and can say so with its own code.
type noFiles struct {
	mu    sync.Mutex
	tried string // the first path the plugin tried to open this call
}

func (n *noFiles) Open(name string) (fs.File, error) {
	if name == "." {
		return emptyDir{}, nil
	}
	n.mu.Lock()
	if n.tried == "" {
		n.tried = name
	}
	n.mu.Unlock()
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
}

// take returns and clears the path the plugin tried to open.
func (n *noFiles) take() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	t := n.tried
	n.tried = ""
	return t
}

type emptyDir struct{}

func (emptyDir) Stat() (fs.FileInfo, error) { return emptyDir{}, nil }
func (emptyDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: ".", Err: fs.ErrInvalid}
}
func (emptyDir) Close() error                       { return nil }
func (emptyDir) ReadDir(int) ([]fs.DirEntry, error) { return nil, nil }
func (emptyDir) Name() string                       { return "." }
func (emptyDir) Size() int64                        { return 0 }
func (emptyDir) Mode() fs.FileMode                  { return fs.ModeDir | 0o555 }
func (emptyDir) ModTime() time.Time                 { return time.Time{} }
func (emptyDir) IsDir() bool                        { return true }
func (emptyDir) Sys() any                           { return nil }
