package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/course"
	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/lms/lmstest"
	"github.com/figures-analytics/figures/internal/store"
)

// TestMain doubles as the figures command for tests that need a process
// of their own (to kill it): with FIGURES_TEST_CLI set to arguments
// separated by newlines, the test binary runs them and exits.
func TestMain(m *testing.M) {
	if args := os.Getenv("FIGURES_TEST_CLI"); args != "" {
		root := newRoot()
		root.SetArgs(strings.Split(args, "\n"))
		if err := root.ExecuteContext(context.Background()); err != nil {
			os.Stderr.WriteString("figures: " + err.Error() + "\n")
			os.Exit(exitCode(err))
		}
		os.Exit(0)
	}
	os.Exit(dbtest.Main(m))
}

// smallInstall is a one-course LMS on MariaDB with a learner active on
// the 20th of November 2026, behind a proxy that can stall it, and a
// SQLite store holding the course's outline.
func smallInstall(t *testing.T) (proxy *dbtest.Proxy, lmsURL, storeURL string) {
	l := lmstest.NewOf(t, dbtest.MariaDBKind)
	l.Site(1, "lms.example.com", nil)
	const c = "course-v1:Org+C+R"
	p := "block-v1:Org+C+R+type@problem+block@p"
	l.Course(c, "Org", c)
	l.User(1, "u1", lmstest.At("2026-01-01 00:00:00"), "U One")
	l.Enroll(1, c, lmstest.At("2026-10-01 00:00:00"), true)
	l.Module(1, c, p, 1.0, 1.0, lmstest.At("2026-11-20 10:00:00"), lmstest.At("2026-11-20 10:00:00"))
	storeURL = "sqlite:///" + filepath.Join(t.TempDir(), "store.db")
	st, err := store.Open(context.Background(), storeURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	o := &course.Outline{CourseID: c, Chapters: []course.Chapter{{UsageKey: "block-v1:Org+C+R+type@chapter+block@ch",
		Subsections: []course.Subsection{{UsageKey: "block-v1:Org+C+R+type@sequential+block@s",
			Blocks: []course.Block{{UsageKey: p, Type: "problem", RawPossible: 1}}}}}}}
	o.ComputeVersion()
	if _, err := st.SaveOutline(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	proxy, lmsURL = dbtest.ProxyURL(t, l.URL)
	return proxy, lmsURL, storeURL
}

// run with an LMS that stops answering in the middle of the run exits 1
// within the timeout, saying what timed out, and records the run as
// failed; run with an LMS that does not answer at all says so too.
func TestRunWithStalledLMS(t *testing.T) {
	proxy, lmsURL, storeURL := smallInstall(t)
	proxy.PauseOn("MAX(modified) FROM courseware_studentmodule")
	start := time.Now()
	out, err := runCmd(t, "run", "--lms", lmsURL, "--store", storeURL, "--date", "2026-11-20", "--lms-timeout", "2s")
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "timed out after 2s (--lms-timeout)") {
		t.Errorf("run with a stalled LMS: exit %d (%v)\n%s", exitCode(err), err, out)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("run took %v to give up", took)
	}
	st, err := store.Open(context.Background(), storeURL)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := st.Runs(context.Background(), 1)
	st.Close()
	if err != nil || len(runs) != 1 || runs[0].Status != store.RunFailed || !strings.Contains(runs[0].Message, "--lms-timeout") {
		t.Errorf("recorded run %+v, %v", runs, err)
	}
	// Still paused: the LMS cannot even be opened.
	_, err = runCmd(t, "run", "--lms", lmsURL, "--store", storeURL, "--date", "2026-11-20", "--lms-timeout", "2s")
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "LMS: connect to mysql://") || !strings.Contains(err.Error(), "(--lms-timeout)") {
		t.Errorf("run with an LMS that does not answer: exit %d (%v)", exitCode(err), err)
	}
	proxy.Resume()
	if out, err := runCmd(t, "run", "--lms", lmsURL, "--store", storeURL, "--date", "2026-11-20"); err != nil {
		t.Errorf("run once the LMS answers: %v\n%s", err, out)
	}
}

// A run whose process is killed is marked interrupted — by the next run,
// and by serve, whose /metrics then stops counting it as running.
func TestKilledRunIsInterrupted(t *testing.T) {
	proxy, lmsURL, storeURL := smallInstall(t)
	ctx := context.Background()
	st, err := store.Open(ctx, storeURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	token, _, err := st.CreateAPIToken(ctx, "metrics", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	proxy.PauseOn("MAX(modified) FROM courseware_studentmodule")
	child := exec.Command(os.Args[0])
	child.Env = append(os.Environ(), "FIGURES_TEST_CLI="+strings.Join([]string{"run", "--lms", lmsURL, "--store", storeURL, "--date", "2026-11-20"}, "\n"))
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	running := func() []store.Run {
		runs, err := st.Runs(ctx, 5)
		if err != nil {
			t.Fatal(err)
		}
		return runs
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(running()) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	child.Process.Kill()
	child.Wait()
	if runs := running(); len(runs) != 1 || runs[0].Status != store.RunRunning {
		t.Fatalf("before serve: %+v, want one run left running by the killed process", runs)
	}
	srv, cleanup, err := buildServer(ctx, serveOptions{storeURL: storeURL, addr: "127.0.0.1:0", dbConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	srv.Handler.ServeHTTP(rec, req)
	if rec.Code != 200 || strings.Contains(rec.Body.String(), `figures_pipeline_running{kind="run"} 1`) {
		t.Errorf("/metrics: %d, still counts the killed run as running:\n%s", rec.Code, rec.Body.String())
	}
	runs := running()
	if len(runs) != 1 || runs[0].Status != store.RunInterrupted || !strings.Contains(runs[0].Message, "is gone") {
		t.Errorf("after serve started: %+v, want the run interrupted, its process gone", runs)
	}
}
