// Package queue spreads a pipeline run's enrollment stage over worker
// processes through Redis, with asynq (DESIGN.md §7): every Open edX
// install already runs Redis. A run given a Dispatcher as its
// pipeline.Distributor enqueues its tasks and waits for them; "figures
// worker" processes run them with pipeline.RunTask against the same LMS
// and store, and hand back what they did as the task's result.
//
// Only the enrollment stage is distributed: it is the part whose cost
// grows with the day's activity (and, for legacy, with the whole
// installation). The run's scope, directory mirror, activity scan and
// aggregates stay in the coordinating process, so no read is repeated per
// task.
package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/figures-analytics/figures/internal/lms"
	"github.com/figures-analytics/figures/internal/pipeline"
	"github.com/figures-analytics/figures/internal/store"
)

// TaskType is the asynq task type of a pipeline.Task.
const TaskType = "figures:enrollments"

// DefaultQueue is the Redis queue tasks go through when none is named.
const DefaultQueue = "figures"

// retention keeps a finished task, and its result, long enough for the
// dispatcher to read it however slowly it polls.
const retention = 24 * time.Hour

func redisOpt(url string) (asynq.RedisConnOpt, error) {
	opt, err := asynq.ParseRedisURI(url)
	if err != nil {
		return nil, fmt.Errorf("queue: Redis URL %q: %w (want redis://[:password@]host:port[/db])", url, err)
	}
	return opt, nil
}

// DispatcherOptions tune a Dispatcher; the zero value is usable.
type DispatcherOptions struct {
	// Queue is the Redis queue (default DefaultQueue); workers must serve
	// the same one.
	Queue string
	// MaxRetry is how often a failed task is retried, with asynq's
	// backoff, before it counts as failed (default 2; negative: never).
	MaxRetry int
	// TaskTimeout bounds one attempt of a task (default 1 hour).
	TaskTimeout time.Duration
	// Poll is how often the tasks' states are read (default 200 ms).
	Poll time.Duration
}

// Dispatcher is a pipeline.Distributor over Redis.
type Dispatcher struct {
	url    string
	client *asynq.Client
	insp   *asynq.Inspector
	opt    DispatcherOptions
}

// NewDispatcher connects to the Redis at url (redis://host:port/db) and
// checks that it answers.
func NewDispatcher(url string, opt DispatcherOptions) (*Dispatcher, error) {
	conn, err := redisOpt(url)
	if err != nil {
		return nil, err
	}
	if opt.Queue == "" {
		opt.Queue = DefaultQueue
	}
	if opt.MaxRetry == 0 {
		opt.MaxRetry = 2
	} else if opt.MaxRetry < 0 {
		opt.MaxRetry = 0
	}
	if opt.TaskTimeout <= 0 {
		opt.TaskTimeout = time.Hour
	}
	if opt.Poll <= 0 {
		opt.Poll = 200 * time.Millisecond
	}
	d := &Dispatcher{url: url, client: asynq.NewClient(conn), insp: asynq.NewInspector(conn), opt: opt}
	if err := d.client.Ping(); err != nil {
		d.Close()
		return nil, fmt.Errorf("queue: Redis %s does not answer: %w", url, err)
	}
	return d, nil
}

// Close closes the dispatcher's Redis connections.
func (d *Dispatcher) Close() error {
	return errors.Join(d.client.Close(), d.insp.Close())
}

// Distribute implements pipeline.Distributor: it enqueues the tasks, then
// polls their states until every one has completed (its result read) or
// failed for good (its last error). When ctx ends first, the tasks not yet
// finished are withdrawn from the queue (or, when running, asked to stop)
// and ctx's error is returned.
func (d *Dispatcher) Distribute(ctx context.Context, tasks []pipeline.Task) ([]pipeline.TaskResult, error) {
	ids := make([]string, len(tasks))
	for i, t := range tasks {
		payload, err := json.Marshal(t)
		if err != nil {
			return nil, fmt.Errorf("queue: task %d: %w", i, err)
		}
		info, err := d.client.EnqueueContext(ctx, asynq.NewTask(TaskType, payload), asynq.Queue(d.opt.Queue),
			asynq.MaxRetry(d.opt.MaxRetry), asynq.Timeout(d.opt.TaskTimeout), asynq.Retention(retention))
		if err != nil {
			d.withdraw(ids[:i])
			return nil, fmt.Errorf("queue %s on %s: enqueue task %d of %d: %w", d.opt.Queue, d.url, i+1, len(tasks), err)
		}
		ids[i] = info.ID
	}
	results := make([]pipeline.TaskResult, len(tasks))
	pending := map[int]bool{}
	for i := range ids {
		pending[i] = true
	}
	tick := time.NewTicker(d.opt.Poll)
	defer tick.Stop()
	for len(pending) > 0 {
		select {
		case <-ctx.Done():
			var left []string
			for i := range pending {
				left = append(left, ids[i])
			}
			d.withdraw(left)
			return nil, ctx.Err()
		case <-tick.C:
		}
		for i := range pending {
			info, err := d.insp.GetTaskInfo(d.opt.Queue, ids[i])
			switch {
			case errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound):
				results[i].Err = "the task disappeared from the queue (deleted by hand?)"
			case err != nil:
				return nil, fmt.Errorf("queue %s on %s: task %s: %w", d.opt.Queue, d.url, ids[i], err)
			case info.State == asynq.TaskStateCompleted:
				if err := json.Unmarshal(info.Result, &results[i]); err != nil {
					results[i] = pipeline.TaskResult{Err: fmt.Sprintf("unreadable result %q: %v", info.Result, err)}
				}
			case info.State == asynq.TaskStateArchived:
				results[i].Err = info.LastErr
			default:
				continue
			}
			delete(pending, i)
		}
	}
	return results, nil
}

