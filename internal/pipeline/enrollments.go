package pipeline

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/course"
	"github.com/figures-analytics/figures/internal/database"
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
	// modified on the day: the enrollments the next workflow recomputes
	// (read for next only).
	selected map[string]map[int]time.Time
}

// readDay reads a day's activity with one range scan of StudentModule on
// modified over all courses and, when selection is set (next selects the
// day's enrollments with it), the rows created in the day but modified only
// after it (see lms.CreatedModifiedLater); courses out of scope are dropped
// here, in Go.
func (rn *runner) readDay(ctx context.Context, d calendar.Date, selection bool) (*dayActivity, error) {
	day := &dayActivity{date: d, modified: map[string]map[int]time.Time{}, selected: map[string]map[int]time.Time{}}
	err := rn.stage("activity", func() error {
		mod, err := rn.lms.ModifiedBetween(ctx, d.Start(), d.End())
		if err != nil {
			return err
		}
		for _, a := range mod {
			rn.addActivity(day.modified, a)
		}
		if !selection {
			return nil
		}
		cre, err := rn.lms.CreatedModifiedLater(ctx, d.Start(), d.End())
		if err != nil {
			return err
		}
		for _, a := range mod {
			rn.addActivity(day.selected, a)
		}
		for _, a := range cre {
			rn.addActivity(day.selected, a)
		}
		return nil
	})
	return day, err
}

