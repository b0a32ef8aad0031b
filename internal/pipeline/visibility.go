package pipeline

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/figures-analytics/figures/internal/course"
	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/lms"
	"github.com/figures-analytics/figures/internal/progress"
)

// courseView is what the enrollment stage keeps per course for a run:
// the outline, what its learners' structures depend on, and one progress
// calculator per learner signature (course.Outline.Signature), built on
// first use: learners who share a signature share a structure.
type courseView struct {
	o   *course.Outline
	key course.Key
	// restricted are the partitions some block is restricted on.
	restricted []int
	// open says every learner, staff or not, sees the whole outline: an
	// older outline without access data, or a started course without any
	// restriction. No LMS facts are read for such a course.
	open bool
	// modes, cohorts and tags say which LMS facts the signatures need.
	modes, cohorts, tags bool
	calcs                map[string]*progress.Calculator
}

// newCourseView prepares a course's view at time asOf.
func newCourseView(o *course.Outline, asOf time.Time) *courseView {
	v := &courseView{o: o, calcs: map[string]*progress.Calculator{}}
	v.key, _ = course.ParseKey(o.CourseID)
	if o.Structure < course.StructureVersion {
		v.open = true
		return v
	}
	v.restricted = o.RestrictedPartitions()
	v.open = asOf.After(o.CourseStart()) && !o.HasRestrictions()
	for _, p := range v.restricted {
		part, static := o.Partition(p)
		switch {
		case p == course.EnrollmentTrackPartition && !static:
			v.modes = true
		case static && part.Scheme == "cohort":
			v.cohorts = true
		case static && part.Scheme == "random":
			v.tags = true
		}
	}
	return v
}

// calculator returns the calculator of a learner's structure.
func (v *courseView) calculator(l course.Learner, asOf time.Time) *progress.Calculator {
	sig := v.o.Signature(l, v.restricted)
	c, ok := v.calcs[sig]
	if !ok {
		c = progress.New(v.o.ForLearner(l, asOf))
		v.calcs[sig] = c
	}
	return c
}

// courseFacts are the LMS facts a batch of a course's learners' signatures
// need; nil maps when the course needs none of them.
type courseFacts struct {
	groups *lms.CourseGroups
	// users and cohorts are shared by every course of the run (read once
	// for all the run's learners).
	users   map[int]*lms.UserAccess
	cohorts map[lms.Pair]int
	prereg  map[string]int
	tags    map[int]map[int]string
}

// runFacts reads, for all the learners of a run's work at once, what every
// course's signatures need: their staff flags, emails and roles, and their
// cohort memberships (only when some course needs them).
func (rn *runner) runFacts(ctx context.Context, views map[string]*courseView, w work) (map[int]*lms.UserAccess, map[lms.Pair]int, error) {
	var users, cohortUsers []int
	seen, seenC := map[int]bool{}, map[int]bool{}
	for c, us := range w {
		v := views[c]
		if v == nil || v.open {
			continue
		}
		for u := range us {
			if !seen[u] {
				seen[u] = true
				users = append(users, u)
			}
			if v.cohorts && !seenC[u] {
				seenC[u] = true
				cohortUsers = append(cohortUsers, u)
			}
		}
	}
	sort.Ints(users)
	sort.Ints(cohortUsers)
	var access map[int]*lms.UserAccess
	var memberships map[lms.Pair]int
	var err error
	if len(users) > 0 {
		if access, err = rn.lms.UsersAccess(ctx, users); err != nil {
			return nil, nil, err
		}
	}
	if len(cohortUsers) > 0 {
		if memberships, err = rn.lms.CohortMemberships(ctx, cohortUsers); err != nil {
			return nil, nil, err
		}
	}
	return access, memberships, nil
}

// batchFacts reads what one batch of a course's learners needs beyond the
// run's facts: the course's modes and cohorts (groups, read once per course
// by the caller and passed in when already known), experiment tags and
// cohort pre-registrations.
func (rn *runner) batchFacts(ctx context.Context, v *courseView, groups *lms.CourseGroups, batch []int, f courseFacts) (courseFacts, error) {
	if v.open {
		return f, nil
	}
	var err error
	f.groups = groups
	if f.groups == nil && (v.modes || v.cohorts) {
		if f.groups, err = rn.lms.ReadCourseGroups(ctx, v.o.CourseID, v.modes, v.cohorts); err != nil {
			return f, err
		}
	}
	if v.tags {
		if f.tags, err = rn.lms.ExperimentTags(ctx, v.o.CourseID, batch); err != nil {
			return f, err
		}
	}
	if v.cohorts && f.groups != nil && len(f.groups.Cohorts) > 0 {
		var emails []string
		for _, u := range batch {
			if _, in := f.cohorts[lms.Pair{CourseID: v.o.CourseID, UserID: u}]; !in {
				if ua := f.users[u]; ua != nil && ua.Email != "" {
					emails = append(emails, ua.Email)
				}
			}
		}
		if len(emails) > 0 {
			sort.Strings(emails)
			if f.prereg, err = rn.lms.PreRegistrations(ctx, v.o.CourseID, emails); err != nil {
				return f, err
			}
		}
	}
	return f, nil
}

