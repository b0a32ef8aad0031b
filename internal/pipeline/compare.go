package pipeline

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/lms"
	"github.com/figures-analytics/figures/internal/store"
)

// Comparison is the result of running legacy and next for one day on the
// same data.
type Comparison struct {
	Date calendar.Date
	// Legacy and Next are the two runs' reports.
	Legacy, Next *Report
	// Differences are the fields where legacy's value differs from next's,
	// for the enrollments next updated.
	Differences []Difference
	// LegacyOnly are the enrollments legacy recomputed and next did not,
	// with legacy's reason; they do not fail the comparison.
	LegacyOnly []Touched
	// Compared is the number of (site, enrollment) rows compared.
	Compared int
}

// Identical reports whether every enrollment next updated got identical
// values from legacy.
func (c *Comparison) Identical() bool { return len(c.Differences) == 0 }

// Difference is one field of one enrollment that differs.
type Difference struct {
	SiteID   int
	UserID   int
	CourseID string
	Table    string
	Field    string
	Legacy   string
	Next     string
}

// Compare runs the legacy and next workflows for day d into two scratch
// stores that start from the same state — this store's per-enrollment rows
// dated before d, and its outlines — reading the LMS through one consistent
// snapshot so both see identical data. The store itself is never written.
// Aggregates are not computed: the comparison is about the per-enrollment
// workflows.
func Compare(ctx context.Context, r *lms.Reader, st *store.Store, cfg Config, d calendar.Date, scratchDir string) (*Comparison, error) {
	cfg.setDefaults()
	var err error
	if d, err = ResolveDate(d, cfg.Now()); err != nil {
		return nil, err
	}
	if scratchDir == "" {
		if scratchDir, err = os.MkdirTemp("", "figures-compare-"); err != nil {
			return nil, fmt.Errorf("compare: scratch directory: %w", err)
		}
		defer os.RemoveAll(scratchDir)
	}
	outlines, err := st.Outlines(ctx)
	if err != nil {
		return nil, err
	}
	snap, end, err := r.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	// Both workflows judge learners' structures at one time: the LMS clock
	// (or the given time) now.
	if cfg.AsOf.IsZero() {
		if cfg.lmsClock {
			if cfg.AsOf, err = snap.Now(ctx); err != nil {
				return nil, err
			}
		} else {
			cfg.AsOf = cfg.Now().UTC()
		}
	}
	cmp := &Comparison{Date: d}
	stores := map[Workflow]*store.Store{}
	for _, wf := range []Workflow{Legacy, Next} {
		scratch, err := store.Open(ctx, "sqlite:///"+filepath.Join(scratchDir, string(wf)+".db"))
		if err != nil {
			return nil, fmt.Errorf("compare: scratch store: %w", err)
		}
		defer scratch.Close()
		for _, o := range outlines {
			if _, err := scratch.SaveOutline(ctx, o); err != nil {
				return nil, fmt.Errorf("compare: scratch store: %w", err)
			}
		}
		if err := st.CopyProgressBefore(ctx, scratch, d); err != nil {
			return nil, fmt.Errorf("compare: scratch store: %w", err)
		}
		c := cfg
		c.Workflow, c.Date, c.EnrollmentsOnly = wf, d, true
		rn := &runner{lms: snap, st: scratch, cfg: c, rep: &Report{Workflow: wf, Stages: map[string]time.Duration{}}}
		rep, err := rn.run(ctx)
		if err != nil {
			return nil, fmt.Errorf("compare: %s run: %w", wf, err)
		}
		stores[wf] = scratch
		if wf == Legacy {
			cmp.Legacy = rep
		} else {
			cmp.Next = rep
		}
	}
	if err := cmp.diff(ctx, stores[Legacy], stores[Next]); err != nil {
		return nil, err
	}
	return cmp, nil
}

type edKey struct {
	site, user int
	course     string
}

