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

// dayActivity is one UTC day's StudentModule activity in the run's scope.
type dayActivity struct {
	date calendar.Date
	// modified holds, per course, the learners with a row modified on the
	// day: the day's active learners.
	modified map[string]map[int]time.Time
	// selected holds, per course, the learners with a row created or
	// modified on the day: the enrollments the next workflow recomputes.
	selected map[string]map[int]time.Time
}

// readDay reads a day's activity with one range scan of StudentModule on
// modified and one on created, over all courses; courses out of scope are
// dropped here, in Go.
func (rn *runner) readDay(ctx context.Context, d calendar.Date) (*dayActivity, error) {
	day := &dayActivity{date: d, modified: map[string]map[int]time.Time{}, selected: map[string]map[int]time.Time{}}
	err := rn.stage("activity", func() error {
		mod, err := rn.lms.ModifiedBetween(ctx, d.Start(), d.End())
		if err != nil {
			return err
		}
		cre, err := rn.lms.CreatedBetween(ctx, d.Start(), d.End())
		if err != nil {
			return err
		}
		add := func(m map[string]map[int]time.Time, a lms.Activity) {
			if _, ok := rn.scope.CourseSites[a.CourseID]; !ok {
				return
			}
			if m[a.CourseID] == nil {
				m[a.CourseID] = map[int]time.Time{}
			}
			if t, ok := m[a.CourseID][a.UserID]; !ok || a.Last.After(t) {
				m[a.CourseID][a.UserID] = a.Last
			}
		}
		for _, a := range mod {
			add(day.modified, a)
			add(day.selected, a)
		}
		for _, a := range cre {
			add(day.selected, a)
		}
		return nil
	})
	return day, err
}

// work is a set of enrollments to recompute: per course, per learner, the
// day its snapshot is labelled with and why it was selected.
type work map[string]map[int]label

type label struct {
	day    calendar.Date
	reason string
}

// next recomputes the enrollments with activity on the day.
func (rn *runner) next(ctx context.Context, day *dayActivity) error {
	w := work{}
	reason := "StudentModule row created or modified on " + day.date.String()
	for c, users := range day.selected {
		w[c] = map[int]label{}
		for u := range users {
			w[c][u] = label{day: day.date, reason: reason}
		}
	}
	return rn.recompute(ctx, w)
}

// recompute computes the progress of a set of enrollments in batches and
// writes their enrollment data and grade metrics: per course, one query per
// table per batch of learners, never one per enrollment.
func (rn *runner) recompute(ctx context.Context, w work) error {
	var users []int
	seen := map[int]bool{}
	for _, us := range w {
		for u := range us {
			if !seen[u] {
				seen[u] = true
				users = append(users, u)
			}
		}
	}
	sort.Ints(users)
	enrollments, err := rn.lms.EnrollmentsOf(ctx, users)
	if err != nil {
		return err
	}
	byPair := map[lms.Pair]lms.Enrollment{}
	for _, e := range enrollments {
		byPair[lms.Pair{CourseID: e.CourseID, UserID: e.UserID}] = e
	}
	courses := make([]string, 0, len(w))
	for c := range w {
		courses = append(courses, c)
	}
	sort.Strings(courses)
	total := 0
	for _, c := range courses {
		total += len(w[c])
	}
	done := 0
	for _, c := range courses {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Only learners with an enrollment row are enrollments; a
		// StudentModule row alone (staff previewing, a deleted enrollment)
		// is activity, not an enrollment.
		var learners []int
		for u := range w[c] {
			if _, ok := byPair[lms.Pair{CourseID: c, UserID: u}]; ok {
				learners = append(learners, u)
			}
		}
		sort.Ints(learners)
		rn.rep.EnrollmentsExamined += len(learners)
		if err := rn.recomputeCourse(ctx, c, learners, w[c], byPair); err != nil {
			rn.recordError(ctx, store.PipelineError{ErrorType: store.ErrorCourse, CourseID: c,
				Data: map[string]any{"stage": "enrollments", "enrollments": len(learners)}}, err)
		}
		done += len(w[c])
		rn.cfg.Progress("enrollments", done, total)
	}
	return nil
}

