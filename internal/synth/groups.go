package synth

import (
	"sort"
	"time"

	"github.com/figures-analytics/figures/internal/course"
	"github.com/figures-analytics/figures/internal/lms"
	"github.com/figures-analytics/figures/internal/progress"
)

// featuresOf returns generated course i's visibility features: in turn a
// cohorted course with content groups, a course with a verified-only unit,
// one with a content experiment and a plain one; every third course
// releases a subsection during the history and opens early (7 days) to
// beta testers; every course holds back a last subsection until ten years
// after the history.
func (p *plan) featuresOf(i int) courseFeatures {
	return featuresFor(i, time.UnixMicro(dayStart(p.firstDay+int64(p.opts.days()/3))+14*3600*1_000_000).UTC(),
		time.UnixMicro(dayStart(p.endDay+3650)+9*3600*1_000_000).UTC())
}

// featuresFor is featuresOf with the release times given.
func featuresFor(i int, release, later time.Time) courseFeatures {
	f := courseFeatures{Later: later}
	switch i % 4 {
	case 0:
		f.Cohorts = true
	case 1:
		f.Track = true
	case 2:
		f.Experiment = true
	}
	if i%3 == 0 {
		f.Release, f.BetaDays = &release, 7
	}
	return f
}

// courseModes are the modes every synthetic course offers: every mode a
// learner enrolls in.
var courseModes = func() []string {
	out := make([]string, len(modes))
	for i, m := range modes {
		out[i] = m.name
	}
	sort.Strings(out)
	return out
}()

// cohortSpecs are a cohorted course's cohorts, in id order: two manual
// cohorts for the content groups, and two random cohorts, one per group,
// that the platform draws from for a learner in no cohort.
var cohortSpecs = []struct {
	name   string
	random bool
	group  int
}{{"Group A", false, 1}, {"Group B", false, 2}, {"Pool A", true, 1}, {"Pool B", true, 2}}

// enrollmentGroups are the LMS facts that place an enrollment in groups:
// its cohort membership and pre-registration (index+1 into cohortSpecs, 0
// for none) and its experiment group (-1 for none recorded).
type enrollmentGroups struct {
	cohort, prereg int8
	tag            int8
}

// planGroups draws each enrollment's cohort (most learners of a cohorted
// course are in a content-group cohort, some in a random one, the rest in
// none: a few of those pre-registered), experiment group (most recorded)
// and, in courses that open early to them, the few beta testers; then it
// numbers the cohorts and gives every course the LMS facts its learners'
// signatures are computed from.
func (p *plan) planGroups() {
	for i := range p.enrolls {
		e := &p.enrolls[i]
		e.groups.tag = -1
		c := p.courses[e.course]
		if c.gen == nil {
			continue
		}
		f := c.gen.Features
		r := streamOf(p.opts.Seed, streamGroups, uint64(e.user)<<16|uint64(e.course))
		if f.Cohorts {
			switch x := r.Float64(); {
			case x < 0.7:
				e.groups.cohort = int8(1 + r.IntN(2))
			case x < 0.75:
				e.groups.cohort = int8(3 + r.IntN(2))
			case x < 0.8:
				e.groups.prereg = 2
			}
		}
		if f.Experiment && r.chance(0.85) {
			e.groups.tag = int8(r.IntN(2))
		}
		if f.BetaDays > 0 && e.enrolled && r.chance(0.03) {
			p.roles = append(p.roles, role{user: e.user, org: c.org, courseID: c.id, role: "beta_testers"})
		}
	}
	p.roles = dedupRoles(p.roles)
	id := 0
	for _, c := range p.courses {
		c.groups = &lms.CourseGroups{Modes: courseModes, Cohorts: map[int]lms.Cohort{}}
		if c.gen == nil || !c.gen.Features.Cohorts {
			continue
		}
		// Every other cohorted course has a settings row; the others are
		// cohorted by their policy's cohort_config alone.
		if c.idx%2 == 0 {
			t := true
			c.groups.Cohorted = &t
		}
		for _, cs := range cohortSpecs {
			id++
			c.cohortIDs = append(c.cohortIDs, id)
			c.groups.Cohorts[id] = lms.Cohort{ID: id, Random: cs.random, Partition: contentGroups, Group: cs.group, Mapped: true}
			if cs.random {
				c.groups.Random = append(c.groups.Random, id)
			}
		}
	}
	p.access = map[int32]*lms.UserAccess{}
	for i := range p.users {
		u := &p.users[i]
		if u.kind == userAdmin || u.kind == userGlobalStaff {
			p.access[u.id] = &lms.UserAccess{IsStaff: true}
		}
	}
	for _, r := range p.roles {
		a := p.access[r.user]
		if a == nil {
			a = &lms.UserAccess{}
			p.access[r.user] = a
		}
		a.Roles = append(a.Roles, lms.AccessRole{Org: r.org, CourseID: r.courseID, Role: r.role})
	}
}