func (c *Comparison) diff(ctx context.Context, legacy, next *store.Store) error {
	led, err := legacy.EnrollmentDataFor(ctx)
	if err != nil {
		return err
	}
	ned, err := next.EnrollmentDataFor(ctx)
	if err != nil {
		return err
	}
	lgm, err := legacy.GradeMetricsOn(ctx, c.Date)
	if err != nil {
		return err
	}
	ngm, err := next.GradeMetricsOn(ctx, c.Date)
	if err != nil {
		return err
	}
	ledBy := map[edKey]store.EnrollmentData{}
	for _, e := range led {
		ledBy[edKey{e.SiteID, e.UserID, e.CourseID}] = e
	}
	lgmBy := map[edKey]store.GradeMetrics{}
	for _, g := range lgm {
		lgmBy[edKey{g.SiteID, g.UserID, g.CourseID}] = g
	}
	nextTouched := map[lms.Pair]bool{}
	for _, t := range c.Next.Touched {
		nextTouched[t.Pair] = true
	}
	for _, n := range ned {
		if n.DateFor != c.Date {
			continue // a row copied in, not written by next
		}
		k := edKey{n.SiteID, n.UserID, n.CourseID}
		c.Compared++
		l, ok := ledBy[k]
		if !ok {
			c.add(k, "figures_enrollmentdata", "row", "missing", "present")
			continue
		}
		c.field(k, "figures_enrollmentdata", "date_for", l.DateFor.String(), n.DateFor.String())
		c.field(k, "figures_enrollmentdata", "date_enrolled", l.DateEnrolled.String(), n.DateEnrolled.String())
		c.field(k, "figures_enrollmentdata", "is_enrolled", fmt.Sprint(l.IsEnrolled), fmt.Sprint(n.IsEnrolled))
		c.field(k, "figures_enrollmentdata", "is_completed", fmt.Sprint(l.IsCompleted), fmt.Sprint(n.IsCompleted))
		c.float(k, "figures_enrollmentdata", "progress_percent", l.ProgressPercent, n.ProgressPercent)
		c.float(k, "figures_enrollmentdata", "points_possible", l.PointsPossible, n.PointsPossible)
		c.float(k, "figures_enrollmentdata", "points_earned", l.PointsEarned, n.PointsEarned)
		c.field(k, "figures_enrollmentdata", "sections_worked", fmt.Sprint(l.SectionsWorked), fmt.Sprint(n.SectionsWorked))
		c.field(k, "figures_enrollmentdata", "sections_possible", fmt.Sprint(l.SectionsPossible), fmt.Sprint(n.SectionsPossible))
		c.field(k, "figures_enrollmentdata", "estimate", l.Estimate, n.Estimate)
	}
	for _, n := range ngm {
		k := edKey{n.SiteID, n.UserID, n.CourseID}
		l, ok := lgmBy[k]
		if !ok {
			c.add(k, "figures_learnercoursegrademetrics", "row", "missing", "present")
			continue
		}
		c.float(k, "figures_learnercoursegrademetrics", "points_possible", l.PointsPossible, n.PointsPossible)
		c.float(k, "figures_learnercoursegrademetrics", "points_earned", l.PointsEarned, n.PointsEarned)
		c.field(k, "figures_learnercoursegrademetrics", "sections_worked", fmt.Sprint(l.SectionsWorked), fmt.Sprint(n.SectionsWorked))
		c.field(k, "figures_learnercoursegrademetrics", "sections_possible", fmt.Sprint(l.SectionsPossible), fmt.Sprint(n.SectionsPossible))
		c.field(k, "figures_learnercoursegrademetrics", "estimate", l.Estimate, n.Estimate)
	}
	for _, t := range c.Legacy.Touched {
		if !nextTouched[t.Pair] {
			c.LegacyOnly = append(c.LegacyOnly, t)
		}
	}
	sort.Slice(c.Differences, func(i, j int) bool {
		a, b := c.Differences[i], c.Differences[j]
		if a.CourseID != b.CourseID {
			return a.CourseID < b.CourseID
		}
		if a.UserID != b.UserID {
			return a.UserID < b.UserID
		}
		return a.SiteID < b.SiteID
	})
	return nil
}

func (c *Comparison) add(k edKey, table, field, legacy, next string) {
	c.Differences = append(c.Differences, Difference{SiteID: k.site, UserID: k.user, CourseID: k.course,
		Table: table, Field: field, Legacy: legacy, Next: next})
}

func (c *Comparison) field(k edKey, table, field, legacy, next string) {
	if legacy != next {
		c.add(k, table, field, legacy, next)
	}
}

// float compares exactly: both workflows run the same formula on the same
// rows, so any difference, even in the last bit, is a real one.
func (c *Comparison) float(k edKey, table, field string, legacy, next float64) {
	if legacy != next && !(math.IsNaN(legacy) && math.IsNaN(next)) {
		c.add(k, table, field, fmt.Sprint(legacy), fmt.Sprint(next))
	}
}

// Print writes the comparison for an operator: every difference, the
// enrollments only legacy touched with its reason, then the two runs side
// by side.
func (c *Comparison) Print(w io.Writer) {
	fmt.Fprintf(w, "compare legacy and next for %s\n\n", c.Date)
	if len(c.Differences) == 0 {
		fmt.Fprintf(w, "identical: %d enrollment rows that next updated got the same values from legacy\n", c.Compared)
	} else {
		fmt.Fprintf(w, "%d differences:\n", len(c.Differences))
		fmt.Fprintf(w, "  %-6s %-8s %-45s %-34s %-18s %-20s %-20s\n", "site", "user", "course", "table", "field", "legacy", "next")
		for _, d := range c.Differences {
			fmt.Fprintf(w, "  %-6d %-8d %-45s %-34s %-18s %-20s %-20s\n", d.SiteID, d.UserID, d.CourseID, d.Table, d.Field, d.Legacy, d.Next)
		}
	}
	if len(c.LegacyOnly) > 0 {
		fmt.Fprintf(w, "\n%d enrollments only legacy recomputed (not a failure):\n", len(c.LegacyOnly))
		for _, t := range c.LegacyOnly {
			fmt.Fprintf(w, "  user %-8d %-45s %s\n", t.UserID, t.CourseID, t.Reason)
		}
	}
	fmt.Fprintf(w, "\n%-28s %14s %14s\n", "", "legacy", "next")
	fmt.Fprintf(w, "%-28s %14.3f %14.3f\n", "wall time (s)", c.Legacy.Elapsed.Seconds(), c.Next.Elapsed.Seconds())
	fmt.Fprintf(w, "%-28s %14d %14d\n", "LMS SQL statements", c.Legacy.LMSStatements, c.Next.LMSStatements)
	fmt.Fprintf(w, "%-28s %14d %14d\n", "enrollments examined", c.Legacy.EnrollmentsExamined, c.Next.EnrollmentsExamined)
	fmt.Fprintf(w, "%-28s %14d %14d\n", "enrollments updated", c.Legacy.EnrollmentsUpdated, c.Next.EnrollmentsUpdated)
	fmt.Fprintf(w, "%-28s %14d %14d\n", "of them estimates", c.Legacy.Estimated, c.Next.Estimated)
	fmt.Fprintf(w, "%-28s %14d %14d\n", "errors", c.Legacy.Errors, c.Next.Errors)
	if c.Next.Elapsed > 0 {
		fmt.Fprintf(w, "%-28s %14.1fx\n", "legacy / next wall time", c.Legacy.Elapsed.Seconds()/c.Next.Elapsed.Seconds())
	}
}
