package chain_test

import (
	"math/big"
	"strings"
	"testing"

	gethabi "github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/tollgate-dev/tollgate/ledger/chain"
	"github.com/tollgate-dev/tollgate/ledger/contracts"
)

// dataErr is an RPC error carrying revert data, as the JSON-RPC client
// returns one.
type dataErr struct{ data string }

func (e dataErr) Error() string  { return "execution reverted" }
func (e dataErr) ErrorData() any { return e.data }

// revertData encodes a Settlement custom error as the contract reverts
// with it.
func revertData(t *testing.T, name string, args ...any) []byte {
	t.Helper()
	abi := contracts.NewSettlement().GetABI()
	e, ok := abi.Errors[name]
	if !ok {
		t.Fatalf("no error %s in the Settlement ABI", name)
	}
	packed, err := e.Inputs.Pack(args...)
	if err != nil {
		t.Fatal(err)
	}
	return append(append([]byte{}, e.ID.Bytes()[:4]...), packed...)
}

func TestRevertReasonNamesTheContractsError(t *testing.T) {
	token := new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)
	half := new(big.Int).Div(token, big.NewInt(2))
	str, _ := gethabi.NewType("string", "", nil)
	plain, _ := gethabi.Arguments{{Type: str}}.Pack("not today")
	for _, c := range []struct {
		name string
		data []byte
		want []string
	}{
		{"nothing to claim", revertData(t, "NothingToClaim", half, half), []string{"nothing left to claim", "0.500000 TGT"}},
		{"invalid proof", revertData(t, "InvalidProof"), []string{"proof does not match"}},
		{"paused", revertData(t, "IsPaused"), []string{"paused"}},
		{"not operator", revertData(t, "NotOperator", common.HexToAddress("0x5B38Da6a701c568545dCfcB03FcB875f56beddC4")), []string{"0x5B38Da6a701c568545dCfcB03FcB875f56beddC4 is not the settlement's operator"}},
		{"stale epoch", revertData(t, "StaleEpoch", big.NewInt(3), big.NewInt(2)), []string{"epoch 2 is not after the last posted epoch 3"}},
		{"Error(string)", append([]byte{0x08, 0xc3, 0x79, 0xa0}, plain...), []string{"not today"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := chain.RevertReason(dataErr{hexutil.Encode(c.data)})
			if !ok {
				t.Fatalf("no reason read from %x", c.data)
			}
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Fatalf("reason %q lacks %q", got, w)
				}
			}
			if strings.Contains(got, "contracts.") || strings.Contains(got, "&{") {
				t.Fatalf("reason shows Go types: %q", got)
			}
		})
	}
	for _, bad := range []error{dataErr{"0x"}, dataErr{"0x12345678"}, dataErr{"nonsense"}} {
		if r, ok := chain.RevertReason(bad); ok {
			t.Fatalf("read %q from %v", r, bad)
		}
	}
}
