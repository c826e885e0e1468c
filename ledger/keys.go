package ledger

import "encoding/binary"

// The key layout (see [Format]): one prefix per kind of record, so each
// kind is read with one prefix scan.
func balanceKey(a string) []byte   { return []byte("c/" + a) }
func earnedKey(a string) []byte    { return []byte("e/" + a) }
func receiptKey(id string) []byte  { return []byte("r/" + id) }
func depositKey(ref string) []byte { return []byte("D/" + ref) }
func outputKey(id string) []byte   { return []byte("o/" + id) }
func epochKey(n uint64) []byte     { return binary.BigEndian.AppendUint64([]byte("E/"), n) }
func epochReceiptsPrefix(n uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte("x/"), n)
}
func epochReceiptKey(n uint64, id string) []byte { return append(epochReceiptsPrefix(n), "/"+id...) }

var (
	openEpochKey = []byte("m/open")
	// depositCursorKey is the last chain block whose deposits are credited.
	depositCursorKey = []byte("m/deposit-cursor")
	// Running totals, kept in the same transactions as the amounts they sum,
	// so solvency is checked on every write in constant time.
	depositedKey = []byte("t/deposited") // Σ deposits credited
	creditKey    = []byte("t/credit")    // Σ credit
	earnedTotKey = []byte("t/earned")    // Σ cumulative earnings
)
