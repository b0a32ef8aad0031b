package main

import (
	"errors"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/figures-analytics/figures/internal/queue"
)

func init() { register(newWorkerCmd) }

func newWorkerCmd() *cobra.Command {
	var lmsURL, storeURL, redisURL, queueName string
	var concurrency int
	var t timeouts
	cmd := &cobra.Command{
		Use:   "worker --redis URL --lms URL --store URL [--concurrency N]",
		Short: "Run the enrollment tasks of distributed runs (figures run --redis)",
		Long: `worker serves the Redis queue that "figures run --redis" fills: each task is a
share of a run's enrollment stage (learners to recompute, or for legacy a course to
sweep); the worker reads the LMS (read-only), writes the enrollment rows to the
store, records failures under the run, and hands back its counts. Run as many
workers as the LMS replica and the store can serve, on any machine that reaches
Redis, the LMS and the store: a MySQL or PostgreSQL store for workers on several
machines (a SQLite store serves the workers of one machine, one writer at a time).

A task that fails is retried twice with a growing delay, then counts as failed:
the run records its courses in figures_pipelineerror. SIGINT/SIGTERM stop taking
tasks and let running ones finish (up to 30 seconds).`,
		Example: `  figures worker --redis redis://127.0.0.1:6379/0 --lms mysql://reader:pw@replica:3306/edxapp --store mysql://figures@db/figures`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if redisURL == "" || lmsURL == "" || storeURL == "" {
				return errors.New("--redis, --lms and --store are required (or FIGURES_REDIS, FIGURES_LMS and FIGURES_STORE)")
			}
			ctx := cmd.Context()
			r, st, err := t.openPipeline(ctx, lmsURL, storeURL)
			if err != nil {
				return err
			}
			defer r.Close()
			defer st.Close()
			w, err := queue.NewWorker(redisURL, r, st, queue.WorkerOptions{Queue: queueName, Concurrency: concurrency})
			if err != nil {
				return err
			}
			slog.Info("worker serving", "queue", queueName, "concurrency", concurrency)
			return w.Run(ctx)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&redisURL, "redis", "", "Redis holding the queue (redis://host:6379/0)")
	fl.StringVar(&lmsURL, "lms", "", "LMS database URL (read-only)")
	fl.StringVar(&storeURL, "store", "", "store database URL")
	fl.StringVar(&queueName, "queue", queue.DefaultQueue, "the queue to serve")
	fl.IntVar(&concurrency, "concurrency", 2, "tasks run at once")
	t.register(fl, true)
	return cmd
}
