package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/figures-analytics/figures/internal/pipeline"
	"github.com/figures-analytics/figures/internal/progress"
	"github.com/figures-analytics/figures/internal/queue"
)

// startScheduler runs the pipeline in the serving process on o.schedule, as
// the original's Celery beat entry did, and returns what the API reports of
// it and a function that stops it.
func startScheduler(ctx context.Context, o serveOptions) (func() (string, time.Time, bool), func(), error) {
	sched, err := pipeline.ParseSchedule(o.schedule)
	if err != nil {
		return nil, nil, err
	}
	if o.lmsURL == "" {
		return nil, nil, fmt.Errorf("--schedule needs --lms: the scheduled runs read the LMS")
	}
	wf, err := pipeline.ParseWorkflow(o.workflow)
	if err != nil {
		return nil, nil, err
	}
	src, err := progress.ParseSource(o.grades)
	if err != nil {
		return nil, nil, err
	}
	if o.redisURL != "" {
		// Say now, not at the first run hours later, that Redis is amiss.
		d, err := queue.NewDispatcher(o.redisURL, queue.DispatcherOptions{Queue: o.queue})
		if err != nil {
			return nil, nil, fmt.Errorf("--redis: %w", err)
		}
		d.Close()
	}
	site := o.defaultSite
	if site == 0 {
		site = 1
	}
	s := &pipeline.Scheduler{Schedule: sched, Log: slog.Default(), Job: func(ctx context.Context) error {
		r, st, err := o.timeouts.openPipeline(ctx, o.lmsURL, o.storeURL)
		if err != nil {
			return err
		}
		defer r.Close()
		defer st.Close()
		cfg := pipeline.Config{Workflow: wf, Grades: src, DefaultSite: site, Completion: o.completion}
		if o.redisURL != "" {
			d, err := queue.NewDispatcher(o.redisURL, queue.DispatcherOptions{Queue: o.queue})
			if err != nil {
				return err
			}
			defer d.Close()
			cfg.Distributor = d
		}
		rep, err := pipeline.Run(ctx, r, st, cfg)
		if err != nil {
			return err
		}
		slog.Info("scheduled run done", "summary", rep.Summary())
		return nil
	}}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { defer close(done); s.Run(sctx) }()
	info := func() (string, time.Time, bool) {
		next, running := s.NextRun()
		return sched.String(), next, running
	}
	return info, func() { cancel(); <-done }, nil
}
