package registry

import (
	"context"

	"github.com/tollgate-dev/tollgate/abi"
)

// View reads datanets as they were at given versions: exactly the records
// an invocation that recorded those versions could read, searched and
// matched with the statistics they had then. Datanets it does not name are
// read as they are now.
//
// An invocation reads through a View of the versions its receipt records,
// so records appended while it runs do not change what it reads, and a
// later re-run through a View of the same versions reads the same.
type View struct {
	r        *Registry
	versions map[string]uint64
}

// At returns a View of the datanets at the given versions.
func (r *Registry) At(versions map[string]uint64) *View {
	return &View{r: r, versions: versions}
}

// allVersions reads a datanet as it is now.
const allVersions = ^uint64(0)

// upTo returns the version to read datanet at.
func (v *View) upTo(datanet string) uint64 {
	if version, ok := v.versions[datanet]; ok {
		return version
	}
	return allVersions
}

// Search is [Registry.Search] at the view's version.
func (v *View) Search(ctx context.Context, datanet, query string, limit int) ([]abi.Record, error) {
	return v.r.searchAt(ctx, datanet, query, limit, v.upTo(datanet))
}

// Get is [Registry.Get], refusing records added after the view's version.
func (v *View) Get(ctx context.Context, datanet, id string) (abi.Record, error) {
	rec, err := v.r.record(ctx, datanet, id)
	if err != nil {
		return abi.Record{}, err
	}
	if version := v.upTo(datanet); rec.Version > version {
		return abi.Record{}, errorf(abi.CodeNotFound, "no record %s in %s at version %d", id, datanet, version)
	}
	return rec.abi(), nil
}

// CorpusMatch is [Registry.CorpusMatch] at the view's version.
func (v *View) CorpusMatch(ctx context.Context, datanet, text string, minTokens int) ([]abi.Span, error) {
	return v.r.corpusMatchAt(ctx, datanet, text, minTokens, v.upTo(datanet))
}
