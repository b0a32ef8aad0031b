package pipeline_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/lms"
	. "github.com/figures-analytics/figures/internal/lms/lmstest"
	"github.com/figures-analytics/figures/internal/pipeline"
	"github.com/figures-analytics/figures/internal/progress"
	"github.com/figures-analytics/figures/internal/store"
)

// inProcess is a Distributor whose workers are RunTask calls in this
// process, each task going through JSON as it would through a queue. Tasks
// whose index is in fail fail as a whole, as a task does whose retries are
// exhausted.
type inProcess struct {
	url   string
	st    *store.Store
	fail  map[int]bool
	tasks []pipeline.Task
}

func (p *inProcess) Distribute(ctx context.Context, tasks []pipeline.Task) ([]pipeline.TaskResult, error) {
	r, err := lms.Open(ctx, p.url)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	out := make([]pipeline.TaskResult, len(tasks))
	for i, t := range tasks {
		b, err := json.Marshal(t)
		if err != nil {
			return nil, err
		}
		var got pipeline.Task
		if err := json.Unmarshal(b, &got); err != nil {
			return nil, err
		}
		p.tasks = append(p.tasks, got)
		if p.fail[i] {
			out[i].Err = "worker lost"
			continue
		}
		if out[i], err = pipeline.RunTask(ctx, r, p.st, got, quiet); err != nil {
			out[i].Err = err.Error()
		}
	}
	return out, nil
}

// A run whose enrollment stage is distributed writes exactly what a run in
// one process writes, for every workflow, with its counts; tasks hold at
// most TaskSize enrollments and carry the run's id, day and settings.
func TestDistributedRun(t *testing.T) { dbtest.EachBackend(t, testDistributedRun) }

func testDistributedRun(t *testing.T, b dbtest.Backend) {
	ctx := context.Background()
	for _, wf := range []pipeline.Workflow{pipeline.Next, pipeline.Legacy, pipeline.Incremental} {
		t.Run(string(wf), func(t *testing.T) {
			local := standalone(t, b)
			dist := newFixture(t, local.lms, local.backend)
			mark := At("2026-11-20 00:00:00")
			for _, f := range []*fixture{local, dist} {
				if err := f.store.SetWatermarks(ctx, map[string]time.Time{pipeline.WatermarkStudentModule: mark, pipeline.WatermarkGrades: mark}); err != nil {
					t.Fatal(err)
				}
			}
			cfg := pipeline.Config{Workflow: wf, Grades: progress.StudentModule}
			lrep := local.run(t, cfg)
			workers := &inProcess{url: dist.url, st: dist.store}
			cfg.Distributor, cfg.TaskSize = workers, 2
			drep := dist.run(t, cfg)
			if got, want := snapshot(t, dist.store), snapshot(t, local.store); got != want {
				t.Errorf("distributed run wrote\n%s\nin one process\n%s", got, want)
			}
			if drep.EnrollmentsExamined != lrep.EnrollmentsExamined || drep.EnrollmentsUpdated != lrep.EnrollmentsUpdated ||
				drep.Errors != lrep.Errors || drep.Status() != lrep.Status() {
				t.Errorf("distributed: examined %d, updated %d, errors %d, %s; in one process %d, %d, %d, %s",
					drep.EnrollmentsExamined, drep.EnrollmentsUpdated, drep.Errors, drep.Status(),
					lrep.EnrollmentsExamined, lrep.EnrollmentsUpdated, lrep.Errors, lrep.Status())
			}
			if len(workers.tasks) < 2 {
				t.Fatalf("%d tasks: the work was not split", len(workers.tasks))
			}
			for i, task := range workers.tasks {
				if task.RunID != drep.RunID || task.Workflow != wf || task.Grades != progress.StudentModule || len(task.Courses) == 0 {
					t.Errorf("task %d: %+v", i, task)
				}
				if wf == pipeline.Legacy && (len(task.Courses) != 1 || len(task.Enrollments) != 0) {
					t.Errorf("legacy task %d is not one course: %+v", i, task)
				}
				if wf != pipeline.Legacy && (len(task.Enrollments) == 0 || len(task.Enrollments) > 2) {
					t.Errorf("task %d holds %d enrollments, want 1 or 2", i, len(task.Enrollments))
				}
			}
		})
	}
}

// A task that fails as a whole fails its courses, recorded under the run,
// and the run is partial; the other tasks' enrollments are written.
func TestDistributedTaskFailure(t *testing.T) { dbtest.EachBackend(t, testDistributedTaskFailure) }

func testDistributedTaskFailure(t *testing.T, b dbtest.Backend) {
	ctx := context.Background()
	f := standalone(t, b)
	workers := &inProcess{url: f.url, st: f.store, fail: map[int]bool{0: true}}
	rep := f.run(t, pipeline.Config{Workflow: pipeline.Next, Grades: progress.StudentModule, Distributor: workers, TaskSize: 3})
	if rep.Status() != store.RunPartial {
		t.Errorf("status %s, want partial", rep.Status())
	}
	lost := map[string]bool{}
	for _, e := range workers.tasks[0].Enrollments {
		lost[e.CourseID+"/"+string(rune('0'+e.UserID))] = true
	}
	rows := edRows(t, f.store)
	for _, r := range rows {
		if lost[r.course+"/"+string(rune('0'+r.user))] {
			t.Errorf("enrollment of the failed task written: %+v", r)
		}
	}
	if len(rows) == 0 {
		t.Error("the other tasks wrote nothing")
	}
	errs, err := f.store.ErrorsOfRun(ctx, rep.RunID)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range errs {
		if e.CourseID == workers.tasks[0].Courses[0] && strings.Contains(e.Data["error"].(string), "worker task failed: worker lost") {
			found = true
		}
	}
	if !found {
		t.Errorf("no course error for the failed task among %+v", errs)
	}
}
