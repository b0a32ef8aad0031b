package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/figures-analytics/figures/internal/api/loadtest"
)

func init() { register(newLoadtestCmd) }

func newLoadtestCmd() *cobra.Command {
	var cfg loadtest.Config
	cmd := &cobra.Command{
		Use:   "loadtest --url URL --token TOKEN [--clients 200] [--duration 30s] [--path P]...",
		Short: "Load-test a running API and report latency percentiles and errors",
		Long: `loadtest sends GET requests to a running figures serve from --clients
concurrent clients (each with one request in flight) for --duration, cycling
through the --path values, and reports the number of requests, the
p50/p90/p99/max latency, and the errors by HTTP status. It exits 1 when any
request failed.

Example:
  figures loadtest --url http://127.0.0.1:8000 --token "$TOKEN" --clients 200 \
    --duration 30s --path /figures/api/learner-metrics/ \
    --path '/figures/api/learner-metrics/?ordering=profile__name&offset=500' --stall 4

With --stall N, N more clients start a CSV download and never read it, for
the whole test: the other clients' answers must not suffer.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cfg.BaseURL == "" {
				return errors.New("--url is required")
			}
			res, err := loadtest.Run(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			res.Report(cmd.OutOrStdout(), cfg)
			if res.Errors > 0 {
				return fmt.Errorf("%d of %d requests failed", res.Errors, res.Requests)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&cfg.BaseURL, "url", "", "the server, e.g. http://127.0.0.1:8000")
	fl.StringVar(&cfg.Token, "token", "", "API token (figures token create)")
	fl.IntVar(&cfg.Clients, "clients", 200, "concurrent clients")
	fl.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long to send requests")
	fl.DurationVar(&cfg.Timeout, "timeout", 30*time.Second, "per-request timeout")
	fl.StringArrayVar(&cfg.Paths, "path", []string{"/figures/api/learner-metrics/"}, "path and query to request (repeatable)")
	fl.IntVar(&cfg.Stallers, "stall", 0, "extra clients that start a download and never read it, for the whole test")
	fl.StringVar(&cfg.StallPath, "stall-path", "/figures/api/learner-metrics/?format=csv", "what the --stall clients download")
	return cmd
}
