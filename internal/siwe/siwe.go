// Package siwe builds and checks Sign-In with Ethereum messages (EIP-4361)
// for the fields Tollgate uses: domain, address, statement, URI, version,
// chain id, nonce, issued-at and expiration time.
package siwe

import (
	"crypto/ecdsa"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/abi"
)

// CodeMalformed says a message is not an EIP-4361 message.
const CodeMalformed abi.Code = "siwe_malformed"

// Message is a sign-in message.
type Message struct {
	Domain    string
	Address   common.Address
	Statement string
	URI       string
	ChainID   uint64
	Nonce     string
	IssuedAt  time.Time
	Expires   time.Time
}

const header = " wants you to sign in with your Ethereum account:"

// String renders m as EIP-4361 text, the bytes a wallet shows and signs.
func (m Message) String() string {
	var b strings.Builder
	b.WriteString(m.Domain + header + "\n")
	b.WriteString(m.Address.Hex() + "\n\n")
	if m.Statement != "" {
		b.WriteString(m.Statement + "\n")
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "URI: %s\nVersion: 1\nChain ID: %d\nNonce: %s\nIssued At: %s", m.URI, m.ChainID, m.Nonce, m.IssuedAt.UTC().Format(time.RFC3339))
	if !m.Expires.IsZero() {
		fmt.Fprintf(&b, "\nExpiration Time: %s", m.Expires.UTC().Format(time.RFC3339))
	}
	return b.String()
}

// Parse reads an EIP-4361 message.
func Parse(s string) (Message, error) {
	bad := func(what string) (Message, error) {
		return Message{}, abi.Errorf(CodeMalformed, "sign-in message: %s", what)
	}
	if len(s) > 4096 {
		return bad("longer than 4096 bytes")
	}
	lines := strings.Split(s, "\n")
	if len(lines) < 8 {
		return bad("too few lines")
	}
	domain, ok := strings.CutSuffix(lines[0], header)
	if !ok || domain == "" {
		return bad("no domain line")
	}
	if !common.IsHexAddress(lines[1]) || !strings.HasPrefix(lines[1], "0x") {
		return bad("no address line")
	}
	m := Message{Domain: domain, Address: common.HexToAddress(lines[1])}
	if lines[2] != "" {
		return bad("no blank line after the address")
	}
	i := 3
	if lines[i] != "" && !strings.HasPrefix(lines[i], "URI: ") {
		m.Statement = lines[i]
		i++
	}
	if i >= len(lines) || lines[i] != "" {
		return bad("no blank line before the fields")
	}
	i++
	fields := map[string]string{}
	order := []string{"URI", "Version", "Chain ID", "Nonce", "Issued At", "Expiration Time"}
	for _, line := range lines[i:] {
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			return bad(fmt.Sprintf("line %q", line))
		}
		if _, dup := fields[k]; dup {
			return bad("field " + k + " twice")
		}
		fields[k] = v
	}
	for _, k := range order[:5] {
		if fields[k] == "" {
			return bad("no " + k)
		}
	}
	for k := range fields {
		known := false
		for _, o := range order {
			known = known || k == o
		}
		if !known {
			return bad("unknown field " + k)
		}
	}
	if fields["Version"] != "1" {
		return bad("version is not 1")
	}
	var err error
	m.URI, m.Nonce = fields["URI"], fields["Nonce"]
	if m.ChainID, err = strconv.ParseUint(fields["Chain ID"], 10, 64); err != nil {
		return bad("chain id")
	}
	if m.IssuedAt, err = time.Parse(time.RFC3339, fields["Issued At"]); err != nil {
		return bad("issued-at time")
	}
	if v := fields["Expiration Time"]; v != "" {
		if m.Expires, err = time.Parse(time.RFC3339, v); err != nil {
			return bad("expiration time")
		}
	}
	if m.String() != s {
		return bad("not in canonical form")
	}
	return m, nil
}

// Recover returns the address whose key signed text with personal_sign
// (EIP-191), as wallets sign sign-in messages.
func Recover(text string, sig []byte) (common.Address, error) {
	if len(sig) != 65 {
		return common.Address{}, abi.Errorf(abi.CodeBadSignature, "signature is %d bytes, want 65", len(sig))
	}
	s := append([]byte(nil), sig...)
	if s[64] >= 27 {
		s[64] -= 27
	}
	pub, err := crypto.SigToPub(accounts.TextHash([]byte(text)), s)
	if err != nil {
		return common.Address{}, abi.Wrap(abi.CodeBadSignature, err, "signature does not recover")
	}
	return crypto.PubkeyToAddress(*pub), nil
}

// Sign signs text with personal_sign (EIP-191), as a wallet would (v is
// 27 or 28).
func Sign(key *ecdsa.PrivateKey, text string) ([]byte, error) {
	sig, err := crypto.Sign(accounts.TextHash([]byte(text)), key)
	if err != nil {
		return nil, err
	}
	sig[64] += 27
	return sig, nil
}
