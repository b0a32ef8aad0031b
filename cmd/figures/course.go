package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/figures-analytics/figures/internal/course"
	"github.com/figures-analytics/figures/internal/lms"
	"github.com/figures-analytics/figures/internal/store"
)

func init() { register(newCourseCmd) }

func newCourseCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "course",
		Short: "Import, fetch and inspect course outlines",
		Long: `Progress is counted over a course's outline: its chapters, subsections and
the scorable blocks under each subsection with their possible points. The
LMS database does not hold it, so figures keeps one per course in its store,
taken from an OLX course export (import) or from the LMS Course Blocks API
(fetch). Re-importing unchanged content is a no-op; import again after every
publish that changes problems or their weights.

See docs/OUTLINES.md for how each block type is scored.`,
	}
	cmd.AddCommand(newCourseImportCmd(), newCourseInspectCmd(), newCourseFetchCmd())
	return cmd
}

func newCourseImportCmd() *cobra.Command {
	var storeURL, courseID string
	var t timeouts
	cmd := &cobra.Command{
		Use:   "import PATH... --store URL [--course-id ID]",
		Short: "Import course outlines from OLX exports into the store",
		Long: `import reads each PATH, an OLX course export as Studio writes it (a .tar.gz, or
the unpacked folder holding course.xml or a course/ folder that does), and
stores its outline. A PATH may also be a folder of exports (as "figures seed"
writes them): each subfolder that is an export and each .tar.gz in it is
imported. For each course it prints the course id, the outline's
version, its counts, "unchanged" when the store already holds that version,
and any warnings (unknown block types, problems the platform cannot score).

--course-id imports a single export under another course key, as a Studio
import into a re-run does: block ids are kept, org, course and run change.

A path that fails is reported and the others are still imported; the exit
status is then 1.`,
		Example: `  figures course import course.tar.gz --store sqlite:///figures.db
  figures course import ./export/course --store mysql://figures@db/figures --course-id course-v1:Org+X+2025`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if storeURL == "" {
				return errors.New("--store is required (or FIGURES_STORE)")
			}
			if courseID != "" && len(args) > 1 {
				return errors.New("--course-id applies to one export; give a single PATH")
			}
			st, err := t.openStore(cmd.Context(), storeURL, false)
			if err != nil {
				return err
			}
			defer st.Close()
			var paths []string
			var failed []string
			for _, p := range args {
				ps, err := course.Exports(p)
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "figures: %v\n", err)
					failed = append(failed, p)
					continue
				}
				paths = append(paths, ps...)
			}
			unexpanded := len(failed)
			if courseID != "" && len(paths) > 1 {
				return fmt.Errorf("--course-id applies to one export; %s holds %d", args[0], len(paths))
			}
			for _, p := range paths {
				o, err := course.ImportOLX(p, course.ImportOptions{CourseID: courseID})
				if err == nil {
					err = saveAndReport(cmd, st, o)
				}
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "figures: %v\n", err)
					failed = append(failed, p)
				}
			}
			if len(failed) > 0 {
				return fmt.Errorf("%d of %d exports not imported: %s", len(failed), len(paths)+unexpanded, strings.Join(failed, ", "))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&storeURL, "store", "", "store database URL")
	t.register(cmd.Flags(), false)
	cmd.Flags().StringVar(&courseID, "course-id", "", "import under this course key instead of course.xml's")
	return cmd
}

// saveAndReport stores an outline and prints one line about it and its
// warnings.
func saveAndReport(cmd *cobra.Command, st *store.Store, o *course.Outline) error {
	changed, err := st.SaveOutline(cmd.Context(), o)
	if err != nil {
		return err
	}
	s := o.Summarize()
	state := "stored"
	if !changed {
		state = "unchanged"
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "%s version %s: %d chapters, %d subsections (%d graded), %d scorable blocks, %s points in %d subsections; %s (%s)\n",
		o.CourseID, o.Version, s.Chapters, s.Subsections, s.GradedSubsections, s.ScorableBlocks,
		formatPoints(s.PointsPossible), s.SubsectionsWithPoints, state, o.Source)
	for _, w := range o.Warnings {
		fmt.Fprintf(out, "  warning: %s\n", w)
	}
	return nil
}

// formatPoints prints points without trailing zeros (7.5, 87).
func formatPoints(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.4f", f), "0"), ".")
}

