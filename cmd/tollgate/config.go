package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
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

// parseFlags parses a command's flags, wherever they stand on the line,
// then fills each flag the command line left unset from the config file.
// -h or --help gives a helpRequested for run to print; any other mistake
// is a usage error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	cfgFile := fs.String("config", "", "config file giving defaults for these flags (default: $"+configEnv+", else config.json in the user's tollgate config dir)")
	// The flag package prints its own complaints and usage; run prints
	// ours, once, to the right stream.
	fs.SetOutput(io.Discard)
	if err := fs.Parse(flagsFirst(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return helpRequested{commandUsage(fs)}
		}
		return usageErr(fmt.Sprintf("%s: %v (see %s --help)", strings.TrimPrefix(fs.Name(), "tollgate "), err, fs.Name()))
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

// flagsFirst moves the flags in args, with the values of those that take
// one, ahead of the positional arguments, so that flags after an argument
// (tollgate invoke "why?" --json) are flags and not input. The flag
// package alone stops at the first argument. A "--" ends the flags: what
// follows it is positional, even if it starts with a dash.
func flagsFirst(fs *flag.FlagSet, args []string) []string {
	var flags, positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil || isBoolFlag(f) {
			continue // unknown: Parse says so
		}
		if i+1 == len(args) {
			return flags // Parse says the value is missing
		}
		i++
		flags = append(flags, args[i])
	}
	return append(append(flags, "--"), positional...)
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// helpRequested carries a command's usage, asked for with -h or --help;
// run prints it to standard output and exits 0.
type helpRequested struct{ usage string }

func (h helpRequested) Error() string { return "help requested" }

// commandUsage is a command's usage line, what it does, and its flags.
func commandUsage(fs *flag.FlagSet) string {
	var b strings.Builder
	name := strings.TrimPrefix(fs.Name(), "tollgate ")
	fmt.Fprintf(&b, "usage: %s [flags]", fs.Name())
	if a := commandArgs[name]; a != "" {
		fmt.Fprintf(&b, " %s", a)
	}
	b.WriteString("\n")
	if d := commandDoc(name); d != "" {
		fmt.Fprintf(&b, "\n%s\n", d)
	}
	b.WriteString("\nflags (anywhere on the line; -- ends them):\n")
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	return b.String()
}
