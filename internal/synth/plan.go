package synth

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/figures-analytics/figures/internal/course"
	"github.com/figures-analytics/figures/internal/lms"
)

// site is a django_site with its site configuration.
type site struct {
	id             int
	domain, name   string
	orgs           []string
	filterAsString bool
}

// The sites: the default LMS site (id 1), whose org filter names the orgs
// of the two real courses, and two tenants, one filtering on a single org
// written as a string and one on a list.
func plannedSites() []site {
	return []site{
		{id: 1, domain: "lms.figures.example", name: "Figures Academy", orgs: []string{"OpenedX", "edX", "FiguresX"}},
		{id: 2, domain: "alpha.figures.example", name: "Alpha University", orgs: []string{"AlphaU"}, filterAsString: true},
		{id: 3, domain: "beta.figures.example", name: "Beta Institute", orgs: []string{"BetaInstitute", "BetaLabs"}},
	}
}

// realCourse is one of the public demo courses in the shared data folder.
type realCourse struct {
	dir, id string
}

// realCourses are the two public course exports and the keys they import
// under.
var realCourses = []realCourse{
	{dir: filepath.Join("openedx-demo-course", "course"), id: "course-v1:OpenedX+DemoX+DemoCourse"},
	{dir: filepath.Join("edx-demo-course-2014", "course"), id: "course-v1:edX+DemoX+Demo_Course"},
}

// FindSharedData returns the folder holding the real course exports: the
// FIGURES_SHARED_DATA environment variable when set, otherwise the first
// shared/data folder found next to the working directory or one of its
// ancestors (the repository lives beside it, ../shared/data). It returns ""
// when there is none.
func FindSharedData() string {
	if d := os.Getenv("FIGURES_SHARED_DATA"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		for _, cand := range []string{filepath.Join(dir, "shared", "data"), filepath.Join(dir, "..", "shared", "data")} {
			if st, err := os.Stat(filepath.Join(cand, realCourses[0].dir, "course.xml")); err == nil && !st.IsDir() {
				return filepath.Clean(cand)
			}
		}
		if filepath.Dir(dir) == dir {
			return ""
		}
	}
}

var subjects = []struct{ name, code string }{
	{"Introduction to Statistics", "STAT"}, {"Data Structures and Algorithms", "CS"},
	{"Principles of Microeconomics", "ECON"}, {"Academic Writing", "WRIT"},
	{"Calculus I", "MATH"}, {"Introduction to Psychology", "PSYC"},
	{"Climate Science", "ENVS"}, {"Project Management", "MGMT"},
	{"Cell Biology", "BIO"}, {"Spanish for Beginners", "SPAN"},
	{"Machine Learning Foundations", "ML"}, {"Public Health Essentials", "PH"},
	{"Financial Accounting", "ACCT"}, {"Digital Marketing", "MKTG"},
	{"Linear Algebra", "LINALG"}, {"World History", "HIST"},
	{"Web Development", "WEB"}, {"Organic Chemistry", "CHEM"},
	{"Philosophy of Mind", "PHIL"}, {"Cybersecurity Basics", "SEC"},
}

var modes = []struct {
	name   string
	weight float64
}{
	{"audit", 0.42}, {"honor", 0.12}, {"verified", 0.33}, {"professional", 0.04},
	{"no-id-professional", 0.03}, {"credit", 0.02}, {"masters", 0.04},
}

var modeWeights = func() []float64 {
	w := make([]float64, len(modes))
	for i, m := range modes {
		w[i] = m.weight
	}
	return w
}()

// Kinds of user account.
const (
	userLearner uint8 = iota
	userAlumnus
	userAdmin
	userGlobalStaff
	userInstructor
	userOrgStaff
)

// user is an auth_user row; the rest of its columns and its profile are
// drawn from its own stream when it is written.
type user struct {
	id     int32
	kind   uint8
	site   int
	joined int64
	// stream is the index of the user's random stream.
	stream uint64
}

// enrollment is a student_courseenrollment row, or (enrolled false) the
// activity of course staff who view a course without being enrolled.
type enrollment struct {
	id       int32
	user     int32
	course   int16
	mode     uint8
	active   bool
	enrolled bool
	alumni   bool
	sentinel uint8
	created  int64
	// groups are the enrollment's cohort, pre-registration and experiment
	// group (see planGroups).
	groups enrollmentGroups
}

