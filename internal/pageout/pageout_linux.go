package pageout

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Files reads the process's mappings and advises the kernel to reclaim the
// pages of every mapping of a file that match accepts. It returns the bytes
// of the mappings advised.
func Files(match func(path string) bool) (int64, error) {
	maps, err := Mappings()
	if err != nil {
		return 0, err
	}
	return advise(maps, match)
}

// advise is Files on a list of mappings read before: one unmapped since is
// skipped.
func advise(maps []Mapping, match func(path string) bool) (int64, error) {
	var n int64
	for _, m := range maps {
		if !match(m.Path) {
			continue
		}
		_, _, errno := unix.Syscall(unix.SYS_MADVISE, m.Start, m.End-m.Start, unix.MADV_PAGEOUT)
		if errno == unix.ENOMEM {
			continue // unmapped since the map was read: nothing to give back
		}
		if errno != 0 {
			return n, fmt.Errorf("pageout: madvise %s: %w", m.Path, errno)
		}
		n += int64(m.End - m.Start)
	}
	return n, nil
}

// Mappings lists the process's mappings of files, from /proc/self/maps.
func Mappings() ([]Mapping, error) {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return nil, fmt.Errorf("pageout: %w", err)
	}
	var out []Mapping
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		// start-end perms offset dev inode path
		f := strings.Fields(sc.Text())
		if len(f) < 6 || !strings.HasPrefix(f[5], "/") {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		// A path may hold spaces; a deleted file ends in " (deleted)".
		path := strings.Join(f[5:], " ")
		out = append(out, Mapping{Start: uintptr(start), End: uintptr(end), Path: path})
	}
	return out, sc.Err()
}