func (rn *runner) recomputeCourse(ctx context.Context, courseID string, learners []int, labels map[int]label, byPair map[lms.Pair]lms.Enrollment) error {
	if len(learners) == 0 {
		return nil
	}
	o, ok := rn.scope.Outlines[courseID]
	if !ok {
		return errNoOutline(courseID)
	}
	calc := progress.New(o)
	sites := rn.scope.CourseSites[courseID]
	for _, batch := range chunk(learners, lms.MaxInList) {
		readStart := time.Now()
		grades, err := rn.lms.ReadGrades(ctx, rn.cfg.Grades, o, batch)
		if err != nil {
			return err
		}
		// collect_elapsed: the learner's share of the batch's reads plus
		// its own computation, in seconds.
		share := time.Since(readStart).Seconds() / float64(len(batch))
		var ed []store.EnrollmentData
		var gm []store.GradeMetrics
		var touched []Touched
		for _, u := range batch {
			t0 := time.Now()
			res, err := compute(calc, rn.cfg.Grades, grades.Learner(u))
			if err != nil {
				rn.recordError(ctx, store.PipelineError{ErrorType: store.ErrorGrades, CourseID: courseID, UserID: u}, err)
				continue
			}
			elapsed := share + time.Since(t0).Seconds()
			e := byPair[lms.Pair{CourseID: courseID, UserID: u}]
			lb := labels[u]
			for _, site := range sites {
				ed = append(ed, enrollmentData(site, e, lb.day, res, elapsed))
				gm = append(gm, gradeMetrics(site, u, courseID, lb.day, res, elapsed))
			}
			touched = append(touched, Touched{Pair: lms.Pair{CourseID: courseID, UserID: u}, Reason: lb.reason})
		}
		if err := rn.st.SaveProgress(ctx, ed, gm); err != nil {
			return err
		}
		rn.rep.Touched = append(rn.rep.Touched, touched...)
		rn.rep.EnrollmentsUpdated += len(touched)
	}
	return nil
}

// compute runs the formula, turning a panic on unexpected data into an
// error so one enrollment cannot stop its siblings.
func compute(c *progress.Calculator, src progress.Source, l *progress.Learner) (res progress.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("progress computation failed: %v", p)
		}
	}()
	return c.Compute(src, l), nil
}

func enrollmentData(site int, e lms.Enrollment, day calendar.Date, r progress.Result, elapsed float64) store.EnrollmentData {
	ed := store.EnrollmentData{SiteID: site, UserID: e.UserID, CourseID: e.CourseID, DateFor: day,
		IsEnrolled: e.IsActive, IsCompleted: r.Completed(), ProgressPercent: r.ProgressPercent(),
		PointsPossible: r.PointsPossible, PointsEarned: r.PointsEarned,
		SectionsWorked: r.SectionsWorked, SectionsPossible: r.SectionsPossible, CollectElapsed: elapsed}
	if e.Created != nil {
		ed.DateEnrolled = calendar.Of(*e.Created)
	}
	return ed
}

func gradeMetrics(site, user int, courseID string, day calendar.Date, r progress.Result, elapsed float64) store.GradeMetrics {
	return store.GradeMetrics{SiteID: site, UserID: user, CourseID: courseID, DateFor: day,
		PointsPossible: r.PointsPossible, PointsEarned: r.PointsEarned,
		SectionsWorked: r.SectionsWorked, SectionsPossible: r.SectionsPossible, CollectElapsed: elapsed}
}

func chunk(ids []int, n int) [][]int {
	var out [][]int
	for len(ids) > 0 {
		k := min(len(ids), n)
		out = append(out, ids[:k])
		ids = ids[k:]
	}
	return out
}
