package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/lms"
	"github.com/figures-analytics/figures/internal/progress"
	"github.com/figures-analytics/figures/internal/store"
)

// Task is one share of a run's enrollment stage, handed to a worker by a
// Distributor and run there with RunTask. Everything a worker needs is in
// it: the worker reads the LMS and writes the store the coordinating run
// uses, but never repeats the run's own reads (its scan of the day's
// activity), so the work is split, not multiplied.
type Task struct {
	// RunID is the coordinating run's id: the worker's pipeline errors are
	// recorded under it.
	RunID    int             `json:"run_id"`
	Date     calendar.Date   `json:"date"`
	Workflow Workflow        `json:"workflow"`
	Grades   progress.Source `json:"grades"`
	// DefaultSite is the run's Config.DefaultSite, so that the worker
	// assigns courses to the same sites.
	DefaultSite int `json:"default_site"`
	// Courses are the task's courses: for legacy, the courses it sweeps;
	// for next and incremental, the courses of Enrollments.
	Courses []string `json:"courses"`
	// Enrollments are, for next and incremental, the enrollments to
	// recompute, each with the day its snapshot is labelled with and why
	// it was selected.
	Enrollments []TaskEnrollment `json:"enrollments,omitempty"`
	// AsOf is the time the run judges learners' structures at, so that
	// every worker applies the same release dates.
	AsOf time.Time `json:"as_of,omitempty"`
}

// TaskEnrollment is one enrollment of a Task.
type TaskEnrollment struct {
	CourseID string        `json:"course_id"`
	UserID   int           `json:"user_id"`
	Day      calendar.Date `json:"day"`
	Reason   string        `json:"reason"`
}

// TaskResult is what a task did. Err is set when the task failed as a
// whole (after the Distributor's retries): its courses are then recorded
// as failed by the coordinating run.
type TaskResult struct {
	Examined int `json:"examined"`
	Updated  int `json:"updated"`
	Errors   int `json:"errors"`
	// Estimated counts the updated enrollments whose values are estimates.
	Estimated int    `json:"estimated,omitempty"`
	Err       string `json:"err,omitempty"`
}

// A Distributor runs a run's tasks elsewhere (on workers) and waits for
// all of them: results[i] is tasks[i]'s. An error means the tasks' outcome
// is unknown (the queue is unreachable, ctx ended); a task that failed is
// a result with Err set.
type Distributor interface {
	Distribute(ctx context.Context, tasks []Task) ([]TaskResult, error)
}

// DefaultTaskSize is how many enrollments a next or incremental task holds
// at most when Config.TaskSize is 0: about a second of a worker's time, so
// that a day's few thousand enrollments spread over several workers while
// each task's fixed cost (the scope, the outlines) stays small.
const DefaultTaskSize = 2000

// distributeWork splits w into tasks of at most TaskSize enrollments, in
// course order (a course's learners may span tasks), and runs them on the
// Distributor.
func (rn *runner) distributeWork(ctx context.Context, w work) error {
	courses := make([]string, 0, len(w))
	for c := range w {
		courses = append(courses, c)
	}
	sort.Strings(courses)
	size := rn.cfg.TaskSize
	if size <= 0 {
		size = DefaultTaskSize
	}
	var tasks []Task
	cur := rn.newTask()
	for _, c := range courses {
		users := make([]int, 0, len(w[c]))
		for u := range w[c] {
			users = append(users, u)
		}
		sort.Ints(users)
		for _, u := range users {
			if len(cur.Enrollments) == size {
				tasks = append(tasks, cur)
				cur = rn.newTask()
			}
			if n := len(cur.Courses); n == 0 || cur.Courses[n-1] != c {
				cur.Courses = append(cur.Courses, c)
			}
			lb := w[c][u]
			cur.Enrollments = append(cur.Enrollments, TaskEnrollment{CourseID: c, UserID: u, Day: lb.day, Reason: lb.reason})
		}
	}
	if len(cur.Enrollments) > 0 {
		tasks = append(tasks, cur)
	}
	return rn.distribute(ctx, tasks)
}

