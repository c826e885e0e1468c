package registry

import "github.com/tollgate-dev/tollgate/abi"

// Key layout, one prefix per kind of value.
func blobKey(hash string) []byte            { return []byte("b/" + hash) }
func pluginKey(name, version string) []byte { return []byte("p/" + name + "@" + version) }
func latestKey(name string) []byte          { return []byte("l/" + name) }
func ownerKey(name string) []byte           { return []byte("o/" + name) }
func datanetKey(name string) []byte         { return []byte("d/" + name) }
func recordKey(datanet, id string) []byte   { return append(scoped("r/", datanet), id...) }
func recordPrefix(datanet string) []byte    { return scoped("r/", datanet) }

// scoped is prefix, the datanet name's length in one byte, then the name.
// Keys under one datanet are therefore never a prefix of another's, even
// though names may contain '/' ("pub" and "pub/secret"); names are at most
// 129 bytes (nameRE).
func scoped(prefix, datanet string) []byte {
	b := make([]byte, 0, len(prefix)+1+len(datanet)+80)
	b = append(b, prefix...)
	b = append(b, byte(len(datanet)))
	return append(b, datanet...)
}

// checkDatanet refuses a datanet name that is not well formed.
func checkDatanet(name string) error {
	if !nameRE.MatchString(name) {
		return errorf(abi.CodeBadIdentifier, "datanet name %.80q is not well formed", name)
	}
	return nil
}

// checkRecordID refuses a record id that is not a hex sha256.
func checkRecordID(id string) error {
	if !hashRE.MatchString(id) {
		return errorf(abi.CodeBadIdentifier, "record id %.80q is not a hex sha256", id)
	}
	return nil
}
