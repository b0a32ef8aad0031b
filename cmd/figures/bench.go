package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/figures-analytics/figures/internal/bench"
	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/synth"
)

func init() {
	register(newBenchCmd)
	register(newBenchChildCmd)
}

func newBenchCmd() *cobra.Command {
	var (
		o                                   bench.Options
		scale, endDate, date, out, pool, h2 string
	)
	cmd := &cobra.Command{
		Use:   "bench --lms URL [--seed-scale large] [--date D] [--out docs/PERFORMANCE.md]",
		Short: "Measure the workflows against the floor on a large synthetic LMS in MariaDB",
		Long: `bench measures, for one day (default: the dataset's end date), on MariaDB:

  the floor        the day's unavoidable reads done plainly: one range scan of
                   courseware_studentmodule on modified and one on created, and
                   those learners' persisted grades in per-course batches
  legacy           the original's sweep (timed on a random sample of enrollments
                   and extrapolated: the full sweep takes hours)
  next             the enrollments with activity on the day
  incremental      a run after a watermark at the day's start

each alone and as whole runs, plus an incremental run with nothing changed,
reporting wall time, SQL statements, rows the server read, peak memory and
enrollments updated; the same on a second dataset with the history doubled
(scaling); and the hot paths in process (progress computation, store writes).

The LMS database is seeded with the synthetic dataset (--seed-scale, --seed,
--seed-end-date) unless it already holds one, as recorded in its figures_synth
table; the doubled history goes to the same database name with "_h2" (seeded
when absent: large takes about 7 minutes). Scratch stores are SQLite files in
--work-dir, copied for every measurement from a template built once per
dataset and day (cached; --fresh rebuilds it). Each measurement runs in a fresh
child process; a first round of all of them warms the caches, then --reps
rounds run each once more, in the same order; tables give medians.

--buffer-pool SIZE measures everything a second time with the server's InnoDB
buffer pool at SIZE (SET GLOBAL innodb_buffer_pool_size), then restores it. The
server is otherwise left as it is.

--out writes the report as Markdown, keeping the hand-written section of the
file already there; without it the report goes to standard output.`,
		Example: `  figures bench --lms mysql://root@127.0.0.1:3306/figures_large --olx-dir /tmp/large/olx --out docs/PERFORMANCE.md
  figures bench --lms mysql://root@127.0.0.1:3306/figures_large --olx-dir /tmp/large/olx --buffer-pool 8G --profile /tmp/prof`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.LMS == "" {
				return errors.New("--lms is required (or FIGURES_LMS)")
			}
			var err error
			if o.Scale, err = synth.ParseScale(scale); err != nil {
				return fmt.Errorf("--seed-scale: %w", err)
			}
			if o.EndDate, err = calendar.Parse(endDate); err != nil {
				return fmt.Errorf("--seed-end-date: %w", err)
			}
			if date != "" {
				if o.Date, err = calendar.Parse(date); err != nil {
					return fmt.Errorf("--date: %w", err)
				}
			}
			if pool != "" {
				if o.BufferPool, err = bench.ParseSize(pool); err != nil {
					return fmt.Errorf("--buffer-pool: %w", err)
				}
			}
			o.ScalingLMS = h2
			if o.SharedData == "" {
				o.SharedData = synth.FindSharedData()
			}
			if o.ProfileDir != "" {
				if err := os.MkdirAll(o.ProfileDir, 0o755); err != nil {
					return fmt.Errorf("--profile: %w", err)
				}
			}
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("bench: cannot re-execute figures: %w", err)
			}
			o.ChildCommand = []string{exe, "bench-child"}
			o.OpenSeedDB = func(ctx context.Context, url string) (*database.DB, error) {
				loc, err := database.ParseURL(url)
				if err != nil {
					return nil, err
				}
				return openSeedDB(ctx, loc)
			}
			o.Command = commandLine(os.Args)
			o.Log = cmd.ErrOrStderr()
			var finish func()
			o.Progress, finish = progressFunc()
			rep, err := bench.Run(cmd.Context(), o)
			finish()
			if err != nil {
				return err
			}
			if out == "" {
				return rep.Render(cmd.OutOrStdout(), "")
			}
			if err := rep.WriteFile(out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", out)
			for _, t := range rep.Targets() {
				verdict := t.Verdict("met", "MISSED", "not measured")
				fmt.Fprintf(cmd.OutOrStdout(), "  %-7s %s: %s\n", verdict, t.Name, t.Measured)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.LMS, "lms", "", "MariaDB database holding (or to hold) the synthetic LMS")
	f.StringVar(&scale, "seed-scale", "large", "scale to seed when the database holds no dataset: small, medium or large")
	f.Uint64Var(&o.Seed, "seed", 1, "random seed for seeding")
	f.StringVar(&endDate, "seed-end-date", bench.DefaultEndDate.String(), "end date for seeding, YYYY-MM-DD")
	f.StringVar(&date, "date", "", "day to measure, YYYY-MM-DD (default: the dataset's end date)")
	f.StringVar(&out, "out", "", "write the report here (Markdown), keeping its hand-written section")
	f.StringVar(&o.OLXDir, "olx-dir", "figures-olx", "the dataset's course exports (the seed's --olx-dir); the doubled history's are in DIR-h2")
	f.StringVar(&o.SharedData, "shared-data", "", "folder holding the real course exports (default: ../shared/data beside the repository)")
	f.BoolVar(&o.Scaling, "scaling", true, "also measure the dataset with the history doubled")
	f.StringVar(&h2, "scaling-lms", "", "database for the doubled history (default: the --lms database name + \"_h2\")")
	f.Float64Var(&o.HistoryFactor, "history-factor", 2, "history factor of the scaling dataset")
	f.IntVar(&o.Reps, "reps", bench.DefaultReps, "measured rounds after the warm-up round (medians are reported)")
	f.IntVar(&o.LegacySample, "legacy-sample", bench.DefaultLegacySample, "enrollments in the legacy sample")
	f.StringVar(&pool, "buffer-pool", "", "also measure with the InnoDB buffer pool at this size (e.g. 8G); restored afterwards")
	f.StringVar(&o.WorkDir, "work-dir", "", "scratch stores and their templates (default: the temporary directory's figures-bench)")
	f.BoolVar(&o.Fresh, "fresh", false, "rebuild the scratch store templates")
	f.StringVar(&o.ProfileDir, "profile", "", "write a CPU profile (pprof) of every measurement's last repetition here")
	return cmd
}

// newBenchChildCmd is the hidden command `figures bench` re-executes for
// each measurement, so that every measurement has a process of its own.
func newBenchChildCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "bench-child",
		Short:  "Run one benchmark measurement (internal: started by figures bench)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return bench.RunChild(cmd.Context(), cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
}

// commandLine quotes a command line for a shell, naming the program
// "figures".
func commandLine(args []string) string {
	parts := []string{"figures"}
	for _, a := range args[1:] {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;!#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}