// distributeLegacy runs the legacy sweep as one task per course: the
// sweep's cost is the course's enrollments times their history, which
// only the worker reads.
func (rn *runner) distributeLegacy(ctx context.Context) error {
	var tasks []Task
	for _, c := range rn.scope.CourseIDs() {
		t := rn.newTask()
		t.Courses = []string{c}
		tasks = append(tasks, t)
	}
	return rn.distribute(ctx, tasks)
}

func (rn *runner) newTask() Task {
	return Task{RunID: rn.runID, Date: rn.rep.Date, Workflow: rn.cfg.Workflow, Grades: rn.cfg.Grades, DefaultSite: rn.cfg.DefaultSite, AsOf: rn.asOf}
}

func (rn *runner) distribute(ctx context.Context, tasks []Task) error {
	if len(tasks) == 0 {
		return nil
	}
	rn.cfg.Log.Info("distributing the enrollment stage", "tasks", len(tasks))
	results, err := rn.cfg.Distributor.Distribute(ctx, tasks)
	if err != nil {
		return fmt.Errorf("distribute %d tasks: %w", len(tasks), err)
	}
	if len(results) != len(tasks) {
		return fmt.Errorf("distribute: %d results for %d tasks", len(results), len(tasks))
	}
	for i, r := range results {
		rn.rep.EnrollmentsExamined += r.Examined
		rn.rep.EnrollmentsUpdated += r.Updated
		rn.rep.Estimated += r.Estimated
		rn.rep.Errors += r.Errors
		if r.Err != "" {
			for _, c := range tasks[i].Courses {
				rn.recordError(ctx, store.PipelineError{ErrorType: store.ErrorCourse, CourseID: c,
					Data: map[string]any{"stage": "enrollments", "task": i, "enrollments": len(tasks[i].Enrollments)}}, errors.New("worker task failed: "+r.Err))
			}
		}
	}
	rn.cfg.Progress("enrollments", len(tasks), len(tasks))
	return nil
}

// RunTask runs a Task on a worker: the scope of its courses, their
// outlines from the store, then the recomputation of its enrollments (or,
// for legacy, the sweep of its courses), written to st. Failing courses
// and enrollments are recorded under the coordinating run and counted in
// the result; an error means the task could not run at all (the LMS or
// the store unreachable, a course gone from the LMS) and may be retried.
func RunTask(ctx context.Context, r *lms.Reader, st *store.Store, t Task, log *slog.Logger) (TaskResult, error) {
	wf, err := ParseWorkflow(string(t.Workflow))
	if err != nil {
		return TaskResult{}, err
	}
	if t.Date.IsZero() {
		return TaskResult{}, errors.New("task without a date")
	}
	if len(t.Courses) == 0 {
		return TaskResult{}, errors.New("task without courses")
	}
	cfg := Config{Workflow: wf, Grades: t.Grades, Date: t.Date, Courses: t.Courses, DefaultSite: t.DefaultSite,
		EnrollmentsOnly: true, Log: log, AsOf: t.AsOf}
	cfg.setDefaults()
	rn := &runner{lms: r, st: st, cfg: cfg, runID: t.RunID,
		rep: &Report{Workflow: wf, Date: t.Date, Stages: map[string]time.Duration{}}}
	ctx, aborted := rn.abortable(ctx)
	defer rn.abort(nil)
	if rn.scope, _, _, _, err = resolveScope(ctx, r, st, &rn.cfg); err != nil {
		return TaskResult{}, err
	}
	if err := rn.scope.waitOutlines(ctx); err != nil {
		return TaskResult{}, err
	}
	if wf == Legacy {
		err = rn.legacy(ctx, t.Date)
	} else {
		w := work{}
		for _, e := range t.Enrollments {
			if w[e.CourseID] == nil {
				w[e.CourseID] = map[int]label{}
			}
			w[e.CourseID][e.UserID] = label{day: e.Day, reason: e.Reason}
		}
		err = rn.recomputeHere(ctx, w)
	}
	if a := aborted(); a != nil {
		err = a
	}
	res := TaskResult{Examined: rn.rep.EnrollmentsExamined, Updated: rn.rep.EnrollmentsUpdated, Errors: rn.rep.Errors, Estimated: rn.rep.Estimated}
	return res, err
}
