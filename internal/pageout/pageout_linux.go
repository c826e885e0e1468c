package pageout

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tollgate-dev/tollgate/internal/pagemap"
)

// Files reads the process's mappings and advises the kernel to reclaim the
// pages of every mapping of a file that match accepts. It returns the bytes
// of the mappings advised.
func Files(match func(path string) bool) (int64, error) {
	maps, err := Mappings()
	if err != nil {
		return 0, err
	}
	return Advise(maps, match)
}

// Advise is Files on mappings read before. A mapping unmapped since is
// skipped; one the kernel refuses is reported, after the others have been
// advised.
func Advise(maps []Mapping, match func(path string) bool) (int64, error) {
	return advise(maps, unix.MADV_PAGEOUT, match)
}

// Behind is Advise for files written from their start, such as logs: in
// each mapping match accepts, it pages out only what lies more than keep
// bytes before the last page the mapping holds resident (the page being
// written, or the last written). The log keeps its head resident, where
// writes land without faulting, and the newest bytes it wrote, which are
// the likeliest read. It returns the bytes advised; like Advise, it only
// hints, so a mapping replaced meanwhile comes to no harm.
func Behind(maps []Mapping, keep uintptr, match func(path string) bool) (int64, error) {
	page := uintptr(os.Getpagesize())
	var n int64
	var errs []error
	for _, m := range maps {
		if !match(m.Path) || m.End <= m.Start {
			continue
		}
		head, err := lastPresent(m.Start, m.End, page)
		if err != nil {
			errs = append(errs, fmt.Errorf("pageout: %s: %w", m.Path, err))
			continue
		}
		end := head + page // past the last resident page
		if head == 0 || end-m.Start <= keep {
			continue
		}
		end -= (keep + page - 1) / page * page
		_, _, errno := unix.Syscall(unix.SYS_MADVISE, m.Start, end-m.Start, uintptr(unix.MADV_PAGEOUT))
		if errno == unix.ENOMEM {
			continue // unmapped since the map was read
		}
		if errno != 0 {
			errs = append(errs, fmt.Errorf("pageout: madvise %s: %w", m.Path, errno))
			continue
		}
		n += int64(end - m.Start)
	}
	return n, errors.Join(errs...)
}

// lastPresent is the address of the last page in [start, end) that the
// process holds resident, or 0 if none is.
func lastPresent(start, end, page uintptr) (uintptr, error) {
	buf := make([]byte, 1024*pagemap.EntrySize)
	last := uintptr(0)
	for at := start; at < end; {
		pages := min(uintptr(len(buf)/pagemap.EntrySize), (end-at+page-1)/page)
		b := buf[:pages*pagemap.EntrySize]
		if err := pagemap.Read(at, b); err != nil {
			return 0, err
		}
		for i := range pages {
			if pagemap.At(b, int(i)).Present() {
				last = at + i*page
			}
		}
		at += pages * page
	}
	return last, nil
}

// Access reads the process's mappings and tells the kernel how every
// mapping of a file that match accepts is read: at random (a miss reads
// the page it needs, without the read-around the kernel does by default,
// which on some machines is megabytes a miss) or, if not random, in the
// kernel's default way, which suits reads in order. It returns the bytes
// of the mappings advised. Like MADV_PAGEOUT, the advice never changes
// what memory holds.
func Access(random bool, match func(path string) bool) (int64, error) {
	maps, err := Mappings()
	if err != nil {
		return 0, err
	}
	advice := unix.MADV_NORMAL
	if random {
		advice = unix.MADV_RANDOM
	}
	return advise(maps, advice, match)
}

// advise gives advice, one that never changes what memory holds, on the
// mappings match accepts.
func advise(maps []Mapping, advice int, match func(path string) bool) (int64, error) {
	var n int64
	var errs []error
	for _, m := range maps {
		if !match(m.Path) {
			continue
		}
		_, _, errno := unix.Syscall(unix.SYS_MADVISE, m.Start, m.End-m.Start, uintptr(advice))
		if errno == unix.ENOMEM {
			continue // unmapped since the map was read: nothing to give back
		}
		if errno != 0 {
			errs = append(errs, fmt.Errorf("pageout: madvise %s: %w", m.Path, errno))
			continue
		}
		n += int64(m.End - m.Start)
	}
	return n, errors.Join(errs...)
}

