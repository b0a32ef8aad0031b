package queue_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/lms"
	"github.com/figures-analytics/figures/internal/pipeline"
	"github.com/figures-analytics/figures/internal/queue"
	"github.com/figures-analytics/figures/internal/store"
	"github.com/figures-analytics/figures/internal/store/storetest"
	"github.com/figures-analytics/figures/internal/synth"
	"github.com/figures-analytics/figures/internal/synth/synthtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// testQueue returns a queue name of its own for the test, deleted after it.
func testQueue(t *testing.T, url string) string {
	name := fmt.Sprintf("figures-test-%d", time.Now().UnixNano())
	t.Cleanup(func() {
		opt, err := asynq.ParseRedisURI(url)
		if err != nil {
			return
		}
		insp := asynq.NewInspector(opt)
		defer insp.Close()
		insp.DeleteQueue(name, true)
	})
	return name
}

// installation is a small synthetic LMS and a store per name, each holding
// the courses' outlines, in b's databases.
func installation(t *testing.T, b dbtest.Backend, end calendar.Date, stores ...string) (string, map[string]*store.Store) {
	ctx := context.Background()
	lmsURL := b.LMS.URL(t)
	sum := synthtest.Seed(t, lmsURL, synth.Options{Scale: synth.Small, Seed: 3, EndDate: end, Days: 20})
	out := map[string]*store.Store{}
	for _, name := range stores {
		st, err := store.Open(ctx, storetest.URL(t, b.Store))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		synthtest.ImportOutlines(t, st, sum)
		out[name] = st
	}
	return lmsURL, out
}

// rows renders the per-enrollment and daily tables without the columns a
// re-run may change (ids, timestamps, collect_elapsed).
func rows(t *testing.T, st *store.Store) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT site_id, user_id, course_id, date_for, is_enrolled, is_completed, progress_percent, points_possible, points_earned, sections_worked, sections_possible FROM figures_enrollmentdata ORDER BY 1, 2, 3`,
		`SELECT site_id, user_id, course_id, date_for, points_possible, points_earned, sections_worked, sections_possible FROM figures_learnercoursegrademetrics ORDER BY 1, 2, 3, 4`,
		`SELECT site_id, course_id, date_for, enrollment_count, active_learners_today, average_progress, num_learners_completed FROM figures_coursedailymetrics ORDER BY 1, 2, 3`,
	} {
		b.WriteString(dbtest.Dump(t, st.DB(), q))
		b.WriteString("--\n")
	}
	return b.String()
}

// A run distributed through Redis to two workers writes what a run in
// one process writes, on every store.
func TestDistributedThroughRedis(t *testing.T) {
	redisURL := dbtest.RedisURL(t)
	dbtest.EachBackend(t, func(t *testing.T, b dbtest.Backend) { testDistributedThroughRedis(t, redisURL, b) })
}

func testDistributedThroughRedis(t *testing.T, redisURL string, b dbtest.Backend) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	end := calendar.MustParse("2026-10-31")
	lmsURL, stores := installation(t, b, end, "local", "distributed")
	r, err := lms.Open(ctx, lmsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	now := func() time.Time { return end.End().Add(time.Hour) }
	for _, wf := range []pipeline.Workflow{pipeline.Next, pipeline.Legacy} {
		local, err := pipeline.Run(ctx, r, stores["local"], pipeline.Config{Workflow: wf, Date: end, Now: now, Log: quiet})
		if err != nil {
			t.Fatal(err)
		}
		q := testQueue(t, redisURL)
		wctx, stop := context.WithCancel(ctx)
		done := make(chan error, 2)
		for range 2 {
			w, err := queue.NewWorker(redisURL, r, stores["distributed"], queue.WorkerOptions{Queue: q, Log: quiet})
			if err != nil {
				t.Fatal(err)
			}
			go func() { done <- w.Run(wctx) }()
		}
		d, err := queue.NewDispatcher(redisURL, queue.DispatcherOptions{Queue: q, MaxRetry: -1, Poll: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		dist, err := pipeline.Run(ctx, r, stores["distributed"], pipeline.Config{Workflow: wf, Date: end, Now: now, Log: quiet,
			Distributor: d, TaskSize: 25})
		d.Close()
		stop()
		for range 2 {
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		if local.EnrollmentsUpdated == 0 {
			t.Fatalf("%s: the day updated no enrollment; the test shows nothing", wf)
		}
		if dist.EnrollmentsExamined != local.EnrollmentsExamined || dist.EnrollmentsUpdated != local.EnrollmentsUpdated || dist.Errors != local.Errors {
			t.Errorf("%s distributed: examined %d, updated %d, errors %d; in one process %d, %d, %d", wf,
				dist.EnrollmentsExamined, dist.EnrollmentsUpdated, dist.Errors, local.EnrollmentsExamined, local.EnrollmentsUpdated, local.Errors)
		}
		if got, want := rows(t, stores["distributed"]), rows(t, stores["local"]); got != want {
			t.Errorf("%s: distributed run wrote\n%s\nin one process\n%s", wf, got, want)
		}
	}
}

// A task that cannot run fails, after its retries, with the worker's
// error as its result; a Redis that does not answer or a malformed URL is
// an error naming it.
func TestFailures(t *testing.T) {
	redisURL := dbtest.RedisURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	end := calendar.MustParse("2026-10-31")
	lmsURL, stores := installation(t, dbtest.Backends()[0], end, "store")
	r, err := lms.Open(ctx, lmsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	q := testQueue(t, redisURL)
	w, err := queue.NewWorker(redisURL, r, stores["store"], queue.WorkerOptions{Queue: q, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	go w.Run(wctx)
	d, err := queue.NewDispatcher(redisURL, queue.DispatcherOptions{Queue: q, MaxRetry: -1, Poll: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	res, err := d.Distribute(ctx, []pipeline.Task{
		{Date: end, Workflow: pipeline.Next, Courses: []string{"course-v1:No+Such+Course"},
			Enrollments: []pipeline.TaskEnrollment{{CourseID: "course-v1:No+Such+Course", UserID: 1, Day: end}}},
		{Date: end, Workflow: "sideways", Courses: []string{"course-v1:No+Such+Course"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || !strings.Contains(res[0].Err, "course-v1:No+Such+Course: not in the LMS") ||
		!strings.Contains(res[1].Err, `unknown workflow "sideways"`) {
		t.Errorf("results %+v", res)
	}

	if _, err := queue.NewDispatcher("redis://127.0.0.1:1/0", queue.DispatcherOptions{}); err == nil ||
		!strings.Contains(err.Error(), "Redis redis://127.0.0.1:1/0 does not answer") {
		t.Errorf("unreachable Redis: %v", err)
	}
	if _, err := queue.NewDispatcher("http://x", queue.DispatcherOptions{}); err == nil || !strings.Contains(err.Error(), `Redis URL "http://x"`) {
		t.Errorf("malformed URL: %v", err)
	}
}
