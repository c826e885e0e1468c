package registry

import (
	"encoding/json"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/grant"
)

// DefaultAttribution is the attribution plugin an agent gets when its
// manifest names none.
const DefaultAttribution = "builtin/ngram@1.1.0"

// Manifest describes a plugin. The publisher signs its [Manifest.SigningBytes];
// the registry stores it with the signature.
type Manifest struct {
	Name    string `json:"name"`    // e.g. "acme/qa"
	Version string `json:"version"` // semantic version, immutable once published
	Kind    string `json:"kind"`    // abi.KindAgent, abi.KindAttribution or abi.KindModel
	Export  string `json:"export,omitempty"`
	// WasmSHA256 is the hex sha256 of the module's bytes (empty for a
	// model, which has none).
	WasmSHA256 string `json:"wasm_sha256"`
	Publisher  string `json:"publisher"` // checksummed address of the signing key
	// Price per call in the token's base units, a decimal integer.
	Price string `json:"price,omitempty"`
	// Datanets the plugin may read.
	Datanets grant.List `json:"datanets,omitempty"`
	// Attribution is the name@version of the agent's attribution plugin.
	Attribution string `json:"attribution,omitempty"`
	// Limits the plugin asks for; zero fields take the runtime's defaults,
	// and the operator's caps bound them all.
	Limits *Limits `json:"limits,omitempty"`
	// ReuseWithinCaller lets one caller's calls share an instance, so the
	// plugin may keep state between them (never across callers).
	ReuseWithinCaller bool `json:"reuse_within_caller,omitempty"`
	// Config is the plugin's Extism config, read by the PDKs' config_get:
	// at most MaxConfigEntries keys, MaxConfigBytes in all. Keys starting
	// with "tollgate." are the host's.
	Config map[string]string `json:"config,omitempty"`
	// Methods are the methods an attribution plugin may name in a receipt:
	// at most MaxMethods, each a short name (MethodRE). A plugin answering
	// a method its manifest does not declare is refused, so the method
	// tells a caller at most which of a few declared rules ran. A manifest
	// without Methods declares one, its Name: whatever such a plugin
	// answers, the receipt says Name.
	Methods []string `json:"methods,omitempty"`
	// Models are the models an agent may call, each with a cap on the
	// tokens one call generates.
	Models grant.Models `json:"models,omitempty"`
	// Model is a model's backend, prices and training data (KindModel
	// only).
	Model *ModelSpec `json:"model,omitempty"`
}

// MaxMethods bounds the methods an attribution plugin may declare.
const MaxMethods = 8

// MethodRE is what a method may be: up to 64 of [A-Za-z0-9._:/-], never
// free text, since it is signed into every receipt. Methods starting
// "failed:" or "fallback:" are the host's.
var MethodRE = regexp.MustCompile(`^[A-Za-z0-9._:/-]{1,64}$`)

// IsHostMethod reports whether method is one the host gives a receipt
// itself (a failed call, or an attribution that fell back to bytes read).
func IsHostMethod(method string) bool {
	return strings.HasPrefix(method, "failed:") || strings.HasPrefix(method, "fallback:")
}

// DeclaredMethods returns the methods an attribution plugin may name: its
// Methods, or its Name if it declares none.
func (m Manifest) DeclaredMethods() []string {
	if len(m.Methods) == 0 {
		return []string{m.Name}
	}
	return m.Methods
}

// AttributionRef returns the name@version of an agent's attribution
// plugin: Attribution, or DefaultAttribution.
func (m Manifest) AttributionRef() string {
	if m.Attribution == "" {
		return DefaultAttribution
	}
	return m.Attribution
}

// AttributionName returns the name of an agent's attribution plugin, the
// name datanet owners allow (Policy.Attribution).
func (m Manifest) AttributionName() string {
	name, _, _ := ParseRef(m.AttributionRef())
	return name
}

// Bounds of a manifest's Config.
const (
	MaxConfigEntries = 64
	MaxConfigBytes   = 16 << 10
)

// ConfigFor returns the config a call of the plugin sees: the manifest's,
// plus the host's entries.
func (m Manifest) ConfigFor(host map[string]string) map[string]string {
	out := make(map[string]string, len(m.Config)+len(host))
	for k, v := range m.Config {
		out[k] = v
	}
	for k, v := range host {
		out[k] = v
	}
	return out
}

// Limits are the resource limits a manifest asks for.
type Limits struct {
	MemoryPages    uint32 `json:"memory_pages,omitempty"`
	TimeoutMillis  uint32 `json:"timeout_ms,omitempty"`
	MaxInputBytes  int    `json:"max_input_bytes,omitempty"`
	MaxOutputBytes int    `json:"max_output_bytes,omitempty"`
	MaxHostCalls   int    `json:"max_host_calls,omitempty"`
	MaxRecords     int    `json:"max_records,omitempty"`
}

var (
	nameRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}(/[a-z0-9][a-z0-9._-]{0,63})?$`)
	versionRE = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$`)
	hashRE    = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// SigningBytes is what the publisher signs: the manifest's canonical JSON.
func (m Manifest) SigningBytes() []byte {
	b, _ := json.Marshal(m) // a struct of strings cannot fail to encode
	return b
}

// Ref returns "name@version".
func (m Manifest) Ref() string { return m.Name + "@" + m.Version }

