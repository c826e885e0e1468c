package registry

import (
	"crypto/ecdsa"
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/abi"
)

// SignText signs data as an EIP-191 personal message ("\x19Ethereum Signed
// Message:\n" + len + data), the form every Ethereum wallet's personal_sign
// produces. The signature is 65 bytes, V in {27, 28}.
func SignText(key *ecdsa.PrivateKey, data []byte) ([]byte, error) {
	sig, err := crypto.Sign(accounts.TextHash(data), key)
	if err != nil {
		return nil, err
	}
	sig[64] += 27
	return sig, nil
}

// RecoverText returns the checksummed address that signed data with
// [SignText]. V may be 0/1 or 27/28.
func RecoverText(data, sig []byte) (string, error) {
	if len(sig) != 65 {
		return "", abi.Errorf(abi.CodeBadSignature, "signature is %d bytes, want 65", len(sig))
	}
	s := append([]byte(nil), sig...)
	if s[64] >= 27 {
		s[64] -= 27
	}
	pub, err := crypto.SigToPub(accounts.TextHash(data), s)
	if err != nil {
		return "", abi.Errorf(abi.CodeBadSignature, "recover: %v", err)
	}
	return crypto.PubkeyToAddress(*pub).Hex(), nil
}

// Address returns the checksummed address of key.
func Address(key *ecdsa.PrivateKey) string { return crypto.PubkeyToAddress(key.PublicKey).Hex() }

// CanonicalAddress checks that s is a 20-byte hex address and returns its
// EIP-55 checksummed form, the one form accounts are stored under.
func CanonicalAddress(s string) (string, error) {
	if !common.IsHexAddress(s) || !strings.HasPrefix(s, "0x") {
		return "", abi.Errorf(abi.CodeBadRequest, "%q is not a 0x-prefixed 20-byte hex address", s)
	}
	return common.HexToAddress(s).Hex(), nil
}

func verifySigner(data, sig []byte, want string) error {
	got, err := RecoverText(data, sig)
	if err != nil {
		return err
	}
	if got != want {
		return abi.Errorf(abi.CodeBadSignature, "signed by %s, not %s", got, want)
	}
	return nil
}

func errorf(code abi.Code, format string, args ...any) error {
	return abi.Errorf(code, "registry: %s", fmt.Sprintf(format, args...))
}
