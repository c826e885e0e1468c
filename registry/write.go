package registry

import (
	"encoding/binary"
	"errors"

	"github.com/tollgate-dev/tollgate/internal/kv"

	"github.com/tollgate-dev/tollgate/abi"
)

// Codes of refused writes, which only the registry produces.
const (
	// CodeWriteDenied: the datanet's write rule does not admit the
	// record's contributor.
	CodeWriteDenied abi.Code = "write_denied"
	// CodeWriteQuota: the contributor has added as many records, or
	// bytes, as the open datanet's quota allows.
	CodeWriteQuota abi.Code = "write_quota"
)

// WriteRule returns the policy's write mode, WriteOwner when it names none.
func (p Policy) WriteRule() string {
	if p.Write == "" {
		return WriteOwner
	}
	return p.Write
}

func (p Policy) validateWrite() error {
	switch p.Write {
	case "", WriteOwner, WriteOpen:
		if len(p.Writers) > 0 {
			return errorf(abi.CodeBadRequest, "policy names writers, which only an allowlist write rule admits")
		}
	case WriteAllowList:
	default:
		return errorf(abi.CodeBadRequest, "policy write %q: want owner, allowlist or open", p.Write)
	}
	if p.Write != WriteOpen && (p.WriterQuota != 0 || p.WriterQuotaBytes != 0) {
		return errorf(abi.CodeBadRequest, "policy sets a writer quota, which only the open write rule has")
	}
	if len(p.Writers) > MaxPolicyNames {
		return errorf(abi.CodeBadRequest, "policy names %d writers, at most %d", len(p.Writers), MaxPolicyNames)
	}
	for _, w := range p.Writers {
		// The signed policy is the one stored, so a writer is refused in
		// any form but the one records are stored under, rather than
		// rewritten after the owner signed it.
		c, err := CanonicalAddress(w)
		if err != nil {
			return err
		}
		if c != w {
			return errorf(abi.CodeBadRequest, "policy writer %s: write it checksummed, %s", w, c)
		}
	}
	return nil
}

// checkWriter refuses a contributor the datanet's write rule does not
// admit. It says nothing about quotas.
func (d *Datanet) checkWriter(contributor string) error {
	if contributor == d.Owner {
		return nil
	}
	switch d.Policy.WriteRule() {
	case WriteOpen:
		return nil
	case WriteAllowList:
		for _, w := range d.Policy.Writers {
			if w == contributor {
				return nil
			}
		}
		return errorf(CodeWriteDenied, "datanet %s takes records from its owner and %d listed writers, not from %s", d.Name, len(d.Policy.Writers), contributor)
	case WriteOwner:
		return errorf(CodeWriteDenied, "datanet %s takes records from its owner %s only, not from %s", d.Name, d.Owner, contributor)
	}
	return errorf(CodeWriteDenied, "datanet %s has an unknown write rule", d.Name)
}

// written is what one contributor has added to one datanet: the count a
// quota bounds. It is kept for every contributor under every write rule,
// so a quota set later counts what came before it.
type written struct{ records, bytes uint64 }

func writtenKey(datanet, contributor string) []byte {
	return append(scoped("w/", datanet), contributor...)
}

func getWritten(txn kv.Txn, datanet, contributor string) (written, error) {
	item, err := txn.Get(writtenKey(datanet, contributor))
	if errors.Is(err, kv.ErrNotFound) {
		return written{}, nil
	} else if err != nil {
		return written{}, err
	}
	if len(item) != 16 {
		return written{}, errorf(abi.CodeInternal, "write count of %s in %s is %d bytes", contributor, datanet, len(item))
	}
	return written{records: binary.BigEndian.Uint64(item), bytes: binary.BigEndian.Uint64(item[8:])}, nil
}

func setWritten(txn kv.Txn, datanet, contributor string, w written) error {
	v := binary.BigEndian.AppendUint64(nil, w.records)
	return txn.Set(writtenKey(datanet, contributor), binary.BigEndian.AppendUint64(v, w.bytes))
}

// admit checks that the datanet's quota takes a new record of size bytes
// from contributor, who has already added w, and returns w with the record
// counted. It is asked only about records not yet in the datanet: a
// duplicate adds nothing, so it counts against no quota.
func (d *Datanet) admit(contributor string, w written, size int) (written, error) {
	w.records++
	w.bytes += uint64(size)
	if contributor == d.Owner || d.Policy.WriteRule() != WriteOpen {
		return w, nil
	}
	if q := d.Policy.WriterQuota; q != 0 && w.records > q {
		return w, errorf(CodeWriteQuota, "%s has added the %d records datanet %s allows each contributor", contributor, q, d.Name)
	}
	if q := d.Policy.WriterQuotaBytes; q != 0 && w.bytes > q {
		return w, errorf(CodeWriteQuota, "%s would add %d bytes to datanet %s, which allows each contributor %d", contributor, w.bytes, d.Name, q)
	}
	return w, nil
}
