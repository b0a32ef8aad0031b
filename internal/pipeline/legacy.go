package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/lms"
	"github.com/figures-analytics/figures/internal/progress"
	"github.com/figures-analytics/figures/internal/store"
)

// legacy reproduces the original's daily sweep, access pattern included,
// so that comparing it with next is honest: for every enrollment of every
// course (any state, staff included), that learner's StudentModule rows in
// the course newest first (one query per enrollment), then the
// enrollment's latest grade-metrics snapshot (one query per enrollment and
// site); progress is recomputed when the newest row's day is after the
// snapshot's, reading that learner's grade rows one query at a time, and
// written one enrollment at a time.
//
// Unlike the original, a failing enrollment is recorded and skipped instead
// of losing the course, and the grade-metrics write is an upsert, so a
// same-day re-run cannot hit the unique key.
func (rn *runner) legacy(ctx context.Context, d calendar.Date) error {
	courses := rn.scope.CourseIDs()
	for i, c := range courses {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := rn.legacyCourse(ctx, c, d); err != nil {
			rn.recordError(ctx, store.PipelineError{ErrorType: store.ErrorCourse, CourseID: c,
				Data: map[string]any{"stage": "enrollments", "workflow": "legacy"}}, err)
		}
		rn.cfg.Progress("enrollments", i+1, len(courses))
	}
	return nil
}

func (rn *runner) legacyCourse(ctx context.Context, courseID string, d calendar.Date) error {
	enrollments, err := rn.lms.CourseEnrollments(ctx, courseID)
	if err != nil {
		return err
	}
	if len(enrollments) == 0 {
		return nil
	}
	o, ok := rn.scope.Outlines[courseID]
	if !ok {
		return errNoOutline(courseID)
	}
	calc := progress.New(o)
	sites := rn.scope.CourseSites[courseID]
	for _, e := range enrollments {
		if err := ctx.Err(); err != nil {
			return err
		}
		rn.rep.EnrollmentsExamined++
		if err := rn.legacyEnrollment(ctx, calc, e, sites, d); err != nil {
			rn.recordError(ctx, store.PipelineError{ErrorType: store.ErrorGrades, CourseID: courseID, UserID: e.UserID}, err)
		}
	}
	return nil
}

func (rn *runner) legacyEnrollment(ctx context.Context, calc *progress.Calculator, e lms.Enrollment, sites []int, d calendar.Date) error {
	modules, err := rn.lms.EnrollmentModules(ctx, e.UserID, e.CourseID)
	if err != nil {
		return err
	}
	if len(modules) == 0 {
		// No StudentModule row: nothing to measure, as in the original.
		return nil
	}
	newest := modules[0].Modified
	for _, m := range modules[1:] {
		if m.Modified.After(newest) {
			newest = m.Modified
		}
	}
	newestDay := calendar.Of(newest)
	var learner *progress.Learner
	var res progress.Result
	var elapsed float64
	updated := false
	for _, site := range sites {
		latest, err := rn.st.LatestGradeMetrics(ctx, site, e.UserID, e.CourseID)
		if err != nil {
			return err
		}
		if latest != nil && !latest.DateFor.Before(newestDay) {
			continue
		}
		if learner == nil {
			t0 := time.Now()
			if learner, err = rn.lms.LearnerGrades(ctx, rn.cfg.Grades, rn.scope.Outlines[e.CourseID], e.UserID, modules); err != nil {
				return err
			}
			if res, err = compute(calc, rn.cfg.Grades, learner); err != nil {
				return err
			}
			elapsed = time.Since(t0).Seconds()
		}
		ed := enrollmentData(site, e, d, res, elapsed)
		gm := gradeMetrics(site, e.UserID, e.CourseID, d, res, elapsed)
		if err := rn.st.SaveProgress(ctx, []store.EnrollmentData{ed}, []store.GradeMetrics{gm}); err != nil {
			return err
		}
		if !updated {
			reason := fmt.Sprintf("newest StudentModule activity on %s and no snapshot yet", newestDay)
			if latest != nil {
				reason = fmt.Sprintf("newest StudentModule activity on %s, after its latest snapshot of %s", newestDay, latest.DateFor)
			}
			rn.rep.Touched = append(rn.rep.Touched, Touched{Pair: lms.Pair{CourseID: e.CourseID, UserID: e.UserID}, Reason: reason})
			rn.rep.EnrollmentsUpdated++
			updated = true
		}
	}
	return nil
}