// Sentinel enrollments pin activity to the end date's boundaries.
const (
	sentinelNone uint8 = iota
	// sentinelMidnight touches one row exactly at 00:00:00.000000.
	sentinelMidnight
	// sentinelLast ends a session at 23:59:59.999999.
	sentinelLast
)

// role is a student_courseaccessrole row.
type role struct {
	user     int32
	org      string
	courseID string
	role     string
}

// plan is everything but the activity: sites, courses, users, enrollments
// and roles. It is small (a few bytes per enrollment) and held in memory.
type plan struct {
	opts    Options
	sites   []site
	courses []*courseModel
	users   []user
	enrolls []enrollment
	roles   []role
	// access is what the LMS says about each user that has roles or is
	// global staff (planGroups).
	access map[int32]*lms.UserAccess
	// Day numbers (since the epoch) of the history: the base history is
	// [firstDay, endDay], the extra history of the history factor is
	// [oldestDay, firstDay).
	oldestDay, firstDay, endDay int64
	notes                       []string
}

// planCourses sets the days and the courses' sites, dates, popularity and
// policy, and writes the generated courses' OLX exports.
func (p *plan) planCourses(real []*courseModel) error {
	o := p.opts
	p.endDay = epochDay(o.EndDate)
	p.firstDay = p.endDay - int64(o.days()) + 1
	p.oldestDay = p.firstDay - int64(o.extraDays())
	p.sites = plannedSites()
	nGen := o.Scale.params().courses - len(real)
	for i, c := range real {
		c.site = 1
		c.popularity = 1 / math.Pow(float64(i+1), 0.7)
		p.courses = append(p.courses, c)
	}
	genOrgs := map[int][]string{1: {"FiguresX"}, 2: {"AlphaU"}, 3: {"BetaInstitute", "BetaLabs"}}
	perSite := map[int]int{}
	for i := 0; i < nGen; i++ {
		r := streamOf(o.Seed, streamCourse, uint64(i))
		siteID := []int{2, 3, 1}[i%3]
		orgs := genOrgs[siteID]
		org := orgs[(i/3)%len(orgs)]
		subj := subjects[i%len(subjects)]
		// Courses start before the base history (and its learners, who
		// join up to 30 days before it). Nothing drawn here depends on the
		// history factor, so the course, its key and its outline are the
		// same whatever the factor; only the overview's start moves back
		// before the extra history.
		startDay := p.firstDay - 30 - int64(r.between(7, 120))
		start := time.UnixMicro(dayStart(startDay)).UTC().Add(time.Duration(r.between(0, 23)) * time.Hour)
		run := strconv.Itoa(start.Year()) + "_T" + strconv.Itoa(int(start.Month()-1)/4+1)
		key := course.Key{Org: org, Course: subj.code + strconv.Itoa(101+i), Run: run}
		name := subj.name
		if i >= len(subjects) {
			name += " (" + strconv.Itoa(i/len(subjects)+1) + ")"
		}
		g := generateCourse(r, key, name, start, r.chance(0.5), p.featuresOf(i))
		ol := g.outline()
		c := modelFromGenerated(g, ol)
		c.site = siteID
		c.published = micros(start) - 7*dayMicros
		c.start = micros(start) - int64(o.extraDays())*dayMicros
		c.popularity = 1 / math.Pow(float64(perSite[siteID]+1), 0.8)
		perSite[siteID]++
		c.olxPath = filepath.Join(o.OLXDir, g.olxDirName())
		if err := g.writeOLX(c.olxPath); err != nil {
			return fmt.Errorf("course %s: %w", c.id, err)
		}
		switch {
		case r.chance(0.1):
			// An archived course: ended during the history; learners
			// may still open it.
			c.end = dayStart(p.firstDay+int64(r.IntN(max(1, o.days()/2)))) + 12*3600*1_000_000
		case r.chance(0.3):
			c.end = dayStart(p.endDay+int64(r.between(30, 200))) + 12*3600*1_000_000
		}
		p.courses = append(p.courses, c)
	}
	for i, c := range p.courses {
		c.idx = i
		if c.real {
			r := streamOf(o.Seed, streamCourse, 1<<32+uint64(i))
			base := dayStart(p.firstDay-30-int64(r.between(30, 120))) + 9*3600*1_000_000
			c.published = base - 7*dayMicros
			c.start = base - int64(o.extraDays())*dayMicros
			c.selfPaced = true
		}
	}
	return nil
}

