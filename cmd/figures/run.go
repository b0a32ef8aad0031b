package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/pipeline"
	"github.com/figures-analytics/figures/internal/progress"
	"github.com/figures-analytics/figures/internal/queue"
)

func init() { register(newRunCmd) }

// pipelineFlags are the settings shared by run, compare and backfill.
type pipelineFlags struct {
	lmsURL, storeURL string
	workflow, grades string
	date             string
	courses          []string
	sites            []int
	defaultSite      int
	completion       []string
	lag              time.Duration
	timeouts         timeouts
}

func (f *pipelineFlags) register(cmd *cobra.Command, withWorkflow, withDate bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.lmsURL, "lms", "", "LMS database URL (read-only)")
	fl.StringVar(&f.storeURL, "store", "", "store database URL")
	if withWorkflow {
		fl.StringVar(&f.workflow, "workflow", "next", "per-enrollment workflow: next, legacy or incremental")
	}
	if withDate {
		fl.StringVar(&f.date, "date", "", "UTC day to process, YYYY-MM-DD (default yesterday)")
	}
	fl.StringVar(&f.grades, "grades", "persisted", "grade source: persisted (Olive and later) or studentmodule")
	fl.StringArrayVar(&f.courses, "course", nil, "only this course id (repeatable)")
	fl.IntSliceVar(&f.sites, "site", nil, "only this django_site id (repeatable)")
	fl.IntVar(&f.defaultSite, "default-site", 1, "django_site id that owns every course of a standalone install")
	fl.StringSliceVar(&f.completion, "completion-status", pipeline.DefaultCompletion, "certificate statuses counted as completions")
	fl.DurationVar(&f.lag, "lag", time.Minute, "incremental: stop this far behind the LMS clock")
	f.timeouts.register(fl, true)
}

func (f *pipelineFlags) config() (pipeline.Config, error) {
	var cfg pipeline.Config
	var err error
	if f.lmsURL == "" || f.storeURL == "" {
		return cfg, fmt.Errorf("--lms and --store are required (or FIGURES_LMS and FIGURES_STORE)")
	}
	if cfg.Workflow, err = pipeline.ParseWorkflow(f.workflow); err != nil {
		return cfg, err
	}
	if cfg.Grades, err = progress.ParseSource(f.grades); err != nil {
		return cfg, err
	}
	if f.date != "" {
		if cfg.Date, err = calendar.Parse(f.date); err != nil {
			return cfg, fmt.Errorf("--date: %w", err)
		}
	}
	cfg.Courses, cfg.Sites, cfg.DefaultSite, cfg.Completion, cfg.Lag = f.courses, f.sites, f.defaultSite, f.completion, f.lag
	return cfg, nil
}

func newRunCmd() *cobra.Command {
	var f pipelineFlags
	var redisURL, queueName string
	var taskSize int
	cmd := &cobra.Command{
		Use:   "run --lms URL --store URL [--date YYYY-MM-DD] [--workflow next|legacy|incremental]",
		Short: "Compute one day's metrics from the LMS into the store",
		Long: `run reads the LMS (read-only) and writes, for one UTC day (default yesterday):
per-enrollment progress (figures_enrollmentdata, figures_learnercoursegrademetrics)
for the enrollments the workflow selects, then the day's course and site metrics,
monthly active enrollments and MAU.

Workflows (--workflow, FIGURES_WORKFLOW; default next):
  next         the enrollments with a StudentModule row created or modified on the day
  legacy       every enrollment, one StudentModule query each (the original's sweep)
  incremental  everything changed (StudentModule and persisted grades) since the last
               incremental run's watermark; days that ended since then get their metrics

--redis URL spreads the enrollment stage over "figures worker" processes: the run
splits the enrollments it selects (legacy: the courses) into tasks of --task-size,
enqueues them in Redis, waits for the workers, then writes the aggregates.

Exit status: 0 when everything completed; 3 when the run completed but some courses
or enrollments failed (each recorded in figures_pipelineerror); 1 when the run failed.`,
		Example: `  figures run --lms mysql://reader:pw@replica:3306/edxapp --store sqlite:///figures.db
  figures run --lms ... --store mysql://figures@db/figures --redis redis://127.0.0.1:6379/0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.config()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			r, st, err := f.timeouts.openPipeline(ctx, f.lmsURL, f.storeURL)
			if err != nil {
				return err
			}
			defer r.Close()
			defer st.Close()
			if taskSize < 1 {
				return fmt.Errorf("--task-size %d: want at least 1 enrollment per task", taskSize)
			}
			if redisURL != "" {
				d, err := queue.NewDispatcher(redisURL, queue.DispatcherOptions{Queue: queueName})
				if err != nil {
					return err
				}
				defer d.Close()
				cfg.Distributor, cfg.TaskSize = d, taskSize
			}
			var finish func()
			cfg.Progress, finish = progressFunc()
			rep, err := pipeline.Run(ctx, r, st, cfg)
			finish()
			if err != nil {
				return err
			}
			printReport(cmd, rep, f.storeURL)
			if rep.Errors > 0 {
				return &exitError{code: 3, err: fmt.Errorf("%d courses or enrollments failed; see figures_pipelineerror (run %d)", rep.Errors, rep.RunID)}
			}
			return nil
		},
	}
	f.register(cmd, true, true)
	cmd.Flags().StringVar(&redisURL, "redis", "", "distribute the enrollment stage over figures worker processes through this Redis (redis://host:6379/0)")
	cmd.Flags().StringVar(&queueName, "queue", queue.DefaultQueue, "with --redis: the queue the workers serve")
	cmd.Flags().IntVar(&taskSize, "task-size", pipeline.DefaultTaskSize, "with --redis: enrollments per task")
	return cmd
}

func printReport(cmd *cobra.Command, rep *pipeline.Report, storeURL string) {
	w := cmd.OutOrStdout()
	if len(rep.Unassigned) > 0 {
		fmt.Fprintf(w, "warning: %d courses belong to no site (no site's course_org_filter names their org): %s\n",
			len(rep.Unassigned), strings.Join(rep.Unassigned, ", "))
	}
	if len(rep.MissingOutlines) > 0 {
		fmt.Fprintf(w, "warning: %d courses have no outline in the store, so their learners' progress is not computed: %s\n"+
			"  import their OLX exports (a .tar.gz, an export folder, or a folder of exports such as the one figures seed writes):\n"+
			"    %s course import PATH --store %s\n",
			len(rep.MissingOutlines), strings.Join(rep.MissingOutlines, ", "), invocation(), printableURL(storeURL))
	}
	var stages []string
	for _, s := range []string{"scope", "directory", "activity", "enrollments", "aggregates"} {
		if d, ok := rep.Stages[s]; ok {
			stages = append(stages, fmt.Sprintf("%s %.2fs", s, d.Seconds()))
		}
	}
	if len(stages) > 0 {
		fmt.Fprintf(w, "stages: %s\n", strings.Join(stages, ", "))
	}
	fmt.Fprintln(w, rep.Summary())
}
