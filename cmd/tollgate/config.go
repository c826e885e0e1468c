package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tollgate-dev/tollgate/internal/fsutil"
)

// The config file is a JSON object. Its top-level "server" and "key" are
// the default node and signing key of every command; "tokens" holds, per
// server URL, the token `tollgate login` (or a signed command's automatic
// sign-in) got there. Any other top-level entry gives a default to every
// command's flag of that name, and an entry named after a command (an
// object, say "serve" or "datanet import") to that command's flags alone.
// A flag on the command line wins over both. For example:
//
//	{
//	  "server": "https://tollgate.example",
//	  "key": "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4",
//	  "serve": {"rate": 200, "log-format": "json"},
//	  "tokens": {"https://tollgate.example": {"token": "…", "account": "0x5B38…", "expiresAt": 1767225600}}
//	}
//
// It is read from --config, $TOLLGATE_CONFIG, or config.json in the user's
// config directory (~/.config/tollgate/ on Linux), whichever comes first;
// a missing file is an empty one. It is written with mode 0600.
const configEnv = "TOLLGATE_CONFIG"

// tokensKey is the config file's entry of saved tokens.
const tokensKey = "tokens"

// savedToken is a token a sign-in got from a server.
type savedToken struct {
	Token   string `json:"token"`
	Account string `json:"account"`
	Expires int64  `json:"expiresAt"`
}

// valid reports whether t is a token that has not expired.
func (t savedToken) valid() bool {
	return t.Token != "" && (t.Expires == 0 || time.Now().Unix() < t.Expires)
}

type config struct {
	path   string
	values map[string]any
	tokens map[string]savedToken
}

func configPath(given string) string {
	if given != "" {
		return given
	}
	if p := os.Getenv(configEnv); p != "" {
		return p
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "tollgate", "config.json")
}

func readConfig(path string) (*config, error) {
	c := &config{path: path, values: map[string]any{}, tokens: map[string]savedToken{}}
	if path == "" {
		return c, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := json.Unmarshal(b, &c.values); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if raw, ok := c.values[tokensKey]; ok {
		b, _ := json.Marshal(raw)
		if err := json.Unmarshal(b, &c.tokens); err != nil {
			return nil, fmt.Errorf("config %s: tokens: %w", path, err)
		}
		delete(c.values, tokensKey)
	}
	return c, nil
}

// loadConfig reads the config file and fills each of cmd's flags the
// command line left unset from it.
func (a *app) loadConfig(cmd *cobra.Command) error {
	c, err := readConfig(configPath(a.configFlag))
	if err != nil {
		return err
	}
	a.cfg = c
	command := strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
	values := map[string]any{}
	for k, v := range c.values {
		if _, isSection := v.(map[string]any); !isSection {
			values[k] = v
		}
	}
	if section, ok := c.values[command].(map[string]any); ok {
		for k, v := range section {
			values[k] = v
		}
	}
	fs := cmd.Flags()
	for name, v := range values {
		f := fs.Lookup(name)
		if f == nil || f.Changed || name == "config" || name == "help" || f.Annotations[skipConfig] != nil {
			continue
		}
		var s string
		switch v := v.(type) {
		case string:
			s = v
		case float64, bool:
			s = fmt.Sprint(v)
		default:
			return fmt.Errorf("config %s: %s: want a string, number or boolean", c.path, name)
		}
		if err := fs.Set(name, s); err != nil {
			return fmt.Errorf("config %s: %s: %w", c.path, name, err)
		}
	}
	return nil
}

// skipConfig annotates a flag the config file gives no default to.
const skipConfig = "tollgate-no-config"

// savedTokenFor returns the token saved for server, valid or not.
func (a *app) savedTokenFor(server string) (savedToken, bool) {
	if a.cfg == nil {
		c, err := readConfig(configPath(a.configFlag))
		if err != nil {
			return savedToken{}, false
		}
		a.cfg = c
	}
	t, ok := a.cfg.tokens[serverKey(server)]
	return t, ok
}

// tokenFor returns --token, or the valid token saved for server.
func (a *app) tokenFor(server string) string {
	if a.token != "" {
		return a.token
	}
	if t, ok := a.savedTokenFor(server); ok && t.valid() {
		return t.Token
	}
	return ""
}

// serverKey is how a server URL is kept in the config file's tokens.
func serverKey(server string) string { return strings.TrimRight(server, "/") }

// saveToken records t as server's token in the config file, keeping
// everything else in it.
func (a *app) saveToken(server string, t savedToken) error {
	path := configPath(a.configFlag)
	if path == "" {
		return errors.New("config: no user config dir to keep the token in; give --config FILE")
	}
	all := map[string]json.RawMessage{}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("config: %w", err)
	default:
		if err := json.Unmarshal(b, &all); err != nil {
			return fmt.Errorf("config %s: %w", path, err)
		}
	}
	tokens := map[string]savedToken{}
	if raw, ok := all[tokensKey]; ok {
		if err := json.Unmarshal(raw, &tokens); err != nil {
			return fmt.Errorf("config %s: tokens: %w", path, err)
		}
	}
	tokens[serverKey(server)] = t
	all[tokensKey], _ = json.Marshal(tokens)
	out, _ := json.MarshalIndent(all, "", "  ")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(path, append(out, '\n'), 0o600); err != nil {
		return err
	}
	if a.cfg != nil {
		a.cfg.tokens[serverKey(server)] = t
	}
	return nil
}

// flagGiven reports whether a flag was set, on the command line or by the
// config file.
func flagGiven(fs *pflag.FlagSet, name string) bool { return fs.Changed(name) }
