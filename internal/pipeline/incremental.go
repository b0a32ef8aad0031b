package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/lms"
)

// Watermark names in figures_watermark.
const (
	// WatermarkStudentModule is the modified time up to which StudentModule
	// changes have been processed (exclusive).
	WatermarkStudentModule = "studentmodule_modified"
	// WatermarkGrades is the same for persisted grades and overrides.
	WatermarkGrades = "grades_modified"
)

// maxSplitWindow is the longest incremental window whose StudentModule
// activity is read split by day (see incremental).
const maxSplitWindow = 7 * 24 * time.Hour

// incremental processes every change since the last successful incremental
// run: StudentModule rows and persisted grades (regrades and overrides
// included) modified in [watermark, now − lag). Each enrollment's snapshot
// is labelled with the UTC day of its newest change. Days that ended since
// the previous run get their daily metrics, so a skipped day is caught up
// and the job can run every few minutes at a cost proportional to what
// changed. Without a watermark the window starts at the run's day (default
// yesterday), which makes the first run equivalent to next for that day.
func (rn *runner) incremental(ctx context.Context, courses []lms.Course, sites []lms.Site, bySite map[int][]string) error {
	now := rn.cfg.Now()
	if rn.cfg.lmsClock {
		var err error
		if now, err = rn.lms.Now(ctx); err != nil {
			return err
		}
	}
	// Datetimes are stored to the microsecond; the window's end must be a
	// value the next window can start at exactly.
	upper := now.Add(-rn.cfg.Lag).Truncate(time.Microsecond)
	smFrom, err := rn.st.Watermark(ctx, WatermarkStudentModule)
	if err != nil {
		return err
	}
	gFrom, err := rn.st.Watermark(ctx, WatermarkGrades)
	if err != nil {
		return err
	}
	if smFrom.IsZero() || gFrom.IsZero() {
		start, err := ResolveDate(rn.cfg.Date, rn.cfg.Now())
		if err != nil {
			return err
		}
		if smFrom.IsZero() {
			smFrom = start.Start()
		}
		if gFrom.IsZero() {
			gFrom = start.Start()
		}
	}
	rn.rep.Date = calendar.Of(upper)
	if !upper.After(smFrom) && !upper.After(gFrom) {
		rn.cfg.Log.Info("incremental: nothing to do yet", "watermark", smFrom, "upper", upper)
		return nil
	}
	w := work{}
	add := func(a lms.Activity, why string) {
		if _, ok := rn.scope.CourseSites[a.CourseID]; !ok {
			return
		}
		if w[a.CourseID] == nil {
			w[a.CourseID] = map[int]label{}
		}
		d := calendar.Of(a.Last)
		if cur, ok := w[a.CourseID][a.UserID]; !ok || d.After(cur.day) {
			w[a.CourseID][a.UserID] = label{day: d, reason: fmt.Sprintf("%s changed %s", why, a.Last.Format(time.RFC3339))}
		}
	}
	// The window's StudentModule activity per UTC day, for a window of a
	// few days that is followed by daily metrics: a day the window covers
	// whole then gets its active learners from it, not from another scan.
	// A longer window (a catch-up) reads each day for itself rather than
	// hold every (learner, day) of it.
	byDay := map[calendar.Date]map[string]map[int]time.Time{}
	split := !rn.cfg.EnrollmentsOnly && upper.Sub(smFrom) <= maxSplitWindow
	if err := rn.stage("activity", func() error {
		if upper.After(smFrom) {
			read := rn.lms.ModifiedBetween
			if split {
				read = rn.lms.ModifiedBetweenByDay
			}
			sm, err := read(ctx, smFrom, upper)
			if err != nil {
				return err
			}
			for _, a := range sm {
				add(a, "StudentModule")
				if !split {
					continue
				}
				d := calendar.Of(a.Last)
				if byDay[d] == nil {
					byDay[d] = map[string]map[int]time.Time{}
				}
				rn.addActivity(byDay[d], a)
			}
		}
		if upper.After(gFrom) {
			g, err := rn.lms.GradesChangedBetween(ctx, gFrom, upper)
			if err != nil {
				return err
			}
			for _, a := range g {
				add(a, "persisted grade")
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if rn.cfg.EnrollmentsOnly {
		// No directory, no daily metrics, and the watermarks stay put: the
		// next full run still sees this window's days end.
		return rn.stage("enrollments", func() error { return rn.recomputeWhenLoaded(ctx, w) })
	}
	// Days that ended inside the window get their daily metrics now.
	first := calendar.Of(smFrom)
	var days []calendar.Date
	for d := first; !d.End().After(upper); d = d.AddDays(1) {
		days = append(days, d)
	}
	if err := rn.stage("directory", func() error {
		return syncDirectory(ctx, rn.lms, rn.st, courses, sites, bySite, len(days) > 0)
	}); err != nil {
		return err
	}
	if err := rn.stage("enrollments", func() error { return rn.recomputeWhenLoaded(ctx, w) }); err != nil {
		return err
	}
	for i, d := range days {
		day := &dayActivity{date: d, modified: byDay[d]}
		if !split || d.Start().Before(smFrom) {
			// Not split, or the window began during the day: read the day.
			var err error
			if day, err = rn.readDay(ctx, d, false); err != nil {
				return err
			}
		} else if day.modified == nil {
			day.modified = map[string]map[int]time.Time{}
		}
		// Average progress is today's state of the enrollment data: only
		// the newest completed day may carry it.
		if err := rn.stage("aggregates", func() error { return rn.aggregates(ctx, day, i == len(days)-1) }); err != nil {
			return err
		}
	}
	if len(days) > 0 {
		rn.rep.Date = days[len(days)-1]
	}
	return rn.st.SetWatermarks(ctx, map[string]time.Time{WatermarkStudentModule: upper, WatermarkGrades: upper})
}
