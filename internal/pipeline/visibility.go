package pipeline

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/figures-analytics/figures/internal/course"
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

// courseFacts are the LMS facts the learners' signatures need, read for
// all the learners and courses of a run's work at once (runFacts); nil
// maps when no course needs them.
type courseFacts struct {
	groups  map[string]*lms.CourseGroups
	users   map[int]*lms.UserAccess
	cohorts map[lms.Pair]int
	prereg  map[lms.PreRegistration]int
	tags    map[lms.Pair]map[int]string
}

// runFacts reads, for all the learners and courses of a run's work at
// once, what their signatures need, set-based: the learners' staff flags,
// emails and roles; the courses' modes and cohorts; and, where a course
// needs them, the learners' cohort memberships, experiment tags and cohort
// pre-registrations. A few statements per run, whatever the number of
// courses.
func (rn *runner) runFacts(ctx context.Context, views map[string]*courseView, w work) (courseFacts, error) {
	var f courseFacts
	var users, cohortUsers, tagUsers []int
	var modeCourses, cohortCourses []string
	seen, seenC, seenT := map[int]bool{}, map[int]bool{}, map[int]bool{}
	for c, us := range w {
		v := views[c]
		if v == nil || v.open {
			continue
		}
		if v.modes {
			modeCourses = append(modeCourses, c)
		}
		if v.cohorts {
			cohortCourses = append(cohortCourses, c)
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
			if v.tags && !seenT[u] {
				seenT[u] = true
				tagUsers = append(tagUsers, u)
			}
		}
	}
	if len(users) == 0 {
		return f, nil
	}
	for _, l := range [][]int{users, cohortUsers, tagUsers} {
		sort.Ints(l)
	}
	sort.Strings(modeCourses)
	sort.Strings(cohortCourses)
	var err error
	if f.users, err = rn.lms.UsersAccess(ctx, users); err != nil {
		return f, err
	}
	if f.groups, err = rn.lms.ReadCourseGroups(ctx, modeCourses, cohortCourses); err != nil {
		return f, err
	}
	if len(cohortUsers) > 0 {
		if f.cohorts, err = rn.lms.CohortMemberships(ctx, cohortUsers); err != nil {
			return f, err
		}
		// Pre-registrations matter only to a learner in no cohort of a
		// cohorted course that has cohorts.
		var emails []string
		seenE := map[string]bool{}
		for _, c := range cohortCourses {
			if len(f.groups[c].Cohorts) == 0 {
				continue
			}
			for u := range w[c] {
				if _, in := f.cohorts[lms.Pair{CourseID: c, UserID: u}]; in {
					continue
				}
				if ua := f.users[u]; ua != nil && ua.Email != "" && !seenE[ua.Email] {
					seenE[ua.Email] = true
					emails = append(emails, ua.Email)
				}
			}
		}
		sort.Strings(emails)
		if len(emails) > 0 {
			if f.prereg, err = rn.lms.PreRegistrations(ctx, emails); err != nil {
				return f, err
			}
		}
	}
	if len(tagUsers) > 0 {
		if f.tags, err = rn.lms.ExperimentTags(ctx, tagUsers); err != nil {
			return f, err
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
	facts := lms.LearnerFacts{User: f.users[e.UserID], Enrollment: e, Enrolled: enrolled, Tags: f.tags[p]}
	facts.Cohort, facts.HasCohort = f.cohorts[p]
	if facts.User != nil && facts.User.Email != "" {
		facts.PreRegistered, facts.HasPreRegistration = f.prereg[lms.PreRegistration{CourseID: v.o.CourseID, Email: facts.User.Email}]
	}
	l, estimates := lms.Signature(v.o, v.key, f.groups[v.o.CourseID], facts, v.restricted)
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
	if v.open || len(users) == 0 {
		return courseFacts{}, nil
	}
	w := work{v.o.CourseID: {}}
	for _, u := range users {
		w[v.o.CourseID][u] = label{}
	}
	return rn.runFacts(ctx, map[string]*courseView{v.o.CourseID: v}, w)
}
