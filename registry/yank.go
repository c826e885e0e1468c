package registry

import (
	"time"

	"context"
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/mod/semver"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/kv"
)

// Yank marks a published version so that it takes no new invocations. Its
// bytes stay, so receipts that name it can still be verified. sig is the
// signature of [Domain.YankDigest] by the version's publisher, the name's
// owner or the operator. name@latest moves to the highest version not
// yanked (or, if none is left, resolves to nothing).
func (r *Registry) Yank(ctx context.Context, ref string, sig []byte) error {
	name, version, err := ParseRef(ref)
	if err != nil {
		return err
	}
	if version == "latest" {
		return errorf(abi.CodeBadRequest, "yank a version, not %s", ref)
	}
	signer, err := Recover(r.domain.YankDigest(name, version), sig)
	if err != nil {
		return err
	}
	err = r.update(func(txn kv.Txn) error {
		var p Plugin
		if err := kv.GetJSON(txn, pluginKey(name, version), &p); errors.Is(err, kv.ErrNotFound) {
			return errorf(abi.CodeNotFound, "no plugin %s", ref)
		} else if err != nil {
			return err
		}
		owner, err := getString(txn, ownerKey(name))
		if err != nil {
			return err
		}
		if signer != p.Manifest.Publisher && signer != owner && signer != r.operator {
			return errorf(abi.CodeBadSignature, "%s may not yank %s, published by %s", signer, ref, p.Manifest.Publisher)
		}
		p.Yanked, p.YankedAt = true, time.Now().UTC()
		if err := kv.SetJSON(txn, pluginKey(name, version), &p); err != nil {
			return err
		}
		if err := setLatest(txn, name); err != nil {
			return err
		}
		r.forget(name + "@" + version)
		return nil
	})
	r.forget(name + "@" + version)
	return err
}

// forget drops a plugin from the verified cache. Yank calls it inside its
// write, and again after: a Load between the two may not cache the old
// state for good.
func (r *Registry) forget(key string) {
	r.verifiedMu.Lock()
	delete(r.verified, key)
	r.verifiedGen++
	r.verifiedMu.Unlock()
}

// noLatest is the error for a name@latest that resolves to nothing,
// saying why when the name has versions.
func (r *Registry) noLatest(name string) error {
	var versions []string
	err := r.db.View(func(txn kv.Txn) error {
		prefix := pluginKey(name, "")
		it := txn.NewIterator(kv.IterOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid() && len(versions) < 8; it.Next() {
			versions = append(versions, string(it.Key()[len(prefix):]))
		}
		return nil
	})
	switch {
	case err != nil:
		return fmt.Errorf("registry: load %s@latest: %w", name, err)
	case len(versions) == 0:
		return errorf(abi.CodeNotFound, "no plugin %s@latest", name)
	}
	return errorf(abi.CodeNotFound, "%s@latest: %s has no release that is not yanked (latest never resolves to a pre-release); name a version exactly, such as %s@%s", name, name, name, versions[len(versions)-1])
}

// isPreRelease reports whether a valid version (versionRE) is a
// pre-release, such as 2.0.0-rc.1.
func isPreRelease(version string) bool { return semver.Prerelease("v"+version) != "" }

// repairLatest moves any name@latest that a registry written before
// pre-releases were kept out of latest points at a pre-release.
func (r *Registry) repairLatest() error {
	var names []string
	err := r.db.View(func(txn kv.Txn) error {
		it := txn.NewIterator(kv.IterOptions{Prefix: []byte("l/")})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Value()
			if err != nil {
				return err
			}
			if isPreRelease(string(v)) {
				names = append(names, string(it.Key()[len("l/"):]))
			}
		}
		return nil
	})
	for _, name := range names {
		if err != nil {
			break
		}
		err = r.update(func(txn kv.Txn) error { return setLatest(txn, name) })
	}
	if err != nil {
		return fmt.Errorf("registry: repair latest: %w", err)
	}
	return nil
}

// setLatest points name@latest at its highest semantic version that is
// neither yanked nor a pre-release, or at none.
func setLatest(txn kv.Txn, name string) error {
	var latest *Plugin
	it := txn.NewIterator(kv.IterOptions{Prefix: pluginKey(name, "")})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		var p Plugin
		if err := kv.ValueOf(it, func(v []byte) error { return json.Unmarshal(v, &p) }); err != nil {
			return err
		}
		if !p.Yanked && !isPreRelease(p.Manifest.Version) && (latest == nil || compareVersions(p.Manifest.Version, latest.Manifest.Version) > 0) {
			latest = &p
		}
	}
	if latest == nil {
		return txn.Delete(latestKey(name))
	}
	return txn.Set(latestKey(name), []byte(latest.Manifest.Version))
}

// compareVersions orders two valid versions (versionRE) by semantic
// version precedence: -1, 0 or +1.
func compareVersions(a, b string) int {
	return semver.Compare("v"+a, "v"+b)
}
