// Package registry records where every plugin and every record of data came
// from: plugins stored by the sha256 of their bytes under a signed
// [Manifest], and datanets whose [Record]s are named by the hash of their
// content and signed by their contributor.
//
// A [Registry] is one Badger database. It serves the data host functions read
// ([Registry.Search], [Registry.Get], [Registry.CorpusMatch]) and verifies
// hashes and signatures both when things are added and when they are loaded.
package registry
