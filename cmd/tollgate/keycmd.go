package main

import (
	"bufio"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/keys"
)

const passphraseEnvName = keys.PassphraseEnv

// keyDirEnv names the key directory instead of the default.
const keyDirEnv = "TOLLGATE_KEY_DIR"

// defaultKeyDir is where `tollgate key` keeps a user's key files, and where
// --key ADDRESS looks for one.
func defaultKeyDir() string {
	if d := os.Getenv(keyDirEnv); d != "" {
		return d
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return filepath.Join(".", "tollgate-keys")
	}
	return filepath.Join(dir, "tollgate", "keys")
}

const passphraseHelp = `The passphrase comes from --passphrase-file, else $` + keys.PassphraseEnv + `, else a
prompt when standard input is a terminal.`

// passphrase finds a passphrase: from file, else $TOLLGATE_PASSPHRASE,
// else a prompt on the terminal (twice, when confirm).
func passphrase(file string, confirm bool) (string, error) {
	p, err := keys.Passphrase(file)
	if abi.CodeOf(err) != keys.CodeNoPassphrase {
		return p, err
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return "", fmt.Errorf("%w: give --passphrase-file FILE or set $%s (no terminal to ask on)", err, keys.PassphraseEnv)
	}
	fmt.Fprint(os.Stderr, "passphrase: ")
	b, rerr := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if rerr != nil {
		return "", rerr
	}
	if confirm {
		fmt.Fprint(os.Stderr, "again: ")
		again, rerr := term.ReadPassword(fd)
		fmt.Fprintln(os.Stderr)
		if rerr != nil {
			return "", rerr
		}
		if string(again) != string(b) {
			return "", abi.Errorf(keys.CodeBadPassphrase, "the passphrases differ")
		}
	}
	return string(b), nil
}

// resolveKey turns --key into a key file: a path, or an address looked up
// among the key files in the key dir. Neither is a usage error that says
// where it looked.
func resolveKey(ref string) (string, error) {
	if ref == "" {
		return "", usageErr("give --key FILE or --key ADDRESS (tollgate key new makes a key; tollgate key list lists them), or a \"key\" in the config file")
	}
	if _, err := os.Stat(ref); err == nil {
		return ref, nil
	}
	if common.IsHexAddress(ref) {
		dir := defaultKeyDir()
		p, err := keys.Find(dir, ref)
		if abi.CodeOf(err) == abi.CodeNotFound {
			return "", usageErr(fmt.Sprintf("--key %s: no key file for that address in %s (see tollgate key list; $%s names another dir); give --key FILE", ref, dir, keyDirEnv))
		}
		return p, err
	}
	return "", usageErr(fmt.Sprintf("--key %s: no such file, and not an address", ref))
}

// loadKey loads the key --key names.
func (a *app) loadKey() (*ecdsa.PrivateKey, error) {
	return loadKey(a.keyRef, a.passFile)
}

// loadKey loads a signing key: a keystore v3 file (with its passphrase
// from passFile, the environment or a prompt), or a plaintext hex key
// file; ref may also be the address of a key in the key dir.
func loadKey(ref, passFile string) (*ecdsa.PrivateKey, error) {
	path, err := resolveKey(ref)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if k, err := crypto.HexToECDSA(strings.TrimSpace(string(b))); err == nil {
		return k, nil
	}
	pass, err := passphrase(passFile, false)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	k, err := keys.Decrypt(b, pass)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	return k, nil
}

// keyEntry is what the key commands print per key.
type keyEntry struct {
	Address string `json:"address"`
	Path    string `json:"path"`
}

