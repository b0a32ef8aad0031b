package config_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/figures-analytics/figures/internal/config"
)

// FuzzConfig parses arbitrary YAML and applies it to a command with a flag
// of every kind the CLI uses: neither step panics, a failure to apply
// names the setting, and a string value lands in its flag as written.
func FuzzConfig(f *testing.F) {
	for _, s := range []string{
		"store: sqlite:///figures.db\nworkflow: legacy\ncourse: [a, b]\n",
		"lms_timeout: 30s\nsite: [1, 2]\ntask-size: 100\nno-serve: true\n",
		"site: x\nlms-timeout: forever\ntask-size: 1e99\nno-serve: maybe\n",
		"store: [unclosed",
		"- a\n- b\n",
		"a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n",
		"store: {nested: map}\n1: 2\n",
		"store: ~\ncourse: []\n",
		"\xff\xfe",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := config.Parse(data)
		if err != nil {
			return
		}
		cmd := &cobra.Command{Use: "x"}
		fl := cmd.Flags()
		store := fl.String("store", "", "")
		fl.StringArray("course", nil, "")
		fl.IntSlice("site", nil, "")
		fl.Int("task-size", 2000, "")
		fl.Bool("no-serve", false, "")
		fl.Duration("lms-timeout", time.Minute, "")
		fl.StringSlice("completion-status", nil, "")
		if err := config.Apply(cmd, file); err != nil {
			if !strings.HasPrefix(err.Error(), "settings: config key ") {
				t.Errorf("Apply: %v", err)
			}
			return
		}
		// (The environment would win over the file.)
		if v, ok := file["store"].(string); ok && os.Getenv("FIGURES_STORE") == "" && *store != v {
			t.Errorf("store %q from a file saying %q", *store, v)
		}
	})
}
