//go:build !linux

package pageout

// Files does nothing where the kernel takes no such advice.
func Files(match func(path string) bool) (int64, error) { return 0, nil }

// Advise does nothing where the kernel takes no such advice.
func Advise(maps []Mapping, match func(path string) bool) (int64, error) { return 0, nil }

// Behind does nothing where the kernel takes no such advice.
func Behind(maps []Mapping, keep uintptr, match func(path string) bool) (int64, error) { return 0, nil }

// Mappings lists nothing where the process's mappings cannot be read.
func Mappings() ([]Mapping, error) { return nil, nil }

// Resident reports nothing where the process's mappings cannot be read.
func Resident() (map[string]int64, error) { return nil, nil }

// Access does nothing where the kernel takes no such advice.
func Access(random bool, match func(path string) bool) (int64, error) { return 0, nil }

// RandomReads reports nothing where the process's mappings cannot be read.
func RandomReads() (map[string]bool, error) { return nil, nil }

// ReadAtRandom reports nothing where the process's mappings cannot be read.
func ReadAtRandom(paths ...string) error { return nil }