func keyCommand(a *app) *cobra.Command {
	var dir string
	dirFlag := func(cmd *cobra.Command) {
		cmd.Flags().StringVar(&dir, "dir", defaultKeyDir(), "directory of key files ($"+keyDirEnv+" changes the default)")
	}
	passFlag := func(cmd *cobra.Command) {
		cmd.Flags().StringVar(&a.passFile, "passphrase-file", "", "file holding the passphrase (default: $"+keys.PassphraseEnv+", else a prompt on a terminal)")
	}
	print := func(e keyEntry) error {
		if a.asJSON {
			return printValue(a.out, e)
		}
		fmt.Fprintf(a.out, "%s  %s\n", e.Address, e.Path)
		return nil
	}
	write := func(k *ecdsa.PrivateKey) error {
		pass, err := passphrase(a.passFile, true)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		addr := crypto.PubkeyToAddress(k.PublicKey)
		path := filepath.Join(dir, keys.FileName(addr))
		if err := keys.Write(path, k, pass, keys.Standard); err != nil {
			return err
		}
		return print(keyEntry{addr.Hex(), path})
	}

	newCmd := &cobra.Command{
		Use:   "new",
		Short: "Make a new key, kept as a keystore v3 file in the key dir",
		Long:  "Make a new Ethereum key and keep it, encrypted with a passphrase, in the key dir.\n" + passphraseHelp,
		Example: `  tollgate key new
  TOLLGATE_PASSPHRASE=… tollgate key new --json
  tollgate key new --passphrase-file pass.txt --dir ./keys`,
		Args: nArgs(0, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := crypto.GenerateKey()
			if err != nil {
				return err
			}
			return write(k)
		},
	}
	importCmd := &cobra.Command{
		Use:   "import [FILE]",
		Short: "Import a hex private key from a file or standard input into the key dir",
		Long:  "Import a hex secp256k1 private key, read from FILE or standard input (never from\nthe command line, where it would land in the shell's history).\n" + passphraseHelp,
		Example: `  tollgate key import key.hex
  pass show eth/dev | tollgate key import --passphrase-file pass.txt`,
		Args: nArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var b []byte
			var err error
			if len(args) == 1 {
				b, err = os.ReadFile(args[0])
			} else {
				b, err = io.ReadAll(bufio.NewReader(io.LimitReader(os.Stdin, 1<<10)))
			}
			if err != nil {
				return err
			}
			k, err := crypto.HexToECDSA(strings.TrimPrefix(strings.TrimSpace(string(b)), "0x"))
			if err != nil {
				return abi.Errorf(keys.CodeBadKeyFile, "not a hex secp256k1 private key")
			}
			return write(k)
		},
	}
	listCmd := &cobra.Command{
		Use:     "list",
		Short:   "List the key files in the key dir, by address",
		Example: "  tollgate key list\n  tollgate key list --json",
		Args:    nArgs(0, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			es, err := keys.List(dir)
			if err != nil {
				return err
			}
			list := []keyEntry{}
			for _, e := range es {
				list = append(list, keyEntry{e.Address.Hex(), e.Path})
			}
			if a.asJSON {
				return printValue(a.out, map[string]any{"keys": list})
			}
			if len(list) == 0 {
				fmt.Fprintf(a.out, "no keys in %s; make one with: tollgate key new\n", dir)
			}
			for _, e := range list {
				fmt.Fprintf(a.out, "%s  %s\n", e.Address, e.Path)
			}
			return nil
		},
	}
	addressCmd := &cobra.Command{
		Use:     "address FILE",
		Short:   "Print a key file's address (no passphrase needed)",
		Example: "  tollgate key address ./operator.json",
		Args:    nArgs(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := keys.Address(args[0])
			if err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return usageErr(fmt.Sprintf("key address: %s: no such file", args[0]))
				}
				return err
			}
			if a.asJSON {
				return printValue(a.out, keyEntry{addr.Hex(), args[0]})
			}
			fmt.Fprintln(a.out, addr.Hex())
			return nil
		},
	}
	for _, c := range []*cobra.Command{newCmd, importCmd, listCmd, addressCmd} {
		a.jsonFlag(c)
	}
	for _, c := range []*cobra.Command{newCmd, importCmd, listCmd} {
		dirFlag(c)
	}
	passFlag(newCmd)
	passFlag(importCmd)
	return group("key", "Keystore v3 key files: new, import, list, address",
		`Make, import and list the Ethereum keys that sign in to nodes and sign plugins,
datanets and records. Keys are keystore v3 files in the key dir
(`+defaultKeyDir()+`); any command's --key takes a file or the address of one of them.`,
		"  tollgate key new\n  tollgate key list",
		newCmd, importCmd, listCmd, addressCmd)
}
