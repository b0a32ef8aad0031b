package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/spf13/cobra"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/synth"
)

func init() { register(newSeedCmd) }

func newSeedCmd() *cobra.Command {
	var (
		lmsURL, scale, endDate, olxDir, sharedData string
		seed                                       uint64
		days                                       int
		factor                                     float64
		reset                                      bool
	)
	cmd := &cobra.Command{
		Use:   "seed --lms URL [--scale small|medium|large] [--seed N]",
		Short: "Build a synthetic Open edX LMS database (demo data and benchmarks)",
		Long: `seed creates the Open edX platform tables figures reads, with the platform's
own indexes, in an empty SQLite or MySQL/MariaDB database, and fills them with
a consistent synthetic LMS: three sites with their org filters, organizations,
course overviews, users and profiles, enrollments, course roles, StudentModule
activity, persisted subsection and course grades (computed from the
StudentModule scores) and certificates.

Courses are the two public demo courses (from the shared data folder:
--shared-data, FIGURES_SHARED_DATA, or ../shared/data beside the repository;
without it only synthetic courses are made) and generated courses, each
written as an OLX export under --olx-dir (with a manifest.json listing every
course), so "figures course import DIR" reads the outline the activity was
generated from.

Scales (StudentModule rows are approximate):
  small    ~10 thousand rows, 6 courses, a few hundred users, 60 days
  medium   ~1 million rows, 20 courses, ~40 thousand enrollments, 180 days
  large    ~10 million rows, 200 courses, ~440 thousand enrollments, 365 days,
           ~1% of enrollments active on the end date

The same --seed and options always give identical rows. --history-factor F
adds (F-1) times the history before the base history, from learners who
finished earlier: every day of the base history, the end date above all,
keeps exactly the same activity, while the tables grow F-fold.

A database whose platform tables already hold rows is refused unless --reset,
which drops and recreates them. The dataset's description is recorded in the
figures_synth table. MySQL/MariaDB loads use LOAD DATA LOCAL INFILE when the
server allows it (local_infile=ON), multi-row INSERTs otherwise; a missing
MySQL database is created.`,
		Example: `  figures seed --lms sqlite:///figures-demo/lms.db
  figures seed --lms mysql://root@127.0.0.1:3306/lms_large --scale large --olx-dir ./olx-large
  figures seed --lms mysql://root@127.0.0.1:3306/lms_large2 --scale large --history-factor 2 --olx-dir ./olx-large`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if lmsURL == "" {
				return errors.New("--lms is required (or FIGURES_LMS)")
			}
			sc, err := synth.ParseScale(scale)
			if err != nil {
				return fmt.Errorf("--scale: %w", err)
			}
			end := calendar.Yesterday()
			if endDate != "" {
				if end, err = calendar.Parse(endDate); err != nil {
					return fmt.Errorf("--end-date: %w", err)
				}
			}
			loc, err := database.ParseURL(lmsURL)
			if err != nil {
				return err
			}
			if olxDir == "" {
				olxDir = "figures-olx"
				if loc.Dialect == database.SQLite {
					olxDir = filepath.Join(filepath.Dir(loc.Path), "olx")
				}
			}
			if sharedData == "" {
				sharedData = synth.FindSharedData()
			}
			if loc.Dialect == database.SQLite {
				if err := os.MkdirAll(filepath.Dir(loc.Path), 0o755); err != nil {
					return fmt.Errorf("--lms: %w", err)
				}
			}
			db, err := openSeedDB(cmd.Context(), loc)
			if err != nil {
				return err
			}
			defer db.Close()
			opts := synth.Options{Scale: sc, Seed: seed, EndDate: end, Days: days, HistoryFactor: factor,
				OLXDir: olxDir, SharedData: sharedData, Reset: reset}
			update, finish := progressFunc()
			if update != nil {
				opts.Progress = func(stage string, done, total int64) { update(stage, int(done), int(total)) }
			}
			sum, err := synth.Generate(cmd.Context(), db, opts)
			finish()
			if err != nil {
				return err
			}
			printSeedSummary(cmd.OutOrStdout(), db.Location().String(), olxDir, sum)
			printSeedNextSteps(cmd.OutOrStdout(), printableURL(lmsURL), olxDir, sum.EndDate)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&lmsURL, "lms", "", "LMS database URL to create (sqlite:///path.db or mysql://user@host:3306/db)")
	f.StringVar(&scale, "scale", "small", "dataset size: small, medium or large")
	f.Uint64Var(&seed, "seed", 1, "random seed: the same seed and options give identical rows")
	f.StringVar(&endDate, "end-date", "", "last day of the history, YYYY-MM-DD (default yesterday, UTC)")
	f.IntVar(&days, "days", 0, "days of history ending on the end date (default 60, 180 or 365 by scale)")
	f.StringVar(&olxDir, "olx-dir", "", "where the generated courses' OLX exports go (default olx/ beside a SQLite file, ./figures-olx otherwise)")
	f.Float64Var(&factor, "history-factor", 1, "multiply the history before the end date by F, keeping the end date's activity identical")
	f.StringVar(&sharedData, "shared-data", "", "folder holding the real course exports (default: ../shared/data beside the repository)")
	f.BoolVar(&reset, "reset", false, "drop and recreate the platform tables when they already hold data")
	return cmd
}

