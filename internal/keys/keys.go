// Package keys keeps secp256k1 keys in go-ethereum keystore v3 files (the
// format geth, clef and most wallets read) and finds their passphrases.
// The operator's key and every CLI user's key go through it.
package keys

import (
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/google/uuid"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/fsutil"
)

// Error codes.
const (
	CodeBadPassphrase abi.Code = "key_bad_passphrase" // the passphrase does not decrypt the key
	CodeNoPassphrase  abi.Code = "key_no_passphrase"  // no passphrase was given
	CodeBadKeyFile    abi.Code = "key_bad_file"       // not a keystore v3 file
)

// PassphraseEnv is the environment variable a passphrase may come from.
const PassphraseEnv = "TOLLGATE_PASSPHRASE"

// Strength is the scrypt cost of a new key file.
type Strength int

const (
	// Standard is geth's default (256 MB, about a second): for keys whose
	// passphrase a person keeps.
	Standard Strength = iota
	// Light (4 MB) is for a key whose passphrase file lies next to it, as
	// the embedded dev chain's generated operator key does: a costly KDF
	// protects nothing there and would slow every start.
	Light
)

func (s Strength) params() (int, int) {
	if s == Light {
		return keystore.LightScryptN, keystore.LightScryptP
	}
	return keystore.StandardScryptN, keystore.StandardScryptP
}

// Encrypt returns k as a keystore v3 file.
func Encrypt(k *ecdsa.PrivateKey, passphrase string, s Strength) ([]byte, error) {
	id, err := uuid.NewRandom()
	if err != nil {
		return nil, err
	}
	n, p := s.params()
	return keystore.EncryptKey(&keystore.Key{Id: id, Address: crypto.PubkeyToAddress(k.PublicKey), PrivateKey: k}, passphrase, n, p)
}

// Write encrypts k into path (mode 0600), durably: a crash leaves no file
// or the whole file. It refuses to overwrite a key.
func Write(path string, k *ecdsa.PrivateKey, passphrase string, s Strength) error {
	b, err := Encrypt(k, passphrase, s)
	if err != nil {
		return err
	}
	if err := fsutil.CreateFileAtomic(path, b, 0o600); errors.Is(err, os.ErrExist) {
		return abi.Errorf(abi.CodeAlreadyExists, "key file %s exists", path)
	} else if err != nil {
		return err
	}
	return nil
}

// Load decrypts the keystore v3 file at path.
func Load(path, passphrase string) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Decrypt(b, passphrase)
}

// Decrypt decrypts a keystore v3 file's bytes.
func Decrypt(b []byte, passphrase string) (*ecdsa.PrivateKey, error) {
	var probe struct {
		Address string          `json:"address"`
		Crypto  json.RawMessage `json:"crypto"`
		Version int             `json:"version"`
	}
	if err := json.Unmarshal(b, &probe); err != nil || probe.Version != 3 || len(probe.Crypto) == 0 {
		return nil, abi.Errorf(CodeBadKeyFile, "not a keystore v3 file")
	}
	k, err := keystore.DecryptKey(b, passphrase)
	if errors.Is(err, keystore.ErrDecrypt) {
		return nil, abi.Errorf(CodeBadPassphrase, "the passphrase does not decrypt this key")
	}
	if err != nil {
		return nil, abi.Wrap(CodeBadKeyFile, err, "keystore file")
	}
	return k.PrivateKey, nil
}

// Address reads a key file's address without decrypting it.
func Address(path string) (common.Address, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return common.Address{}, err
	}
	var probe struct {
		Address string `json:"address"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(b, &probe); err != nil || probe.Version != 3 || !common.IsHexAddress(probe.Address) {
		return common.Address{}, abi.Errorf(CodeBadKeyFile, "%s is not a keystore v3 file", path)
	}
	return common.HexToAddress(probe.Address), nil
}

// Entry is one key file in a directory.
type Entry struct {
	Address common.Address
	Path    string
}

// List returns the key files in dir, by address.
func List(dir string) ([]Entry, error) {
	names, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, n := range names {
		if n.IsDir() || !strings.HasSuffix(n.Name(), ".json") {
			continue
		}
		p := filepath.Join(dir, n.Name())
		a, err := Address(p)
		if err != nil {
			continue
		}
		out = append(out, Entry{Address: a, Path: p})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address.Hex() < out[j].Address.Hex() })
	return out, nil
}

// Find returns the key file in dir for address (any case).
func Find(dir, address string) (string, error) {
	if !common.IsHexAddress(address) {
		return "", abi.Errorf(abi.CodeBadRequest, "%q is not an address", address)
	}
	es, err := List(dir)
	if err != nil {
		return "", err
	}
	for _, e := range es {
		if e.Address == common.HexToAddress(address) {
			return e.Path, nil
		}
	}
	return "", abi.Errorf(abi.CodeNotFound, "no key for %s in %s", address, dir)
}

// FileName is the name a key for addr gets in a key directory.
func FileName(addr common.Address) string { return strings.ToLower(addr.Hex()[2:]) + ".json" }

// Passphrase returns the passphrase from file (its first line) if file is
// set, else from the environment variable PassphraseEnv.
func Passphrase(file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("passphrase file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		return strings.TrimRight(line, "\r"), nil
	}
	if v, ok := os.LookupEnv(PassphraseEnv); ok {
		return v, nil
	}
	return "", abi.Errorf(CodeNoPassphrase, "no passphrase: give --passphrase-file or set %s", PassphraseEnv)
}
