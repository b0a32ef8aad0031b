package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/demo"
)

// run --redis hands the enrollment stage to a figures worker and finishes
// with the same report as a run in one process; a worker without its
// settings, or a Redis that does not answer, is an error saying so.
func TestRunWithWorker(t *testing.T) {
	redisURL := dbtest.RedisURL(t)
	res, err := demo.Build(context.Background(), demo.Options{Dir: t.TempDir(), Days: 5})
	if err != nil {
		t.Fatal(err)
	}
	end := res.Synth.EndDate
	q := fmt.Sprintf("figures-cmd-test-%d", time.Now().UnixNano())
	t.Cleanup(func() {
		if opt, err := asynq.ParseRedisURI(redisURL); err == nil {
			insp := asynq.NewInspector(opt)
			insp.DeleteQueue(q, true)
			insp.Close()
		}
	})

	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var wout bytes.Buffer
	go func() {
		root := newRoot()
		root.SetOut(&wout)
		root.SetErr(&wout)
		root.SetArgs([]string{"worker", "--redis", redisURL, "--queue", q, "--lms", res.LMSURL, "--store", res.StoreURL})
		done <- root.ExecuteContext(ctx)
	}()
	out, err := runCmd(t, "run", "--lms", res.LMSURL, "--store", res.StoreURL, "--date", end, "--redis", redisURL, "--queue", q, "--task-size", "10")
	stop()
	if werr := <-done; werr != nil {
		t.Errorf("worker: %v\n%s", werr, wout.String())
	}
	if exitCode(err) != 0 || !strings.Contains(out, "next run for "+end) || strings.Contains(out, " 0 updated") {
		t.Errorf("run --redis: exit %d (%v)\n%s", exitCode(err), err, out)
	}
	local, err := runCmd(t, "run", "--lms", res.LMSURL, "--store", res.StoreURL, "--date", end)
	// The counts, not the timings, must agree.
	counts := func(s string) string {
		i := strings.Index(s, "next run for")
		j := strings.Index(s[i:], " errors")
		return s[i : i+j]
	}
	if err != nil || counts(local) != counts(out) {
		t.Errorf("in one process %q, distributed %q (%v)", counts(local), counts(out), err)
	}

	if _, err := runCmd(t, "run", "--lms", res.LMSURL, "--store", res.StoreURL, "--date", end, "--task-size", "0"); err == nil || !strings.Contains(err.Error(), "--task-size 0: want at least 1") {
		t.Errorf("run --task-size 0: %v", err)
	}
	if _, err := runCmd(t, "worker", "--lms", res.LMSURL, "--store", res.StoreURL); err == nil || !strings.Contains(err.Error(), "--redis, --lms and --store are required") {
		t.Errorf("worker without --redis: %v", err)
	}
	if _, err := runCmd(t, "run", "--lms", res.LMSURL, "--store", res.StoreURL, "--date", end, "--redis", "redis://127.0.0.1:1/0"); exitCode(err) != 1 || !strings.Contains(err.Error(), "does not answer") {
		t.Errorf("run with an unreachable Redis: exit %d (%v)", exitCode(err), err)
	}
}

// serve --schedule --redis checks Redis when it starts, not at its first
// run hours later.
func TestScheduleWithRedis(t *testing.T) {
	redisURL := dbtest.RedisURL(t)
	o := serveOptions{schedule: "daily@02:00", lmsURL: "sqlite:///unused.db", storeURL: "sqlite:///unused.db",
		workflow: "next", grades: "persisted", redisURL: "redis://127.0.0.1:1/0", queue: "figures"}
	if _, _, err := startScheduler(context.Background(), o); err == nil || !strings.Contains(err.Error(), "--redis: queue: Redis redis://127.0.0.1:1/0 does not answer") {
		t.Errorf("unreachable Redis: %v", err)
	}
	o.redisURL = redisURL
	info, stop, err := startScheduler(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if spec, _, running := info(); spec != "daily@02:00" || running {
		t.Errorf("schedule %q, running %v", spec, running)
	}
}