func newCourseInspectCmd() *cobra.Command {
	var asJSON bool
	var courseID string
	cmd := &cobra.Command{
		Use:   "inspect PATH [--json] [--course-id ID]",
		Short: "Print an OLX export's outline counts without storing it",
		Long: `inspect reads an OLX course export (a .tar.gz or an unpacked folder) and prints
what figures counts in it, as a learner with no recorded library selection
sees it: chapters, subsections, graded subsections, scorable blocks,
subsections with points, points possible, and each subsection's usage key,
name, graded flag, format and possible points.

With --json the same is printed as one JSON object:
  {"course_id", "chapters", "subsections", "graded_subsections",
   "scorable_blocks", "subsections_with_points", "points_possible",
   "subsection_list": [{"usage_key", "display_name", "graded", "format", "possible"}]}
(format is null when unset). Warnings go to standard error.`,
		Example: `  figures course inspect course.tar.gz
  figures course inspect ./export/course --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := course.ImportOLX(args[0], course.ImportOptions{CourseID: courseID})
			if err != nil {
				return err
			}
			for _, w := range o.Warnings {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s\n", w)
			}
			s := o.Summarize()
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(s)
			}
			return printSummary(cmd.OutOrStdout(), o, s)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the counts as JSON")
	cmd.Flags().StringVar(&courseID, "course-id", "", "read the export under this course key instead of course.xml's")
	return cmd
}

// printSummary writes the readable form of inspect.
func printSummary(w io.Writer, o *course.Outline, s course.Summary) error {
	fmt.Fprintf(w, "%s  %s\nversion %s, from %s\n\n", s.CourseID, o.DisplayName, o.Version, o.Source)
	fmt.Fprintf(w, "chapters                 %d\n", s.Chapters)
	fmt.Fprintf(w, "subsections              %d\n", s.Subsections)
	fmt.Fprintf(w, "graded subsections       %d\n", s.GradedSubsections)
	fmt.Fprintf(w, "scorable blocks          %d\n", s.ScorableBlocks)
	fmt.Fprintf(w, "subsections with points  %d\n", s.SubsectionsWithPoints)
	fmt.Fprintf(w, "points possible          %s\n\n", formatPoints(s.PointsPossible))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SUBSECTION\tGRADED\tFORMAT\tPOSSIBLE\tUSAGE KEY")
	for _, sub := range s.SubsectionList {
		graded, format := "", "-"
		if sub.Graded {
			graded = "yes"
		}
		if sub.Format != nil {
			format = *sub.Format
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", sub.DisplayName, graded, format, formatPoints(sub.Possible), sub.UsageKey)
	}
	return tw.Flush()
}

func newCourseFetchCmd() *cobra.Command {
	var lmsURL, clientID, clientSecret, storeURL, lmsDB string
	var courses []string
	var t timeouts
	cmd := &cobra.Command{
		Use:   "fetch --lms-url URL --client-id ID --client-secret SECRET --course ID... --store URL [--lms DBURL]",
		Short: "Fetch course outlines from the LMS Course Blocks API into the store",
		Long: `fetch reads each --course's whole block tree from the LMS Course Blocks API
(GET /api/courses/v1/blocks/?all_blocks=true&depth=all) and stores its outline.

Authentication is OAuth2 client credentials: create, in the LMS Django admin
(Django OAuth Toolkit > Applications), a confidential "client credentials"
application whose user is global staff (or staff of every course fetched),
and pass its client id and secret. Prefer FIGURES_CLIENT_SECRET to the flag,
which other users can see in the process list.

The API reports weights but no maximum scores. A problem's raw maximum is
taken from its type where that fixes it (drag-and-drop, done: 1; LTI and
staff-graded: the weight) and otherwise, with --lms, from the largest
max_grade learners' StudentModule rows recorded (one read-only query per
course). An unweighted problem nobody has answered then counts 0 points and
is listed as a warning; importing the course's OLX export instead gives
exact maxima. The API does not expose a library_content block's max_count
either: 1, the platform default, is assumed (warned).`,
		Example: `  FIGURES_CLIENT_SECRET=... figures course fetch --lms-url https://lms.example.com \
      --client-id figures --course course-v1:Org+X+2025 --store sqlite:///figures.db \
      --lms mysql://reader@replica/edxapp`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var missing []string
			for _, f := range []struct{ name, v string }{{"--lms-url", lmsURL}, {"--client-id", clientID}, {"--client-secret", clientSecret}, {"--store", storeURL}} {
				if f.v == "" {
					missing = append(missing, f.name)
				}
			}
			if len(courses) == 0 {
				missing = append(missing, "--course")
			}
			if len(missing) > 0 {
				return fmt.Errorf("%s required (flags, or FIGURES_LMS_URL, FIGURES_CLIENT_ID, FIGURES_CLIENT_SECRET, FIGURES_COURSE, FIGURES_STORE)", strings.Join(missing, ", "))
			}
			client, err := course.NewBlocksClient(lmsURL, clientID, clientSecret, nil)
			if err != nil {
				return err
			}
			var opts course.FetchOptions
			if lmsDB != "" {
				r, err := t.openLMS(cmd.Context(), lmsDB)
				if err != nil {
					return err
				}
				defer r.Close()
				opts.MaxGrades = lms.MaxGradesSource{DB: r.DB()}
			}
			st, err := t.openStore(cmd.Context(), storeURL, false)
			if err != nil {
				return err
			}
			defer st.Close()
			var failed []string
			for _, id := range courses {
				o, err := client.FetchOutline(cmd.Context(), id, opts)
				if err == nil {
					err = saveAndReport(cmd, st, o)
				}
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "figures: %v\n", err)
					failed = append(failed, id)
				}
			}
			if len(failed) > 0 {
				return fmt.Errorf("%d of %d courses not fetched: %s", len(failed), len(courses), strings.Join(failed, ", "))
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&lmsURL, "lms-url", "", "LMS base URL, such as https://lms.example.com")
	fl.StringVar(&clientID, "client-id", "", "OAuth2 client id of a client-credentials application of a staff user")
	fl.StringVar(&clientSecret, "client-secret", "", "its client secret (prefer FIGURES_CLIENT_SECRET)")
	fl.StringArrayVar(&courses, "course", nil, "course id to fetch (repeatable)")
	fl.StringVar(&storeURL, "store", "", "store database URL")
	fl.StringVar(&lmsDB, "lms", "", "LMS database URL (read-only), for problems' maximum scores")
	t.register(fl, true)
	return cmd
}
