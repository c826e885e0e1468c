package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The config file gives defaults for any command's flags: a JSON object
// whose top-level entries apply to every command that has a flag of that
// name, and whose entries named after a command (an object, say "serve" or
// "datanet import") apply to it alone. A flag given on the command line
// wins over both. For example:
//
//	{"server": "https://tollgate.example", "serve": {"rate": 200, "log-format": "json"}}
//
// It is read from --config, $TOLLGATE_CONFIG, or config.json in the user's
// config directory (~/.config/tollgate/ on Linux), whichever comes first.
const configEnv = "TOLLGATE_CONFIG"

func configPath(given string) (path string, explicit bool) {
	if given != "" {
		return given, true
	}
	if p := os.Getenv(configEnv); p != "" {
		return p, true
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", false
	}
	return filepath.Join(dir, "tollgate", "config.json"), false
}

// parseFlags parses a command's flags, then fills each flag the command
// line left unset from the config file.
func parseFlags(fs *flag.FlagSet, args []string) error {
	cfgFile := fs.String("config", "", "config file giving defaults for these flags (default: $"+configEnv+", else config.json in the user's tollgate config dir)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	path, explicit := configPath(*cfgFile)
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return nil
	}
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var all map[string]any
	if err := json.Unmarshal(b, &all); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	command := strings.TrimPrefix(fs.Name(), "tollgate ")
	values := map[string]any{}
	for k, v := range all {
		if _, isSection := v.(map[string]any); !isSection {
			values[k] = v
		}
	}
	if section, ok := all[command].(map[string]any); ok {
		for k, v := range section {
			values[k] = v
		}
	}
	for name, v := range values {
		f := fs.Lookup(name)
		if f == nil || set[name] || name == "config" {
			continue
		}
		var s string
		switch v := v.(type) {
		case string:
			s = v
		case float64, bool:
			s = fmt.Sprint(v)
		default:
			return fmt.Errorf("config %s: %s: want a string, number or boolean", path, name)
		}
		if err := f.Value.Set(s); err != nil {
			return fmt.Errorf("config %s: %s: %w", path, name, err)
		}
	}
	return nil
}
