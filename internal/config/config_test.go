package config_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/cobra"

	"github.com/figures-analytics/figures/internal/config"
)

func newCmd() (*cobra.Command, *string, *string, *[]string) {
	cmd := &cobra.Command{Use: "x"}
	store := cmd.Flags().String("store", "", "")
	workflow := cmd.Flags().String("workflow", "next", "")
	courses := cmd.Flags().StringArray("course", nil, "")
	return cmd, store, workflow, courses
}

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "figures.yaml")
	os.WriteFile(path, []byte("store: sqlite:///from-file.db\nworkflow: legacy\ncourse: [a, b]\n"), 0o644)
	file, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("FIGURES_WORKFLOW", "incremental")

	cmd, store, workflow, courses := newCmd()
	cmd.Flags().Set("store", "sqlite:///from-flag.db")
	if err := config.Apply(cmd, file); err != nil {
		t.Fatal(err)
	}
	if *store != "sqlite:///from-flag.db" {
		t.Errorf("flag must win: store = %q", *store)
	}
	if *workflow != "incremental" {
		t.Errorf("environment must beat the file: workflow = %q", *workflow)
	}
	if len(*courses) != 2 || (*courses)[0] != "a" || (*courses)[1] != "b" {
		t.Errorf("file list: courses = %q", *courses)
	}
}

func TestEnvList(t *testing.T) {
	t.Setenv("FIGURES_COURSE", "course-v1:A+B+C, course-v1:D+E+F")
	cmd, _, _, courses := newCmd()
	if err := config.Apply(cmd, config.File{}); err != nil {
		t.Fatal(err)
	}
	if len(*courses) != 2 || (*courses)[1] != "course-v1:D+E+F" {
		t.Errorf("courses = %q", *courses)
	}
}

func TestBadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(path, []byte("store: [unclosed"), 0o644)
	if _, err := config.Load(path); err == nil {
		t.Fatal("want an error for malformed YAML")
	}
	if _, err := config.Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Fatal("want an error for a missing file")
	}
}
