package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/figures-analytics/figures/internal/pipeline"
)

func init() { register(newCompareCmd) }

func newCompareCmd() *cobra.Command {
	var f pipelineFlags
	var scratch string
	cmd := &cobra.Command{
		Use:   "compare --lms URL --store URL --date YYYY-MM-DD",
		Short: "Run the legacy and next workflows on the same data and report every difference",
		Long: `compare validates the next workflow against the legacy one on your own data,
without touching your store: it runs both for the day into two scratch SQLite
stores that start from the same state (the store's per-enrollment rows dated
before the day, and its course outlines), reading the LMS through one consistent
snapshot, then prints every difference per enrollment and per field, the
enrollments only legacy recomputed (with its reason; not a failure), and both
runs' wall time and SQL statement counts side by side.

Exit status: 0 when every enrollment next updated got identical values from
legacy, 1 otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.config()
			if err != nil {
				return err
			}
			if f.date == "" {
				return fmt.Errorf("--date is required")
			}
			ctx := cmd.Context()
			r, err := f.timeouts.openLMS(ctx, f.lmsURL)
			if err != nil {
				return err
			}
			defer r.Close()
			st, err := f.timeouts.openStore(ctx, f.storeURL, true)
			if err != nil {
				return err
			}
			defer st.Close()
			var finish func()
			cfg.Progress, finish = progressFunc()
			cmp, err := pipeline.Compare(ctx, r, st, cfg, cfg.Date, scratch)
			finish()
			if err != nil {
				return err
			}
			cmp.Print(cmd.OutOrStdout())
			if !cmp.Identical() {
				return &exitError{code: 1, err: fmt.Errorf("%d differences between legacy and next", len(cmp.Differences))}
			}
			return nil
		},
	}
	f.register(cmd, false, true)
	cmd.Flags().StringVar(&scratch, "scratch-dir", "", "keep the two scratch stores in this directory (default: a temporary one, removed)")
	return cmd
}