// planPeople draws the accounts, enrollments and roles.
func (p *plan) planPeople() {
	o := p.opts
	siteCourses := map[int][]int{}
	for _, c := range p.courses {
		siteCourses[c.site] = append(siteCourses[c.site], c.idx)
	}
	siteWeights := make([]float64, len(p.sites))
	for i, s := range p.sites {
		siteWeights[i] = float64(len(siteCourses[s.id]))
	}

	var id int32
	next := func() int32 { id++; return id }
	// Staff accounts come first, as on a real install: the superuser,
	// two global staff, an instructor per course and org-wide staff.
	staffJoined := dayStart(p.firstDay - 400)
	p.users = append(p.users, user{id: next(), kind: userAdmin, site: 1, joined: staffJoined, stream: 1})
	for i := 0; i < 2; i++ {
		p.users = append(p.users, user{id: next(), kind: userGlobalStaff, site: 1, joined: staffJoined + int64(i+1)*dayMicros, stream: uint64(2 + i)})
	}
	instructor := make([]int32, len(p.courses))
	for _, c := range p.courses {
		u := user{id: next(), kind: userInstructor, site: c.site, joined: c.published - dayMicros, stream: uint64(100 + c.idx)}
		instructor[c.idx] = u.id
		p.users = append(p.users, u)
	}
	for _, s := range p.sites {
		u := user{id: next(), kind: userOrgStaff, site: s.id, joined: staffJoined + 10*dayMicros, stream: uint64(10 + s.id)}
		p.users = append(p.users, u)
		org := s.orgs[len(s.orgs)-1]
		p.roles = append(p.roles, role{user: u.id, org: org, role: "staff"})
	}
	p.roles = append(p.roles, role{user: 2, org: "", role: "support"})
	for _, c := range p.courses {
		p.roles = append(p.roles, role{user: instructor[c.idx], org: c.org, courseID: c.id, role: "instructor"})
		p.roles = append(p.roles, role{user: instructor[c.idx], org: c.org, courseID: c.id, role: "staff"})
	}

	byCourse := make([][]int, len(p.courses))
	addLearners := func(n int, kind uint8, stream uint64, lo, hi int64) {
		start := len(p.users)
		for i := 0; i < n; i++ {
			r := streamOf(o.Seed, stream, uint64(i))
			s := p.sites[r.weighted(siteWeights)]
			joined := lo + r.Int64N(hi-lo)
			p.users = append(p.users, user{kind: kind, site: s.id, joined: joined, stream: uint64(i)})
		}
		// Ids follow the join date, as auto-increment ids do.
		batch := p.users[start:]
		sort.SliceStable(batch, func(a, b int) bool { return batch[a].joined < batch[b].joined })
		for i := range batch {
			batch[i].id = next()
		}
		for _, u := range batch {
			r := streamOf(o.Seed, stream, 1<<40+u.stream)
			p.enrollUser(r, u, siteCourses, byCourse, hi)
		}
	}
	// Base learners join during the history, alumni (the extra history)
	// during the extra history before it, and nobody is active before
	// joining.
	endLast := dayLast(p.endDay)
	addLearners(o.Scale.params().learners, userLearner, streamUser, dayStart(p.firstDay), endLast-3600*1_000_000)
	if n := int(math.Round((o.factor() - 1) * float64(o.Scale.params().learners))); n > 0 && p.oldestDay < p.firstDay {
		addLearners(n, userAlumnus, streamAlumni, dayStart(p.oldestDay), dayStart(p.firstDay)-6*3600*1_000_000)
	}

	// Course staff among the learners (enrolled staff, whose enrollments
	// the metrics exclude), ccx coaches, and instructors who enrolled in
	// their own course or only look around in it.
	for _, c := range p.courses {
		r := streamOf(o.Seed, streamStaff, uint64(c.idx))
		learners := byCourse[c.idx]
		if len(learners) > 3 && r.chance(0.5) {
			e := &p.enrolls[learners[r.IntN(len(learners))]]
			p.roles = append(p.roles, role{user: e.user, org: c.org, courseID: c.id, role: "staff"})
		}
		if len(learners) > 3 && r.chance(0.15) {
			e := &p.enrolls[learners[r.IntN(len(learners))]]
			p.roles = append(p.roles, role{user: e.user, org: c.org, courseID: c.id, role: "ccx_coach"})
		}
		created := dayStart(p.firstDay) + r.Int64N(dayMicros*int64(max(1, o.days()/2)))
		switch {
		case r.chance(0.3):
			p.enrolls = append(p.enrolls, enrollment{user: instructor[c.idx], course: int16(c.idx), mode: 1, active: true, enrolled: true, created: created})
		case r.chance(0.6):
			p.enrolls = append(p.enrolls, enrollment{user: instructor[c.idx], course: int16(c.idx), created: created})
		}
	}
	// A global staff member enrolled in two courses: global staff are not
	// excluded from the counts.
	for i := 0; i < min(2, len(p.courses)); i++ {
		p.enrolls = append(p.enrolls, enrollment{user: 3, course: int16(i), mode: 1, active: true, enrolled: true,
			created: dayStart(p.firstDay) + int64(i+1)*3600*1_000_000})
	}
	p.roles = dedupRoles(p.roles)

	sort.SliceStable(p.enrolls, func(a, b int) bool {
		x, y := &p.enrolls[a], &p.enrolls[b]
		if x.created != y.created {
			return x.created < y.created
		}
		if x.user != y.user {
			return x.user < y.user
		}
		return x.course < y.course
	})
	var eid int32
	for i := range p.enrolls {
		if p.enrolls[i].enrolled {
			eid++
			p.enrolls[i].id = eid
		}
	}
	p.markSentinels()
}

