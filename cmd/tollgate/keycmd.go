package main

import (
	"bufio"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ethereum/go-ethereum/crypto"
	"golang.org/x/term"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/keys"
)

// defaultKeyDir is where `tollgate key` keeps a user's key files.
func defaultKeyDir() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return filepath.Join(".", "tollgate-keys")
	}
	return filepath.Join(dir, "tollgate", "keys")
}

// passphrase finds a passphrase: from file, else $TOLLGATE_PASSPHRASE,
// else a prompt on the terminal (twice, when confirm).
func passphrase(file string, confirm bool) (string, error) {
	p, err := keys.Passphrase(file)
	if abi.CodeOf(err) != keys.CodeNoPassphrase {
		return p, err
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return "", err
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

// loadKey loads a signing key for a command: a keystore v3 file (with its
// passphrase from passFile, the environment or a prompt), or a plaintext
// hex key file.
func loadKey(path, passFile string) (*ecdsa.PrivateKey, error) {
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

func keyCmd(args []string, out io.Writer) error {
	const use = "usage: tollgate key new|import|list|address [flags]"
	sub, err := subcommand(args, use)
	if err != nil {
		return err
	}
	fs := newFlags("key " + sub)
	dir := fs.String("dir", defaultKeyDir(), "directory of key files")
	passFile := fs.String("passphrase-file", "", "file holding the passphrase (default: $"+keys.PassphraseEnv+", else a prompt)")
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	enc := json.NewEncoder(out)
	write := func(k *ecdsa.PrivateKey) error {
		pass, err := passphrase(*passFile, true)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(*dir, 0o700); err != nil {
			return err
		}
		addr := crypto.PubkeyToAddress(k.PublicKey)
		path := filepath.Join(*dir, keys.FileName(addr))
		if err := keys.Write(path, k, pass, keys.Standard); err != nil {
			return err
		}
		if *asJSON {
			return enc.Encode(map[string]string{"address": addr.Hex(), "path": path})
		}
		fmt.Fprintf(out, "%s  %s\n", addr.Hex(), path)
		return nil
	}
	switch args[0] {
	case "new":
		k, err := crypto.GenerateKey()
		if err != nil {
			return err
		}
		return write(k)
	case "import":
		// The hex key comes from a file or stdin, never from the command
		// line, where it would land in the shell's history.
		var b []byte
		var err error
		if fs.NArg() == 1 {
			b, err = os.ReadFile(fs.Arg(0))
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
	case "list":
		es, err := keys.List(*dir)
		if err != nil {
			return err
		}
		list := []map[string]string{}
		for _, e := range es {
			list = append(list, map[string]string{"address": e.Address.Hex(), "path": e.Path})
			if !*asJSON {
				fmt.Fprintf(out, "%s  %s\n", e.Address.Hex(), e.Path)
			}
		}
		if *asJSON {
			return enc.Encode(list)
		}
		return nil
	case "address":
		if fs.NArg() != 1 {
			return usageErr("usage: tollgate key address FILE")
		}
		a, err := keys.Address(fs.Arg(0))
		if err != nil {
			return err
		}
		if *asJSON {
			return enc.Encode(map[string]string{"address": a.Hex(), "path": fs.Arg(0)})
		}
		fmt.Fprintln(out, a.Hex())
		return nil
	}
	return usageErr(use)
}