// Mappings lists the process's mappings of files, from /proc/self/maps.
func Mappings() ([]Mapping, error) {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return nil, fmt.Errorf("pageout: %w", err)
	}
	// The lines are cut from one string: a ledger reads the map every
	// PageoutInterval, and a 64 KB scanner buffer each time was most of
	// an idle node's garbage.
	var out []Mapping
	for line := range strings.Lines(string(b)) {
		if m, ok := parseMapping(strings.TrimSuffix(line, "\n")); ok {
			out = append(out, m)
		}
	}
	return out, nil
}

// Resident returns the resident kilobytes of each file the process maps,
// by path, from /proc/self/smaps.
func Resident() (map[string]int64, error) {
	out := map[string]int64{}
	err := eachField("Rss:", func(path, kb string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")), 10, 64)
		if err != nil {
			return fmt.Errorf("pageout: smaps: Rss %q: %w", kb, err)
		}
		out[path] += n
		return nil
	})
	return out, err
}

// RandomReads reports, for each file the process maps, whether every
// mapping of it is advised to be read at random (smaps' VmFlags "rr").
func RandomReads() (map[string]bool, error) {
	out := map[string]bool{}
	err := eachField("VmFlags:", func(path, flags string) error {
		rr := slices.Contains(strings.Fields(flags), "rr")
		if was, seen := out[path]; seen {
			rr = rr && was
		}
		out[path] = rr
		return nil
	})
	return out, err
}

// ReadAtRandom returns an error naming the first of paths that the
// process does not map, or maps without the advice to read it at random.
func ReadAtRandom(paths ...string) error {
	rr, err := RandomReads()
	if err != nil {
		return err
	}
	for _, p := range paths {
		if r, ok := rr[p]; !ok || !r {
			return fmt.Errorf("pageout: %s: mapped %v, read at random %v", p, ok, r)
		}
	}
	return nil
}

// eachField calls fn with the value of field (as "Rss:") in every mapping
// of a file in /proc/self/smaps, and the file's path.
func eachField(field string, fn func(path, value string) error) error {
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return fmt.Errorf("pageout: %w", err)
	}
	path := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, field); ok {
			if path != "" {
				if err := fn(path, v); err != nil {
					return err
				}
			}
			continue
		}
		// A mapping's header line starts a new mapping; its fields follow.
		if m, ok := parseMapping(line); ok {
			path = m.Path
		} else if isHeader(line) {
			path = ""
		}
	}
	return sc.Err()
}

// isHeader reports whether an smaps line starts a mapping (start-end …)
// rather than giving one of its fields (Name: value).
func isHeader(line string) bool {
	f, _, _ := strings.Cut(line, " ")
	lo, hi, ok := strings.Cut(f, "-")
	if !ok {
		return false
	}
	_, err1 := strconv.ParseUint(lo, 16, 64)
	_, err2 := strconv.ParseUint(hi, 16, 64)
	return err1 == nil && err2 == nil
}

// parseMapping reads one line of /proc/self/maps,
//
//	start-end perms offset dev inode      path
//
// whose path, taken as it stands after the padding, may hold any spaces (a
// deleted file's ends in " (deleted)"). Lines of no file are not mappings
// of one.
func parseMapping(line string) (Mapping, bool) {
	rest := line
	var fields [5]string
	for i := range fields {
		rest = strings.TrimLeft(rest, " \t")
		end := strings.IndexAny(rest, " \t")
		if end < 0 {
			return Mapping{}, false
		}
		fields[i], rest = rest[:end], rest[end:]
	}
	path := strings.TrimLeft(rest, " \t")
	if !strings.HasPrefix(path, "/") {
		return Mapping{}, false
	}
	lo, hi, ok := strings.Cut(fields[0], "-")
	if !ok {
		return Mapping{}, false
	}
	start, err1 := strconv.ParseUint(lo, 16, 64)
	end, err2 := strconv.ParseUint(hi, 16, 64)
	if err1 != nil || err2 != nil || end <= start {
		return Mapping{}, false
	}
	return Mapping{Start: uintptr(start), End: uintptr(end), Path: path}, true
}
