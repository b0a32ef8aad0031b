// Package config resolves settings the way the CLI documents them: a flag
// given on the command line wins; otherwise the FIGURES_<NAME> environment
// variable (the flag's name upper-cased, dashes as underscores); otherwise
// the key of that name in the optional YAML configuration file.
package config

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// EnvName returns the environment variable that sets flag name.
func EnvName(name string) string {
	return "FIGURES_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// File is a parsed YAML configuration file: keys are flag names, with
// dashes or underscores.
type File map[string]any

// Load reads a YAML configuration file. An empty path is an empty file.
func Load(path string) (File, error) {
	if path == "" {
		return File{}, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	f, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	return f, nil
}

// Parse parses the text of a YAML configuration file: a mapping of flag
// names to values (a list for a repeatable flag).
func Parse(b []byte) (File, error) {
	f := File{}
	if err := yaml.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	return f, nil
}

func (f File) lookup(name string) (any, bool) {
	for _, k := range []string{name, strings.ReplaceAll(name, "-", "_")} {
		if v, ok := f[k]; ok {
			return v, true
		}
	}
	return nil, false
}

// Apply fills every flag of cmd that was not given on the command line
// from the environment, then from file. One file serves every command, so
// keys a command has no flag for are ignored.
func Apply(cmd *cobra.Command, file File) error {
	var errs []string
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		if fl.Changed || fl.Name == "help" || fl.Name == "config" {
			return
		}
		if v, ok := os.LookupEnv(EnvName(fl.Name)); ok && v != "" {
			if err := setAll(fl, splitList(fl, v)); err != nil {
				errs = append(errs, fmt.Sprintf("%s=%q: %v", EnvName(fl.Name), v, err))
			}
			return
		}
		if v, ok := file.lookup(fl.Name); ok {
			if err := setAll(fl, yamlValues(v)); err != nil {
				errs = append(errs, fmt.Sprintf("config key %s: %v", fl.Name, err))
			}
		}
	})
	if len(errs) > 0 {
		sort.Strings(errs)
		return fmt.Errorf("settings: %s", strings.Join(errs, "; "))
	}
	return nil
}

func isList(fl *pflag.Flag) bool {
	return strings.HasSuffix(fl.Value.Type(), "Slice") || strings.HasSuffix(fl.Value.Type(), "Array")
}

func splitList(fl *pflag.Flag, v string) []string {
	if !isList(fl) {
		return []string{v}
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func yamlValues(v any) []string {
	switch x := v.(type) {
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	case nil:
		return nil
	}
	return []string{fmt.Sprint(v)}
}

func setAll(fl *pflag.Flag, vals []string) error {
	for _, v := range vals {
		if err := fl.Value.Set(v); err != nil {
			return err
		}
	}
	if len(vals) > 0 {
		fl.Changed = true
	}
	return nil
}