// signature returns the enrollment's learner signature in its course, as
// the pipeline computes it from the rows the generator writes (the same
// function on the same facts), and whether it is an estimate.
func (p *plan) signature(e *enrollment, c *courseModel) (course.Learner, bool) {
	f := lms.LearnerFacts{User: p.access[e.user], Enrolled: e.enrolled,
		Enrollment: lms.Enrollment{UserID: int(e.user), CourseID: c.id, IsActive: e.active, Mode: modes[e.mode].name}}
	if f.User == nil {
		f.User = &lms.UserAccess{}
	}
	if e.groups.cohort > 0 {
		f.Cohort, f.HasCohort = c.cohortIDs[e.groups.cohort-1], true
	}
	if e.groups.prereg > 0 {
		f.PreRegistered, f.HasPreRegistration = c.cohortIDs[e.groups.prereg-1], true
	}
	if e.groups.tag >= 0 {
		f.Tags = map[int]string{experiment: string(rune('0' + e.groups.tag))}
	}
	l, estimates := lms.Signature(c.outline, c.key, c.groups, f, c.restricted)
	return l, len(estimates) > 0
}

// structure is one learner signature's view of a course: the learner's
// outline when the pipeline runs (the generator takes the day after the
// history: no content opens between then and any run), its calculator,
// and what the simulation needs to know which blocks the learner may open
// at a given time.
type structure struct {
	outline *course.Outline
	calc    *progress.Calculator
	learner course.Learner
	// early is how much earlier content opens for this learner (beta
	// testers), in microseconds.
	early int64
}

// structureOf returns (and caches) the structure of a signature.
func (c *courseModel) structureOf(l course.Learner, at int64) *structure {
	sig := c.outline.Signature(l, c.restricted)
	if st, ok := c.structures[sig]; ok {
		return st
	}
	o := c.outline.ForLearner(l, time.UnixMicro(at).UTC())
	st := &structure{outline: o, calc: progress.New(o), learner: l}
	if l.Beta && c.outline.DaysEarlyForBeta != nil {
		st.early = int64(*c.outline.DaysEarlyForBeta * float64(dayMicros))
	}
	if c.structures == nil {
		c.structures = map[string]*structure{}
	}
	c.structures[sig] = st
	return st
}

// sees reports whether the learner may open a block of the given access at
// time t (microseconds): the rules of course.Outline.ForLearner at that
// time.
func (st *structure) sees(c *courseModel, acc int32, t int64) bool {
	if st.learner.Staff {
		return true
	}
	a := &c.accesses[acc]
	if a.StaffOnly {
		return false
	}
	if a.Start != nil && !c.outline.SelfPaced && t <= a.Start.UnixMicro()-st.early {
		return false
	}
	for _, r := range a.Groups {
		g, ok := st.learner.Groups[r.Partition]
		if !ok || !containsGroup(r.Groups, g) {
			return false
		}
	}
	return true
}

func containsGroup(gs []int, g int) bool {
	for _, x := range gs {
		if x == g {
			return true
		}
	}
	return false
}

// writeGroups writes the courses' modes and cohorts, cohort settings,
// memberships, pre-registrations and experiment tags.
func (g *generator) writeGroups() error {
	t := &g.tables
	var modeID, groupID, settingsID, memberID, preID, tagID int64
	for _, c := range g.p.courses {
		for _, m := range c.groups.Modes {
			modeID++
			t.mode.int(modeID).str(c.id).str(m).str(m).int(0).str("usd").null().null().str("").null().null().bool(false).null().null().null()
			if err := t.mode.end(); err != nil {
				return err
			}
		}
		if c.groups.Cohorted != nil {
			settingsID++
			t.settings.int(settingsID).bool(*c.groups.Cohorted).str(c.id).null().bool(false)
			if err := t.settings.end(); err != nil {
				return err
			}
		}
		for k, id := range c.cohortIDs {
			cs := cohortSpecs[k]
			groupID++
			t.cohortGroup.int(int64(id)).str(cs.name).str(c.id).str("cohort")
			if err := t.cohortGroup.end(); err != nil {
				return err
			}
			kind := "manual"
			if cs.random {
				kind = "random"
			}
			t.cohort.int(int64(id)).str(kind).int(int64(id))
			if err := t.cohort.end(); err != nil {
				return err
			}
			t.partitionGroup.int(int64(id)).int(contentGroups).int(int64(cs.group)).time(c.published).time(c.published).int(int64(id))
			if err := t.partitionGroup.end(); err != nil {
				return err
			}
		}
	}
	for i := range g.p.enrolls {
		e := &g.p.enrolls[i]
		c := g.p.courses[e.course]
		if e.groups.cohort > 0 {
			memberID++
			t.membership.int(memberID).str(c.id).int(int64(c.cohortIDs[e.groups.cohort-1])).int(int64(e.user))
			if err := t.membership.end(); err != nil {
				return err
			}
		}
		if e.groups.prereg > 0 {
			preID++
			pe, _ := g.personOf(&g.p.users[e.user-1])
			t.prereg.int(preID).str(pe.username + "@example.com").str(c.id).int(int64(c.cohortIDs[e.groups.prereg-1]))
			if err := t.prereg.end(); err != nil {
				return err
			}
		}
		if e.groups.tag >= 0 {
			tagID++
			t.tag.int(tagID).str("xblock.partition_service.partition_20").str(c.id).str(string(rune('0' + e.groups.tag))).int(int64(e.user))
			if err := t.tag.end(); err != nil {
				return err
			}
		}
	}
	_ = groupID
	return nil
}
