package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/pipeline"
)

func init() { register(newBackfillCmd) }

func newBackfillCmd() *cobra.Command {
	var f pipelineFlags
	var from, to string
	var restart bool
	cmd := &cobra.Command{
		Use:   "backfill --lms URL --store URL --from YYYY-MM-DD --to YYYY-MM-DD",
		Short: "Fill daily and monthly metrics for past days",
		Long: `backfill writes the course and site daily metrics, monthly active enrollments and
MAU rows of every day from --from to --to, in order. It remembers the last day it
finished, so an interrupted backfill of the same range and filters continues where
it stopped (--restart starts over).

` + pipeline.BackfillNote + `

Exit status: as for run (0 ok, 3 some courses failed, 1 the backfill failed).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.config()
			if err != nil {
				return err
			}
			fd, err := calendar.Parse(from)
			if err != nil {
				return fmt.Errorf("--from: %w", err)
			}
			td, err := calendar.Parse(to)
			if err != nil {
				return fmt.Errorf("--to: %w", err)
			}
			cfg.RestartBackfill = restart
			ctx := cmd.Context()
			r, st, err := f.timeouts.openPipeline(ctx, f.lmsURL, f.storeURL)
			if err != nil {
				return err
			}
			defer r.Close()
			defer st.Close()
			w := cmd.OutOrStdout()
			fmt.Fprintln(w, pipeline.BackfillNote)
			var finish func()
			cfg.Progress, finish = progressFunc()
			rep, err := pipeline.Backfill(ctx, r, st, cfg, fd, td)
			finish()
			if rep != nil && !rep.Resumed.IsZero() {
				fmt.Fprintf(w, "resumed an interrupted backfill at %s\n", rep.Resumed)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "backfill %s..%s: %d days, %d sites, %d courses, %d LMS statements, %d errors, %.2f s\n",
				rep.From, rep.To, len(rep.Days), rep.Sites, rep.Courses, rep.LMSStatements, rep.Errors, rep.Elapsed.Seconds())
			if rep.Errors > 0 {
				return &exitError{code: 3, err: fmt.Errorf("%d courses failed; see figures_pipelineerror (run %d)", rep.Errors, rep.RunID)}
			}
			return nil
		},
	}
	f.register(cmd, false, false)
	cmd.Flags().StringVar(&from, "from", "", "first day, YYYY-MM-DD")
	cmd.Flags().StringVar(&to, "to", "", "last day, YYYY-MM-DD (before today)")
	cmd.Flags().BoolVar(&restart, "restart", false, "ignore how far an earlier backfill of this range got")
	return cmd
}