// withdraw removes unfinished tasks: queued ones are deleted, running
// ones asked to stop. It is best effort: a task may finish meanwhile.
func (d *Dispatcher) withdraw(ids []string) {
	for _, id := range ids {
		if err := d.insp.DeleteTask(d.opt.Queue, id); err != nil {
			d.insp.CancelProcessing(id)
		}
	}
}

// WorkerOptions tune a Worker; the zero value is usable.
type WorkerOptions struct {
	// Queue is the Redis queue to serve (default DefaultQueue).
	Queue string
	// Concurrency is how many tasks run at once (default 2).
	Concurrency int
	// Log receives the worker's logs (default slog.Default()).
	Log *slog.Logger
}

// Worker runs the tasks of a queue with pipeline.RunTask.
type Worker struct {
	srv *asynq.Server
	lms *lms.Reader
	st  *store.Store
	log *slog.Logger
}

// NewWorker returns a worker serving the queue at url, reading r and
// writing st: the LMS and store of the runs that enqueue its tasks.
func NewWorker(url string, r *lms.Reader, st *store.Store, opt WorkerOptions) (*Worker, error) {
	conn, err := redisOpt(url)
	if err != nil {
		return nil, err
	}
	if opt.Queue == "" {
		opt.Queue = DefaultQueue
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 2
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	w := &Worker{lms: r, st: st, log: opt.Log}
	w.srv = asynq.NewServer(conn, asynq.Config{
		Concurrency:       opt.Concurrency,
		Queues:            map[string]int{opt.Queue: 1},
		TaskCheckInterval: 200 * time.Millisecond,
		Logger:            slogAdapter{opt.Log},
		LogLevel:          asynq.WarnLevel,
		ShutdownTimeout:   30 * time.Second,
	})
	if err := w.srv.Ping(); err != nil {
		return nil, fmt.Errorf("queue: Redis %s does not answer: %w", url, err)
	}
	return w, nil
}

// Run serves tasks until ctx ends, then waits for the running ones (up to
// 30 seconds; a task cut short is run again by another worker).
func (w *Worker) Run(ctx context.Context) error {
	if err := w.srv.Start(asynq.HandlerFunc(w.process)); err != nil {
		return fmt.Errorf("queue: start worker: %w", err)
	}
	<-ctx.Done()
	w.srv.Shutdown()
	return nil
}

// process runs one task and writes its result. A payload that is not a
// task is not retried; a task that cannot run is, by asynq.
func (w *Worker) process(ctx context.Context, t *asynq.Task) error {
	var task pipeline.Task
	if err := json.Unmarshal(t.Payload(), &task); err != nil {
		return fmt.Errorf("malformed task payload: %v: %w", err, asynq.SkipRetry)
	}
	start := time.Now()
	res, err := pipeline.RunTask(ctx, w.lms, w.st, task, w.log)
	if err != nil {
		w.log.Error("task failed", "run", task.RunID, "courses", len(task.Courses), "err", err)
		return err
	}
	w.log.Info("task done", "run", task.RunID, "courses", len(task.Courses), "enrollments", len(task.Enrollments),
		"updated", res.Updated, "errors", res.Errors, "seconds", time.Since(start).Seconds())
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	if _, err := t.ResultWriter().Write(b); err != nil {
		return fmt.Errorf("write the task's result: %w", err)
	}
	return nil
}

// slogAdapter passes asynq's logs to slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...), "component", "asynq") }
func (a slogAdapter) Info(args ...any)  { a.l.Info(fmt.Sprint(args...), "component", "asynq") }
func (a slogAdapter) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...), "component", "asynq") }
func (a slogAdapter) Error(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }

// Fatal is asked of asynq's logger for errors it cannot go on from; the
// worker logs them and leaves the decision to stop to its caller.
func (a slogAdapter) Fatal(args ...any) {
	a.l.Error(fmt.Sprint(args...), "component", "asynq", "fatal", true)
}