// openSeedDB opens the database to fill, creating a missing MySQL
// database first.
func openSeedDB(ctx context.Context, loc database.Location) (*database.DB, error) {
	db, err := database.OpenLocation(ctx, loc, database.Options{})
	if err == nil || loc.Dialect != database.MySQL {
		return db, err
	}
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1049 { // ER_BAD_DB_ERROR
		return nil, err
	}
	admin, perr := adminLocation(loc)
	if perr != nil {
		return nil, err
	}
	adb, aerr := database.OpenLocation(ctx, admin, database.Options{})
	if aerr != nil {
		return nil, fmt.Errorf("create database %s: %w", loc.Name, aerr)
	}
	defer adb.Close()
	if _, err := adb.SQL().ExecContext(ctx, "CREATE DATABASE `"+strings.ReplaceAll(loc.Name, "`", "``")+"` CHARACTER SET utf8mb4"); err != nil {
		return nil, fmt.Errorf("create database %s: %w", loc.Name, err)
	}
	return database.OpenLocation(ctx, loc, database.Options{})
}

// adminLocation is loc with the server's information_schema as database.
func adminLocation(loc database.Location) (database.Location, error) {
	u := url.URL{Scheme: "mysql", Host: loc.Host + ":" + loc.Port, Path: "/information_schema"}
	if loc.Password != "" {
		u.User = url.UserPassword(loc.User, loc.Password)
	} else if loc.User != "" {
		u.User = url.User(loc.User)
	}
	q := url.Values{}
	for k, v := range loc.Query {
		q[k] = v
	}
	if loc.Socket != "" {
		q.Set("socket", loc.Socket)
	}
	u.RawQuery = q.Encode()
	return database.ParseURL(u.String())
}

func printSeedSummary(w io.Writer, where, olxDir string, s synth.Summary) {
	real := 0
	for _, c := range s.Courses {
		if c.Real {
			real++
		}
	}
	fmt.Fprintf(w, "synthetic LMS %s\n", where)
	fmt.Fprintf(w, "  scale %s, seed %d, %d days ending %s, history factor %g\n", s.Scale, s.Seed, s.Days, s.EndDate, s.HistoryFactor)
	fmt.Fprintf(w, "  %d courses (%d real), OLX exports in %s\n", len(s.Courses), real, olxDir)
	fmt.Fprintf(w, "  %d enrollments, %d active on the end date\n", s.Enrollments, s.ActiveOnEndDate)
	for _, n := range s.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, t := range s.Tables {
		fmt.Fprintf(tw, "  \t%d\t  %s\n", t.Rows, t.Table)
	}
	tw.Flush()
	fmt.Fprintf(w, "  at most %d StudentModule rows held in memory at once\n", s.ReorderPeak)
	fmt.Fprintf(w, "  loaded with %s in %s (rows %s, indexes %s)\n", s.Method, s.Total.Round(10*time.Millisecond),
		s.Generate.Round(10*time.Millisecond), s.Indexes.Round(10*time.Millisecond))
}

// printSeedNextSteps prints the commands that take a newly seeded LMS to a
// dashboard, runnable as printed, with a SQLite store in the working
// directory.
func printSeedNextSteps(w io.Writer, lmsURL, olxDir, endDate string) {
	const store = "sqlite:///figures.db"
	fig := invocation()
	fmt.Fprintf(w, "\nnext steps (a store in ./figures.db):\n")
	fmt.Fprintf(w, "  %s course import %s --store %s\n", fig, olxDir, store)
	fmt.Fprintf(w, "  %s run --lms %s --store %s --date %s\n", fig, lmsURL, store, endDate)
	fmt.Fprintf(w, "  %s token create --store %s --all --name me\n", fig, store)
	fmt.Fprintf(w, "  %s serve --store %s --lms %s\n", fig, store, lmsURL)
}