// enrollUser draws a learner's enrollments: one to six courses of their
// site, now and then one of another site, the first soon after joining.
func (p *plan) enrollUser(r *rng, u user, siteCourses map[int][]int, byCourse [][]int, hi int64) {
	n := 1 + r.weighted([]float64{0.6, 0.25, 0.1, 0.03, 0.015, 0.005})
	pool := siteCourses[u.site]
	n = min(n, len(pool))
	chosen := map[int]bool{}
	var picks []int
	for len(picks) < n {
		w := make([]float64, len(pool))
		for i, ci := range pool {
			if !chosen[ci] {
				w[i] = p.courses[ci].popularity
			}
		}
		ci := pool[r.weighted(w)]
		chosen[ci] = true
		picks = append(picks, ci)
	}
	if r.chance(0.03) && len(p.courses) > len(pool) {
		// A learner of several sites.
		ci := r.IntN(len(p.courses))
		if !chosen[ci] && p.courses[ci].site != u.site {
			picks = append(picks, ci)
		}
	}
	for k, ci := range picks {
		created := min(hi, u.joined+int64(r.between(60, 3600))*1_000_000)
		if k > 0 {
			// Later enrollments follow weeks apart; one that would fall
			// after the history has simply not happened yet, so the
			// enrollment rate stays steady up to the end date.
			created = u.joined + int64(r.geometric(30))*dayMicros + r.Int64N(dayMicros)
			if created > hi {
				continue
			}
		}
		e := enrollment{user: u.id, course: int16(ci), mode: uint8(r.weighted(modeWeights)),
			active: !r.chance(0.07), enrolled: true, alumni: u.kind == userAlumnus, created: created}
		if u.kind == userLearner {
			byCourse[ci] = append(byCourse[ci], len(p.enrolls))
		}
		p.enrolls = append(p.enrolls, e)
	}
}

func dedupRoles(in []role) []role {
	seen := map[role]bool{}
	var out []role
	for _, r := range in {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

// markSentinels picks, in the first two courses, the earliest base
// learners enrolled at least ten days before the end date, and pins their
// end-date activity to the day's first and last microsecond, so every
// dataset has activity exactly at both day boundaries of the end date.
func (p *plan) markSentinels() {
	staff := map[int32]bool{}
	for _, r := range p.roles {
		staff[r.user] = true
	}
	limit := dayStart(p.endDay - 10)
	for ci := 0; ci < min(2, len(p.courses)); ci++ {
		want := []uint8{sentinelMidnight, sentinelLast}
		for i := range p.enrolls {
			e := &p.enrolls[i]
			if len(want) == 0 {
				break
			}
			if int(e.course) != ci || !e.enrolled || !e.active || staff[e.user] || p.users[e.user-1].kind != userLearner ||
				e.created < dayStart(p.firstDay) || e.created >= limit {
				continue
			}
			e.sentinel = want[0]
			want = want[1:]
		}
	}
}
