package pipeline

import (
	"context"
	"fmt"
	"sort"
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
	if rn.cfg.LegacySample > 0 {
		return rn.legacySample(ctx, d)
	}
	if rn.cfg.Distributor != nil {
		if err := rn.prepareViews(ctx, nil); err != nil {
			return err
		}
		return rn.distributeLegacy(ctx)
	}
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
	if _, ok := rn.scope.Outlines[courseID]; !ok {
		return errNoOutline(courseID)
	}
	v, facts, err := rn.legacyView(ctx, courseID, enrollments)
	if err != nil {
		return err
	}
	sites := rn.scope.CourseSites[courseID]
	for _, e := range enrollments {
		if err := ctx.Err(); err != nil {
			return err
		}
		rn.rep.EnrollmentsExamined++
		if err := rn.legacyEnrollment(ctx, v, facts, e, sites, d); err != nil {
			rn.recordError(ctx, store.PipelineError{ErrorType: store.ErrorGrades, CourseID: courseID, UserID: e.UserID}, err)
		}
	}
	return nil
}

// legacyView returns a course's view and the LMS facts its enrollments'
// signatures need.
func (rn *runner) legacyView(ctx context.Context, courseID string, enrollments []lms.Enrollment) (*courseView, courseFacts, error) {
	if err := rn.prepareViews(ctx, []string{courseID}); err != nil {
		return nil, courseFacts{}, err
	}
	v := rn.views[courseID]
	users := make([]int, 0, len(enrollments))
	for _, e := range enrollments {
		users = append(users, e.UserID)
	}
	sort.Ints(users)
	facts, err := rn.courseFactsFor(ctx, v, users)
	return v, facts, err
}

func (rn *runner) legacyEnrollment(ctx context.Context, v *courseView, facts courseFacts, e lms.Enrollment, sites []int, d calendar.Date) error {
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
	var estimate string
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
			calc, reasons := rn.learnerCalculator(v, facts, e, true, rn.asOf)
			if res, err = compute(calc, rn.cfg.Grades, learner); err != nil {
				return err
			}
			estimate = estimateText(reasons, res)
			elapsed = time.Since(t0).Seconds()
		}
		ed := enrollmentData(site, e, d, res, estimate, elapsed)
		gm := gradeMetrics(site, e.UserID, e.CourseID, d, res, estimate, elapsed)
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
			if estimate != "" {
				rn.rep.Estimated++
			}
			updated = true
		}
	}
	return nil
}

// legacySample is the legacy sweep limited to a deterministic random
// sample of the scope's enrollments (Config.LegacySample), for the
// benchmark: it lists every course's enrollments as the full sweep does
// (stage "legacy-list"), then examines the sampled ones exactly as the full
// sweep would (stage "legacy-sample"), so the full sweep's cost is the
// list's plus the sample's scaled by population / sample.
func (rn *runner) legacySample(ctx context.Context, d calendar.Date) error {
	var all []lms.Enrollment
	failed := map[string]bool{}
	if err := rn.stage("legacy-list", func() error {
		for _, c := range rn.scope.CourseIDs() {
			if err := ctx.Err(); err != nil {
				return err
			}
			es, err := rn.lms.CourseEnrollments(ctx, c)
			if err != nil {
				failed[c] = true
				rn.recordError(ctx, store.PipelineError{ErrorType: store.ErrorCourse, CourseID: c,
					Data: map[string]any{"stage": "enrollments", "workflow": "legacy"}}, err)
				continue
			}
			all = append(all, es...)
		}
		return nil
	}); err != nil {
		return err
	}
	rn.rep.LegacyPopulation = len(all)
	sample := sampleEnrollments(all, rn.cfg.LegacySample)
	return rn.stage("legacy-sample", func() error {
		// The sample is in course order: each course's view and facts are
		// read when its first sampled enrollment comes.
		var v *courseView
		var facts courseFacts
		for i, e := range sample {
			if err := ctx.Err(); err != nil {
				return err
			}
			if v == nil || v.o.CourseID != e.CourseID {
				v = nil
				if _, has := rn.scope.Outlines[e.CourseID]; !has {
					// As in the full sweep, a course without an outline
					// fails once, before its enrollments are examined.
					if !failed[e.CourseID] {
						failed[e.CourseID] = true
						rn.recordError(ctx, store.PipelineError{ErrorType: store.ErrorCourse, CourseID: e.CourseID,
							Data: map[string]any{"stage": "enrollments", "workflow": "legacy"}}, errNoOutline(e.CourseID))
					}
					continue
				}
				var of []lms.Enrollment
				for _, x := range sample {
					if x.CourseID == e.CourseID {
						of = append(of, x)
					}
				}
				var err error
				if v, facts, err = rn.legacyView(ctx, e.CourseID, of); err != nil {
					return err
				}
			}
			rn.rep.EnrollmentsExamined++
			if err := rn.legacyEnrollment(ctx, v, facts, e, rn.scope.CourseSites[e.CourseID], d); err != nil {
				rn.recordError(ctx, store.PipelineError{ErrorType: store.ErrorGrades, CourseID: e.CourseID, UserID: e.UserID}, err)
			}
			rn.cfg.Progress("enrollments", i+1, len(sample))
		}
		return nil
	})
}

// sampleEnrollments returns a deterministic random sample of n
// enrollments: those whose ids hash lowest, in course and id order. The
// same enrollments give the same sample whatever their order, and a
// larger n gives a superset of a smaller one's sample.
func sampleEnrollments(all []lms.Enrollment, n int) []lms.Enrollment {
	if n >= len(all) {
		out := append([]lms.Enrollment(nil), all...)
		sortEnrollments(out)
		return out
	}
	if n <= 0 {
		return nil
	}
	type keyed struct {
		h uint64
		e lms.Enrollment
	}
	ks := make([]keyed, len(all))
	for i, e := range all {
		ks[i] = keyed{mix64(uint64(e.ID)), e}
	}
	sort.Slice(ks, func(i, j int) bool {
		if ks[i].h != ks[j].h {
			return ks[i].h < ks[j].h
		}
		return ks[i].e.ID < ks[j].e.ID
	})
	out := make([]lms.Enrollment, n)
	for i := range out {
		out[i] = ks[i].e
	}
	sortEnrollments(out)
	return out
}

func sortEnrollments(es []lms.Enrollment) {
	sort.Slice(es, func(i, j int) bool {
		if es[i].CourseID != es[j].CourseID {
			return es[i].CourseID < es[j].CourseID
		}
		return es[i].ID < es[j].ID
	})
}

// mix64 is SplitMix64's finalizer: a bijection on uint64 that scatters
// consecutive ids uniformly, so the lowest hashes are a uniform sample.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