// learnerCalculator returns the calculator of one learner's structure and
// the reasons (lms.Estimate*) the platform would draw part of it at
// random.
func (rn *runner) learnerCalculator(v *courseView, f courseFacts, e lms.Enrollment, enrolled bool, asOf time.Time) (*progress.Calculator, []string) {
	if v.open {
		return v.calculator(course.Learner{}, asOf), nil
	}
	p := lms.Pair{CourseID: v.o.CourseID, UserID: e.UserID}
	facts := lms.LearnerFacts{User: f.users[e.UserID], Enrollment: e, Enrolled: enrolled, Tags: f.tags[e.UserID]}
	facts.Cohort, facts.HasCohort = f.cohorts[p]
	if facts.User != nil && facts.User.Email != "" {
		facts.PreRegistered, facts.HasPreRegistration = f.prereg[facts.User.Email]
	}
	l, estimates := lms.Signature(v.o, v.key, f.groups, facts, v.restricted)
	return v.calculator(l, asOf), estimates
}

// estimateText joins a result's estimate reasons ("" for an exact result),
// in a fixed order.
func estimateText(reasons []string, r progress.Result) string {
	if r.LibraryEstimate {
		reasons = append(append([]string(nil), reasons...), lms.EstimateLibrary)
	}
	if len(reasons) == 0 {
		return ""
	}
	sort.Strings(reasons)
	return strings.Join(reasons, ",")
}

// prepareViews sets the run's visibility time on first use and builds the
// views of the given courses that have an outline and none yet. It runs
// before any goroutine reads the views: afterwards the reader only reads
// them, and only the computing goroutine adds calculators.
func (rn *runner) prepareViews(ctx context.Context, courses []string) error {
	if rn.asOf.IsZero() {
		switch {
		case !rn.cfg.AsOf.IsZero():
			rn.asOf = rn.cfg.AsOf
		case rn.cfg.lmsClock:
			t, err := rn.lms.Now(ctx)
			if err != nil {
				return err
			}
			rn.asOf = t
		default:
			rn.asOf = rn.cfg.Now().UTC()
		}
	}
	if rn.views == nil {
		rn.views = map[string]*courseView{}
	}
	for _, c := range courses {
		if _, done := rn.views[c]; done {
			continue
		}
		o := rn.scope.Outlines[c]
		if o == nil {
			continue
		}
		if o.Structure < course.StructureVersion {
			rn.cfg.Log.Warn("course outline imported by an older figures: release dates, staff-only content, groups and tracks are not applied to its learners; re-import the course", "course", c)
		}
		rn.views[c] = newCourseView(o, rn.asOf)
	}
	return nil
}

// courseFactsFor reads everything a set of a course's learners'
// signatures need, set-based, for the legacy workflow (which meets the
// course's enrollments one course at a time).
func (rn *runner) courseFactsFor(ctx context.Context, v *courseView, users []int) (courseFacts, error) {
	var f courseFacts
	if v.open || len(users) == 0 {
		return f, nil
	}
	w := work{v.o.CourseID: {}}
	for _, u := range users {
		w[v.o.CourseID][u] = label{}
	}
	var err error
	if f.users, f.cohorts, err = rn.runFacts(ctx, map[string]*courseView{v.o.CourseID: v}, w); err != nil {
		return f, err
	}
	all := courseFacts{users: f.users, cohorts: f.cohorts, prereg: map[string]int{}, tags: map[int]map[int]string{}}
	for _, batch := range database.Batches(users, lms.MaxInList) {
		bf, err := rn.batchFacts(ctx, v, all.groups, batch, f)
		if err != nil {
			return f, err
		}
		all.groups = bf.groups
		for k, g := range bf.prereg {
			all.prereg[k] = g
		}
		for u, t := range bf.tags {
			all.tags[u] = t
		}
	}
	return all, nil
}
