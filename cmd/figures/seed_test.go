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

// A newcomer's path: seed an LMS, then run the next steps seed prints,
// as printed, from the folder they are printed for. Every course the LMS
// holds has its export in the folder seed writes (the real demo courses
// included), so the run updates every enrollment it selects.
func TestSeedNextStepsRunAsPrinted(t *testing.T) {
	shared, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "data"))
	if err != nil {
		t.Fatal(err)
	}
	_, statErr := os.Stat(shared)
	t.Chdir(t.TempDir())
	out, err := runSeedCmd(t, "--lms", "sqlite:///lms.db", "--end-date", "2025-03-31", "--days", "20", "--shared-data", shared)
	if err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	_, steps, ok := strings.Cut(out, "next steps (a store in ./figures.db):\n")
	if !ok {
		t.Fatalf("seed printed no next steps:\n%s", out)
	}
	var commands [][]string
	for _, line := range strings.Split(strings.TrimSpace(steps), "\n") {
		args := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), invocation()))
		commands = append(commands, args)
	}
	if len(commands) != 4 || commands[0][0] != "course" || commands[1][0] != "run" || commands[3][0] != "serve" {
		t.Fatalf("next steps %q", commands)
	}
	out, err = runCmd(t, commands[0]...)
	if err != nil {
		t.Fatalf("%q: %v\n%s", commands[0], err, out)
	}
	if statErr == nil {
		for _, id := range []string{"course-v1:OpenedX+DemoX+DemoCourse", "course-v1:edX+DemoX+Demo_Course"} {
			if !strings.Contains(out, id+" version") {
				t.Errorf("the real course %s was not imported from seed's folder:\n%s", id, out)
			}
		}
	}
	out, err = runCmd(t, commands[1]...)
	if err != nil || strings.Contains(out, "no outline") || !strings.Contains(out, " 0 errors") {
		t.Fatalf("%q: %v\n%s", commands[1], err, out)
	}
	if out, err = runCmd(t, commands[2]...); err != nil || !strings.HasPrefix(out, "fgt_") {
		t.Fatalf("%q: %v\n%s", commands[2], err, out)
	}
}

// A run whose courses lack outlines names them and prints the command that
// imports them, runnable as printed.
func TestRunNamesCoursesWithoutOutlines(t *testing.T) {
	t.Chdir(t.TempDir())
	if out, err := runSeedCmd(t, "--lms", "sqlite:///lms.db", "--end-date", "2025-03-31", "--days", "5", "--shared-data", "none"); err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	out, err := runCmd(t, "run", "--lms", "sqlite:///lms.db", "--store", "sqlite:///figures.db", "--date", "2025-03-31")
	if exitCode(err) != 3 {
		t.Fatalf("run: exit %d (%v)\n%s", exitCode(err), err, out)
	}
	want := "courses have no outline in the store, so their learners' progress is not computed: course-v1:"
	_, _, ok := strings.Cut(out, invocation()+" course import PATH --store sqlite:///figures.db\n")
	if !strings.Contains(out, want) || !ok {
		t.Fatalf("run does not name the courses and the command:\n%s", out)
	}
	if out, err := runCmd(t, "course", "import", "olx", "--store", "sqlite:///figures.db"); err != nil {
		t.Fatalf("course import: %v\n%s", err, out)
	}
	out, err = runCmd(t, "run", "--lms", "sqlite:///lms.db", "--store", "sqlite:///figures.db", "--date", "2025-03-31")
	if exitCode(err) != 0 || strings.Contains(out, "no outline") {
		t.Fatalf("run after the import: exit %d (%v)\n%s", exitCode(err), err, out)
	}
}