// ExportName returns the export to call: Export, or the kind's default.
func (m Manifest) ExportName() string {
	switch {
	case m.Export != "":
		return m.Export
	case m.Kind == abi.KindAttribution:
		return abi.ExportAttribute
	default:
		return abi.ExportInvoke
	}
}

// PriceAmount returns Price as an integer (zero if unset).
func (m Manifest) PriceAmount() *big.Int {
	p, ok := new(big.Int).SetString(m.Price, 10)
	if !ok {
		return new(big.Int)
	}
	return p
}

// Validate checks the manifest's fields, not its signature.
func (m *Manifest) Validate() error {
	switch {
	case !nameRE.MatchString(m.Name):
		return errorf(abi.CodeBadRequest, "manifest name %q: want lowercase [owner/]name", m.Name)
	case !versionRE.MatchString(m.Version):
		return errorf(abi.CodeBadRequest, "manifest version %q: want MAJOR.MINOR.PATCH", m.Version)
	case m.Kind != abi.KindAgent && m.Kind != abi.KindAttribution && m.Kind != abi.KindModel:
		return errorf(abi.CodeBadRequest, "manifest kind %q: want %q, %q or %q", m.Kind, abi.KindAgent, abi.KindAttribution, abi.KindModel)
	case m.Kind != abi.KindModel && m.Model != nil:
		return errorf(abi.CodeBadRequest, "manifest of a %s has a model section", m.Kind)
	case m.Kind != abi.KindModel && !hashRE.MatchString(m.WasmSHA256):
		return errorf(abi.CodeBadRequest, "manifest wasm_sha256 %q: want 64 lowercase hex digits", m.WasmSHA256)
	}
	addr, err := CanonicalAddress(m.Publisher)
	if err != nil {
		return errorf(abi.CodeBadRequest, "manifest publisher: %v", err)
	}
	if addr != m.Publisher {
		return errorf(abi.CodeBadRequest, "manifest publisher %q: write it checksummed, %s", m.Publisher, addr)
	}
	if m.Kind == abi.KindModel {
		return m.validateModel()
	}
	if err := m.validateModelGrants(); err != nil {
		return err
	}
	if m.Price != "" {
		p, ok := new(big.Int).SetString(m.Price, 10)
		if !ok || p.Sign() < 0 || p.BitLen() > 256 {
			return errorf(abi.CodeBadRequest, "manifest price %q: want a decimal integer in [0, 2^256)", m.Price)
		}
	}
	for _, d := range m.Datanets {
		if !nameRE.MatchString(d) {
			return errorf(abi.CodeBadRequest, "manifest datanet %q is not a valid name", d)
		}
	}
	if len(m.Config) > MaxConfigEntries {
		return errorf(abi.CodeBadRequest, "manifest config has %d entries, at most %d", len(m.Config), MaxConfigEntries)
	}
	size := 0
	for k, v := range m.Config {
		size += len(k) + len(v)
		switch {
		case k == "":
			return errorf(abi.CodeBadRequest, "manifest config has an empty key")
		case strings.HasPrefix(k, "tollgate."):
			return errorf(abi.CodeBadRequest, "manifest config key %q: keys starting with tollgate. are the host's", k)
		case !utf8.ValidString(k) || !utf8.ValidString(v):
			return errorf(abi.CodeBadRequest, "manifest config key %q: keys and values must be UTF-8", k)
		}
	}
	if size > MaxConfigBytes {
		return errorf(abi.CodeBadRequest, "manifest config is %d bytes, at most %d", size, MaxConfigBytes)
	}
	if m.Attribution != "" {
		if _, _, err := ParseRef(m.Attribution); err != nil {
			return err
		}
	}
	if err := m.validateMethods(); err != nil {
		return err
	}
	if l := m.Limits; l != nil && (l.MemoryPages > 65536 || l.MaxInputBytes < 0 || l.MaxOutputBytes < 0 || l.MaxHostCalls < 0 || l.MaxRecords < 0) {
		return errorf(abi.CodeBadRequest, "manifest limits %+v out of range", *l)
	}
	return nil
}

// ParseRef splits "name@version"; version may be "latest".
func ParseRef(ref string) (name, version string, err error) {
	for i := len(ref) - 1; i >= 0; i-- {
		if ref[i] == '@' {
			name, version = ref[:i], ref[i+1:]
			break
		}
	}
	if !nameRE.MatchString(name) || (version != "latest" && !versionRE.MatchString(version)) {
		return "", "", errorf(abi.CodeBadRequest, "plugin reference %q: want name@version", ref)
	}
	return name, version, nil
}

func (m *Manifest) validateMethods() error {
	if len(m.Methods) == 0 {
		return nil
	}
	if m.Kind != abi.KindAttribution {
		return errorf(abi.CodeBadRequest, "manifest methods: only attribution plugins declare methods")
	}
	if len(m.Methods) > MaxMethods {
		return errorf(abi.CodeBadRequest, "manifest declares %d methods, at most %d", len(m.Methods), MaxMethods)
	}
	for i, meth := range m.Methods {
		switch {
		case !MethodRE.MatchString(meth) || IsHostMethod(meth):
			return errorf(abi.CodeBadRequest, "manifest method %.80q: want up to 64 of [A-Za-z0-9._:/-], not starting failed: or fallback: (the host's)", meth)
		case slices.Contains(m.Methods[:i], meth):
			return errorf(abi.CodeBadRequest, "manifest method %q declared twice", meth)
		}
	}
	return nil
}
