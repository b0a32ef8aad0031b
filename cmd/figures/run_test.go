package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/demo"
	"github.com/figures-analytics/figures/internal/store"
)

func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

// run, compare and backfill answer with the documented exit statuses, on
// the demo's data.
func TestRunCompareBackfillExitStatus(t *testing.T) {
	res, err := demo.Build(context.Background(), demo.Options{Dir: t.TempDir(), Days: 10})
	if err != nil {
		t.Fatal(err)
	}
	end := res.Synth.EndDate
	out, err := runCmd(t, "run", "--lms", res.LMSURL, "--store", res.StoreURL, "--date", end)
	if exitCode(err) != 0 || !strings.Contains(out, "next run for "+end) {
		t.Errorf("run: exit %d (%v)\n%s", exitCode(err), err, out)
	}
	out, err = runCmd(t, "compare", "--lms", res.LMSURL, "--store", res.StoreURL, "--date", end)
	if exitCode(err) != 0 || !strings.Contains(out, "identical") || !strings.Contains(out, "LMS SQL statements") {
		t.Errorf("compare: exit %d (%v)\n%s", exitCode(err), err, out)
	}
	// A store without outlines: every course with activity fails, the run
	// completes: exit 3.
	empty := "sqlite:///" + filepath.Join(t.TempDir(), "empty.db")
	out, err = runCmd(t, "run", "--lms", res.LMSURL, "--store", empty, "--date", end)
	if exitCode(err) != 3 || !strings.Contains(err.Error(), "figures_pipelineerror") {
		t.Errorf("run without outlines: exit %d (%v)\n%s", exitCode(err), err, out)
	}
	st, err := store.Open(context.Background(), empty)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := st.Runs(context.Background(), 1)
	st.Close()
	if err != nil || len(runs) != 1 || runs[0].Status != store.RunPartial || runs[0].Errors == 0 {
		t.Errorf("recorded run: %+v, %v", runs, err)
	}
	// The run itself fails: exit 1.
	if _, err := runCmd(t, "run", "--lms", "sqlite:///"+filepath.Join(t.TempDir(), "none.db"), "--store", empty); exitCode(err) != 1 {
		t.Errorf("run on a missing LMS: exit %d (%v)", exitCode(err), err)
	}
	out, err = runCmd(t, "backfill", "--lms", res.LMSURL, "--store", res.StoreURL, "--from", end, "--to", end)
	if exitCode(err) != 0 || !strings.Contains(out, "cannot be reconstructed") || !strings.Contains(out, "1 days") {
		t.Errorf("backfill: exit %d (%v)\n%s", exitCode(err), err, out)
	}
	if _, err := runCmd(t, "backfill", "--lms", res.LMSURL, "--store", res.StoreURL, "--from", "2026-13-01", "--to", end); exitCode(err) != 1 {
		t.Errorf("backfill with a bad date: exit %d", exitCode(err))
	}
}

// Every pipeline command works on a MariaDB and a PostgreSQL store: run
// with each workflow, backfill and compare exit 0 and record their runs.
func TestPipelineCommandsOnServerStores(t *testing.T) {
	res, err := demo.Build(context.Background(), demo.Options{Dir: t.TempDir(), Days: 3})
	if err != nil {
		t.Fatal(err)
	}
	end := res.Synth.EndDate
	for _, k := range []dbtest.Kind{dbtest.MariaDBKind, dbtest.PostgresKind} {
		t.Run(k.Name, func(t *testing.T) {
			url := k.URL(t)
			for _, c := range res.Synth.Courses {
				if out, err := runCmd(t, "course", "import", c.OLX, "--store", url, "--course-id", c.ID); err != nil {
					t.Fatalf("course import %s: %v\n%s", c.ID, err, out)
				}
			}
			for _, wf := range []string{"next", "legacy", "incremental"} {
				out, err := runCmd(t, "run", "--lms", res.LMSURL, "--store", url, "--date", end, "--workflow", wf)
				if exitCode(err) != 0 || !strings.Contains(out, wf+" run for ") {
					t.Errorf("run --workflow %s: exit %d (%v)\n%s", wf, exitCode(err), err, out)
				}
			}
			out, err := runCmd(t, "backfill", "--lms", res.LMSURL, "--store", url, "--from", end, "--to", end)
			if exitCode(err) != 0 || !strings.Contains(out, "1 days") {
				t.Errorf("backfill: exit %d (%v)\n%s", exitCode(err), err, out)
			}
			out, err = runCmd(t, "compare", "--lms", res.LMSURL, "--store", url, "--date", end)
			if exitCode(err) != 0 || !strings.Contains(out, "identical") {
				t.Errorf("compare: exit %d (%v)\n%s", exitCode(err), err, out)
			}
			st, err := store.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			runs, err := st.Runs(context.Background(), 10)
			if err != nil || len(runs) < 4 {
				t.Fatalf("recorded runs %+v, %v", runs, err)
			}
			for _, r := range runs {
				if r.Status != store.RunOK {
					t.Errorf("run %d (%s %s): %s %q", r.ID, r.Kind, r.Workflow, r.Status, r.Message)
				}
			}
		})
	}
}
