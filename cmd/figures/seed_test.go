package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/synth"
)

func runSeedCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"seed"}, args...))
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestSeedSQLite(t *testing.T) {
	dir := t.TempDir()
	url := "sqlite:///" + filepath.Join(dir, "lms", "lms.db")
	out, err := runSeedCmd(t, "--lms", url, "--end-date", "2025-03-31", "--days", "20", "--seed", "3", "--shared-data", filepath.Join(dir, "none"))
	if err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	for _, want := range []string{"scale small, seed 3, 20 days ending 2025-03-31", "courseware_studentmodule", "not found"} {
		if !strings.Contains(out, want) {
			t.Errorf("the summary lacks %q:\n%s", want, out)
		}
	}
	// The OLX exports default to olx/ beside the SQLite file.
	if _, err := os.Stat(filepath.Join(dir, "lms", "olx", "manifest.json")); err != nil {
		t.Errorf("OLX manifest: %v", err)
	}
	db, err := database.Open(context.Background(), url, database.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := synth.Recorded(context.Background(), db)
	db.Close()
	if err != nil || rec == nil || rec.Seed != 3 || rec.Days != 20 || rec.EndDate != "2025-03-31" {
		t.Fatalf("recorded dataset %+v, %v", rec, err)
	}

	// A second run is refused until --reset.
	if _, err := runSeedCmd(t, "--lms", url, "--end-date", "2025-03-31"); !errors.Is(err, synth.ErrNotEmpty) {
		t.Errorf("second seed without --reset: %v", err)
	}
	if out, err := runSeedCmd(t, "--lms", url, "--end-date", "2025-03-31", "--days", "10", "--reset"); err != nil {
		t.Errorf("seed --reset: %v\n%s", err, out)
	}
}

func TestSeedRejectsBadFlags(t *testing.T) {
	t.Setenv("FIGURES_LMS", "") // an empty variable is ignored, as if unset
	url := "sqlite:///" + filepath.Join(t.TempDir(), "lms.db")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{}, "--lms is required"},
		{[]string{"--lms", url, "--scale", "huge"}, "--scale"},
		{[]string{"--lms", url, "--end-date", "31/03/2025"}, "--end-date"},
		{[]string{"--lms", url, "--history-factor", "0.5"}, "history factor"},
	} {
		if _, err := runSeedCmd(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("seed %v: got %v, want an error about %s", tc.args, err, tc.want)
		}
	}
}