// addActivity records a pair's activity in m, per course and learner,
// keeping the newest time; courses out of scope are dropped.
func (rn *runner) addActivity(m map[string]map[int]time.Time, a lms.Activity) {
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

// work is a set of enrollments to recompute: per course, per learner, the
// day its snapshot is labelled with and why it was selected.
type work map[string]map[int]label

type label struct {
	day    calendar.Date
	reason string
}

// recomputeWhenLoaded is recompute once the outlines are loaded.
func (rn *runner) recomputeWhenLoaded(ctx context.Context, w work) error {
	if err := rn.scope.waitOutlines(ctx); err != nil {
		return err
	}
	rn.rep.MissingOutlines = rn.scope.missingOutlines()
	return rn.recompute(ctx, w)
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

// recompute computes the progress of a set of enrollments and writes it:
// on the workers of Config.Distributor when there is one, here otherwise.
func (rn *runner) recompute(ctx context.Context, w work) error {
	if rn.cfg.Distributor != nil {
		return rn.distributeWork(ctx, w)
	}
	return rn.recomputeHere(ctx, w)
}

// recomputeHere computes the progress of a set of enrollments in batches and
// writes their enrollment data and grade metrics: per course and batch of
// learners, one query per table, never one per enrollment; and one store
// transaction per group of up to writeGroup rows.
//
// Reading and writing overlap: a reader goroutine reads the next batches
// from the LMS while this goroutine computes and writes the ones read, so
// the LMS connection is not idle during the store's writes nor the store
// during the LMS's reads. Batches are written in course order, as read;
// everything that touches the report or the store happens in this
// goroutine.
func (rn *runner) recomputeHere(ctx context.Context, w work) error {
	var users []int
	seen := map[int]bool{}
	courses := make([]string, 0, len(w))
	total := 0
	for c, us := range w {
		courses = append(courses, c)
		total += len(us)
		for u := range us {
			if !seen[u] {
				seen[u] = true
				users = append(users, u)
			}
		}
	}
	sort.Strings(courses)
	sort.Ints(users)
	// The learners' enrollments in every course at once: a few statements
	// rather than one per course.
	began := time.Now()
	enrollments, err := rn.lms.EnrollmentsOf(ctx, users)
	if err != nil {
		return err
	}
	rn.addBusy(BusyLMSReads, time.Since(began))
	byPair := make(map[lms.Pair]lms.Enrollment, len(enrollments))
	for _, e := range enrollments {
		byPair[lms.Pair{CourseID: e.CourseID, UserID: e.UserID}] = e
	}

	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan gradeBatch, readAhead)
	go rn.readBatches(rctx, courses, w, byPair, batches)

	wr := &progressWriter{rn: rn, failed: map[string]bool{}}
	done := 0
	for {
		b, ok := wr.next(ctx, batches)
		if !ok {
			break
		}
		rn.rep.EnrollmentsExamined += len(b.learners)
		rn.addBusy(BusyLMSReads, b.read)
		if !wr.failed[b.course] {
			if b.err != nil {
				wr.fail(ctx, b.course, len(b.learners), b.err)
			} else {
				began := time.Now()
				c := rn.computeBatch(ctx, b, w[b.course])
				rn.addBusy(BusyComputation, time.Since(began))
				wr.add(ctx, c)
			}
		}
		if b.last {
			done += len(w[b.course])
			rn.cfg.Progress("enrollments", done, total)
		}
	}
	wr.flush(ctx)
	return ctx.Err()
}

// writeGroup is the most enrollment rows the writer gathers, across
// batches and courses, into one store transaction. A day's run has a few
// thousand enrollments in two hundred courses, most with a handful each:
// a transaction per batch would write the same index pages (date_for,
// course_id, ...) again for every course, one for the whole day would
// leave the store idle while the LMS is read.
const writeGroup = 1000

// computed is one batch's progress, ready to write.
type computed struct {
	course string
	// learners is the batch's size, for the error record.
	learners int
	ed       []store.EnrollmentData
	gm       []store.GradeMetrics
	touched  []Touched
}

// progressWriter gathers computed batches and writes them in groups. When
// a group's transaction fails, it writes the group's batches one by one,
// so that only the course whose rows fail is recorded as failed (with its
// later batches skipped), as if each batch had been written alone.
type progressWriter struct {
	rn      *runner
	pending []computed
	rows    int
	failed  map[string]bool
}

// next returns the next batch read. While none is ready it writes what
// it has gathered rather than wait idle: the group grows to writeGroup
// rows only while the reader keeps ahead.
func (wr *progressWriter) next(ctx context.Context, batches <-chan gradeBatch) (gradeBatch, bool) {
	select {
	case b, ok := <-batches:
		return b, ok
	default:
	}
	wr.flush(ctx)
	b, ok := <-batches
	return b, ok
}

func (wr *progressWriter) add(ctx context.Context, c computed) {
	wr.pending = append(wr.pending, c)
	wr.rows += len(c.ed)
	if wr.rows >= writeGroup {
		wr.flush(ctx)
	}
}

func (wr *progressWriter) flush(ctx context.Context) {
	group := wr.pending
	wr.pending, wr.rows = nil, 0
	if len(group) == 0 {
		return
	}
	began := time.Now()
	defer func() { wr.rn.addBusy(BusyStoreWrites, time.Since(began)) }()
	var ed []store.EnrollmentData
	var gm []store.GradeMetrics
	for _, c := range group {
		ed = append(ed, c.ed...)
		gm = append(gm, c.gm...)
	}
	err := wr.rn.st.SaveProgress(ctx, ed, gm)
	if err == nil {
		for _, c := range group {
			wr.done(c)
		}
		return
	}
	if len(group) == 1 {
		wr.fail(ctx, group[0].course, group[0].learners, err)
		return
	}
	for _, c := range group {
		if wr.failed[c.course] {
			continue
		}
		if err := wr.rn.st.SaveProgress(ctx, c.ed, c.gm); err != nil {
			wr.fail(ctx, c.course, c.learners, err)
			continue
		}
		wr.done(c)
	}
}

func (wr *progressWriter) done(c computed) {
	wr.rn.rep.Touched = append(wr.rn.rep.Touched, c.touched...)
	wr.rn.rep.EnrollmentsUpdated += len(c.touched)
}

// fail records a course as failed; its remaining batches are skipped and
// the other courses go on. enrollments is the failing batch's size.
func (wr *progressWriter) fail(ctx context.Context, courseID string, enrollments int, err error) {
	wr.failed[courseID] = true
	wr.rn.recordError(ctx, store.PipelineError{ErrorType: store.ErrorCourse, CourseID: courseID,
		Data: map[string]any{"stage": "enrollments", "enrollments": enrollments}}, err)
}

// readAhead is how many batches the reader may read ahead of the writer:
// enough to keep reading while a group of batches is written (writeGroup
// rows are often twenty courses' batches), few enough to bound memory (a
// batch holds fewer than 200 learners' grade rows).
const readAhead = 64

// gradeBatch is one batch of a course's enrollments with their grade rows.
type gradeBatch struct {
	course  string
	outline *course.Outline
	// learners are the batch's learners with an enrollment in the course,
	// sorted; byPair holds every enrollment of the run's learners.
	learners []int
	byPair   map[lms.Pair]lms.Enrollment
	grades   *lms.Grades
	// read is how long the batch's grade reads took.
	read time.Duration
	// err fails the course: no outline, or the reads failed.
	err error
	// last marks the course's last batch.
	last bool
}

// readBatches reads, course by course in the given order, the enrolled
// learners' grade rows in batches of fewer than 200, and sends them; every
// course yields at least one batch (the last marked), so the writer sees
// each course. Only learners with an enrollment row are enrollments: a
// StudentModule row alone (staff previewing, a deleted enrollment) is
// activity, not an enrollment, and a course none of whose selected
// learners is enrolled needs no outline. A failed read ends its course. It
// closes out when done or when ctx is canceled.
func (rn *runner) readBatches(ctx context.Context, courses []string, w work, byPair map[lms.Pair]lms.Enrollment, out chan<- gradeBatch) {
	defer close(out)
	send := func(b gradeBatch) bool {
		select {
		case out <- b:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for _, c := range courses {
		var learners []int
		for u := range w[c] {
			if _, ok := byPair[lms.Pair{CourseID: c, UserID: u}]; ok {
				learners = append(learners, u)
			}
		}
		sort.Ints(learners)
		parts := database.Batches(learners, lms.MaxInList)
		if len(parts) == 0 {
			parts = [][]int{nil}
		}
		for i, batch := range parts {
			if ctx.Err() != nil {
				return
			}
			b := gradeBatch{course: c, learners: batch, byPair: byPair}
			if len(batch) > 0 {
				b.outline = rn.scope.Outlines[c]
				if b.outline == nil {
					b.err = errNoOutline(c)
				} else {
					start := time.Now()
					b.grades, b.err = rn.lms.ReadGrades(ctx, rn.cfg.Grades, b.outline, batch)
					b.read = time.Since(start)
				}
			}
			b.last = i == len(parts)-1 || b.err != nil
			if !send(b) || b.err != nil {
				break
			}
		}
	}
}

// computeBatch computes a batch's progress rows for every site of the
// course. An enrollment whose computation fails is recorded and left out.
func (rn *runner) computeBatch(ctx context.Context, b gradeBatch, labels map[int]label) computed {
	c := computed{course: b.course, learners: len(b.learners)}
	if len(b.learners) == 0 {
		return c
	}
	if rn.calc == nil || rn.calcCourse != b.course {
		rn.calc, rn.calcCourse = progress.New(b.outline), b.course
	}
	calc := rn.calc
	sites := rn.scope.CourseSites[b.course]
	// collect_elapsed: the learner's share of the batch's reads plus its
	// own computation, in seconds.
	share := b.read.Seconds() / float64(len(b.learners))
	c.ed = make([]store.EnrollmentData, 0, len(b.learners)*len(sites))
	c.gm = make([]store.GradeMetrics, 0, len(b.learners)*len(sites))
	c.touched = make([]Touched, 0, len(b.learners))
	for _, u := range b.learners {
		t0 := time.Now()
		res, err := compute(calc, rn.cfg.Grades, b.grades.Learner(u))
		if err != nil {
			rn.recordError(ctx, store.PipelineError{ErrorType: store.ErrorGrades, CourseID: b.course, UserID: u}, err)
			continue
		}
		elapsed := share + time.Since(t0).Seconds()
		e := b.byPair[lms.Pair{CourseID: b.course, UserID: u}]
		lb := labels[u]
		for _, site := range sites {
			c.ed = append(c.ed, enrollmentData(site, e, lb.day, res, elapsed))
			c.gm = append(c.gm, gradeMetrics(site, u, b.course, lb.day, res, elapsed))
		}
		c.touched = append(c.touched, Touched{Pair: lms.Pair{CourseID: b.course, UserID: u}, Reason: lb.reason})
	}
	return c
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
