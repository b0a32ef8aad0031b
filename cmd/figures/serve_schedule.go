package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/figures-analytics/figures/internal/pipeline"
	"github.com/figures-analytics/figures/internal/progress"
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
	site := o.defaultSite
	if site == 0 {
		site = 1
	}
	s := &pipeline.Scheduler{Schedule: sched, Log: slog.Default(), Job: func(ctx context.Context) error {
		r, st, err := openPipeline(ctx, o.lmsURL, o.storeURL)
		if err != nil {
			return err
		}
		defer r.Close()
		defer st.Close()
		rep, err := pipeline.Run(ctx, r, st, pipeline.Config{Workflow: wf, Grades: src, DefaultSite: site, Completion: o.completion})
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
