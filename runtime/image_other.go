//go:build !linux

package runtime

import "errors"

// image needs Linux's memory files; elsewhere every call gets a fresh
// instance.
type image struct{ size int }

func newImage([]byte) (*image, error) {
	return nil, errors.New("memory snapshots need Linux")
}

func (*image) mapOver([]byte) error { return errors.New("memory snapshots need Linux") }
func (*image) reset([]byte) error   { return errors.New("memory snapshots need Linux") }
func (*image) close()               {}

func clearGrown([]byte) error { return errors.New("memory snapshots need Linux") }
