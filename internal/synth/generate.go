// Package synth builds a synthetic Open edX LMS: the platform tables figures
// reads (lms.CreateSchema), filled with sites, organizations, courses, users,
// enrollments, course roles, StudentModule activity, persisted grades and
// certificates that are consistent with each other, for tests, the demo and
// benchmarks.
//
// Courses are the two public demo course exports (when the shared data
// folder is present) and generated courses, each written as an OLX export so
// that `figures course import` reads back exactly the outline the activity
// was generated from. Persisted grades are computed from the StudentModule
// rows with the progress package, so the persisted and studentmodule grade
// sources agree for every learner without an override.
//
// A dataset is a pure function of its Options: every entity draws from its
// own seeded PCG stream, and no row depends on the clock or on map order.
// Rows stream to the database (LOAD DATA LOCAL INFILE on MariaDB, multi-row
// INSERTs on SQLite) while they are generated. StudentModule rows are
// written in order of creation, so ids grow with time as on a real install;
// the reorder buffer that makes this possible holds only the rows of the
// learners still active at the current enrollment date (a few percent of
// the table). The big tables' secondary indexes are dropped for the load and
// rebuilt, identical, afterwards.
package synth

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/figures-analytics/figures/internal/course"
	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/lms"
)

// Summary describes a generated dataset.
type Summary struct {
	Scale         Scale
	Seed          uint64
	EndDate       string
	Days          int
	HistoryFactor float64
	// Fingerprint identifies the dataset (see Recorded).
	Fingerprint string
	// Courses lists every course with where its OLX export is.
	Courses []CourseInfo
	// Tables are the row counts per table, in load order.
	Tables []TableCount
	// ActiveOnEndDate counts the enrollments with a StudentModule row
	// created or modified on the end date.
	ActiveOnEndDate int
	// Enrollments counts student_courseenrollment rows.
	Enrollments int
	// Method is how rows were loaded.
	Method string
	// ReorderPeak is the most StudentModule rows the generator held at
	// once while putting them in creation order.
	ReorderPeak int
	// Notes are things a person should know (real courses missing, ...).
	Notes []string
	// Generate is the time spent generating and loading rows, Indexes the
	// time spent rebuilding the deferred indexes, Total the whole run.
	Generate, Indexes, Total time.Duration
}

// CourseInfo is one course of a dataset.
type CourseInfo struct {
	ID   string
	Site int
	Real bool
	// OLX is the course's export directory (a real course's is the shared
	// data folder's).
	OLX         string
	Enrollments int
}

// TableCount is a table's row count.
type TableCount struct {
	Table string
	Rows  int64
}

// Rows returns the count of table, 0 when absent.
func (s Summary) Rows(table string) int64 {
	for _, t := range s.Tables {
		if t.Table == table {
			return t.Rows
		}
	}
	return 0
}

// ErrNotEmpty is returned when the LMS tables already hold data and
// Options.Reset is not set.
var ErrNotEmpty = errors.New("the LMS database already holds data")

// Generate creates the LMS schema in db and fills it. db must be empty (or
// opts.Reset set); the generated courses' OLX exports go to opts.OLXDir.
func Generate(ctx context.Context, db *database.DB, opts Options) (Summary, error) {
	began := time.Now()
	if err := opts.normalize(); err != nil {
		return Summary{}, err
	}
	if db.ReadOnly() {
		return Summary{}, errors.New("synthetic LMS: the database was opened read-only")
	}
	if err := prepare(ctx, db, opts.Reset); err != nil {
		return Summary{}, err
	}
	p := &plan{opts: opts}
	real, notes, err := loadRealCourses(opts.SharedData, opts.OLXDir)
	if err != nil {
		return Summary{}, err
	}
	p.notes = notes
	if err := os.MkdirAll(opts.OLXDir, 0o755); err != nil {
		return Summary{}, fmt.Errorf("OLX folder: %w", err)
	}
	opts.progress("courses", 0, 1)
	if err := p.planCourses(real); err != nil {
		return Summary{}, err
	}
	p.planPeople()
	opts.progress("courses", 1, 1)

	l, err := newLoader(ctx, db, opts.forceInsert)
	if err != nil {
		return Summary{}, err
	}
	for _, t := range []string{"courseware_studentmodule", "grades_persistentsubsectiongrade"} {
		if err := l.deferIndexes(ctx, t); err != nil {
			l.abort(err)
			return Summary{}, err
		}
	}
	g := newGenerator(p, l)
	if err := g.writeAll(); err != nil {
		l.abort(err)
		return Summary{}, err
	}
	if err := l.finish(); err != nil {
		return Summary{}, err
	}
	genDone := time.Now()
	opts.progress("indexes", 0, 1)
	if err := l.restoreIndexes(ctx); err != nil {
		return Summary{}, err
	}
	opts.progress("indexes", 1, 1)
	idxDone := time.Now()

	sum := Summary{Scale: opts.Scale, Seed: opts.Seed, EndDate: opts.EndDate.String(), Days: opts.days(),
		HistoryFactor: opts.factor(), Fingerprint: opts.fingerprint(len(real)), Method: l.method,
		Notes: p.notes, ActiveOnEndDate: g.activeOnEnd, ReorderPeak: g.reorder.peak}
	if l.note != "" {
		sum.Notes = append(sum.Notes, l.note)
	}
	for _, t := range l.tables {
		sum.Tables = append(sum.Tables, TableCount{Table: t.name, Rows: t.total})
	}
	for _, c := range p.courses {
		sum.Courses = append(sum.Courses, CourseInfo{ID: c.id, Site: c.site, Real: c.real, OLX: c.olxPath, Enrollments: g.perCourse[c.idx]})
	}
	sum.Enrollments = int(sum.Rows("student_courseenrollment"))
	if err := record(ctx, db, sum, len(real)); err != nil {
		return Summary{}, err
	}
	if err := writeManifest(opts.OLXDir, sum); err != nil {
		return Summary{}, err
	}
	sum.Generate, sum.Indexes, sum.Total = genDone.Sub(began), idxDone.Sub(genDone), time.Since(began)
	return sum, nil
}

func (o Options) progress(stage string, done, total int64) {
	if o.Progress != nil {
		o.Progress(stage, done, total)
	}
}

// prepare makes sure the platform tables exist and are empty: a database
// whose tables hold rows is refused unless reset is set.
func prepare(ctx context.Context, db *database.DB, reset bool) error {
	var full []string
	tables := append(append([]string{}, lms.Tables...), recordTable)
	for _, t := range tables {
		var one int
		err := db.SQL().QueryRowContext(ctx, "SELECT 1 FROM "+t+" LIMIT 1").Scan(&one)
		if err == nil {
			full = append(full, t)
		}
	}
	if len(full) > 0 && !reset {
		which := strings.Join(full[:min(2, len(full))], ", ")
		if len(full) > 2 {
			which += fmt.Sprintf(" and %d more tables", len(full)-2)
		}
		return fmt.Errorf("%w (%s has rows in %s): pass --reset to drop and recreate the platform tables", ErrNotEmpty, db.Location(), which)
	}
	// Empty or leftover tables are recreated, so the schema is exactly
	// lms.CreateSchema's.
	if err := lms.DropSchema(ctx, db); err != nil {
		return err
	}
	if _, err := db.SQL().ExecContext(ctx, "DROP TABLE IF EXISTS "+recordTable); err != nil {
		return fmt.Errorf("drop %s: %w", recordTable, err)
	}
	if err := lms.CreateSchema(ctx, db); err != nil {
		return err
	}
	return createRecordTable(ctx, db)
}

// loadRealCourses imports the real course exports found in dir, and copies
// each into olxDir beside the generated courses, so that the folder seed
// writes holds an export of every course it puts in the LMS.
func loadRealCourses(dir, olxDir string) ([]*courseModel, []string, error) {
	if dir == "" {
		return nil, []string{"no shared data folder (set FIGURES_SHARED_DATA or --shared-data): only synthetic courses were generated"}, nil
	}
	var out []*courseModel
	var notes []string
	for _, rc := range realCourses {
		path := filepath.Join(dir, rc.dir)
		if _, err := os.Stat(filepath.Join(path, "course.xml")); err != nil {
			notes = append(notes, fmt.Sprintf("real course %s not found at %s: a synthetic course takes its place", rc.id, path))
			continue
		}
		o, err := course.ImportOLX(path, course.ImportOptions{})
		if err != nil {
			return nil, nil, fmt.Errorf("import the real course %s: %w", path, err)
		}
		c, err := modelFromOutline(o)
		if err != nil {
			return nil, nil, fmt.Errorf("real course %s: %w", path, err)
		}
		c.olxPath = filepath.Join(olxDir, c.key.Org+"+"+c.key.Course+"+"+c.key.Run)
		if err := copyExport(path, c.olxPath); err != nil {
			return nil, nil, fmt.Errorf("real course %s: %w", path, err)
		}
		if c.policy, err = readGradingPolicy(path, c.key.Run); err != nil {
			return nil, nil, fmt.Errorf("real course %s: %w", path, err)
		}
		c.finish()
		out = append(out, c)
	}
	return out, notes, nil
}

// generator writes the plan's rows.
type generator struct {
	p      *plan
	l      *loader
	seed   uint64
	tables struct {
		site, siteConf, org, orgCourse, overview, user, profile, role, enroll *table
		sm, psg, override, pcg, cert                                          *table
	}
	perCourse   []int
	activeOnEnd int
	buf         []byte
	reorder     rowHeap
	smID        int64
	psgID       int64
	pcgID       int64
	certID      int64
	overrideID  int64
	sims        []*sim
}

func newGenerator(p *plan, l *loader) *generator {
	g := &generator{p: p, l: l, seed: p.opts.Seed, perCourse: make([]int, len(p.courses))}
	t := &g.tables
	t.site = l.table("django_site", "id", "domain", "name")
	t.siteConf = l.table("site_configuration_siteconfiguration", "id", "enabled", "site_id", "site_values")
	t.org = l.table("organizations_organization", "id", "created", "modified", "name", "short_name", "description", "logo", "active")
	t.orgCourse = l.table("organizations_organizationcourse", "id", "created", "modified", "course_id", "active", "organization_id")
	t.overview = l.table("course_overviews_courseoverview", overviewCols...)
	t.user = l.table("auth_user", "id", "password", "last_login", "is_superuser", "username", "first_name", "last_name",
		"email", "is_staff", "is_active", "date_joined")
	t.profile = l.table("auth_userprofile", "id", "name", "meta", "courseware", "language", "location", "year_of_birth",
		"gender", "level_of_education", "mailing_address", "city", "country", "state", "goals", "bio",
		"profile_image_uploaded_at", "phone_number", "user_id")
	t.role = l.table("student_courseaccessrole", "id", "org", "course_id", "role", "user_id")
	t.enroll = l.table("student_courseenrollment", "id", "course_id", "created", "is_active", "mode", "user_id")
	t.sm = l.table("courseware_studentmodule", "id", "module_type", "module_id", "student_id", "state", "grade",
		"created", "modified", "max_grade", "done", "course_id")
	t.psg = l.table("grades_persistentsubsectiongrade", "id", "created", "modified", "user_id", "course_id", "usage_key",
		"subtree_edited_timestamp", "course_version", "earned_all", "possible_all", "earned_graded", "possible_graded",
		"first_attempted", "visible_blocks_hash")
	t.override = l.table("grades_persistentsubsectiongradeoverride", "id", "created", "modified", "earned_all_override",
		"possible_all_override", "earned_graded_override", "possible_graded_override", "grade_id", "override_reason", "system")
	t.pcg = l.table("grades_persistentcoursegrade", "id", "created", "modified", "user_id", "course_id",
		"course_edited_timestamp", "course_version", "grading_policy_hash", "percent_grade", "letter_grade", "passed_timestamp")
	t.cert = l.table("certificates_generatedcertificate", "id", "course_id", "verify_uuid", "download_uuid", "download_url",
		"grade", "key", "distinction", "status", "mode", "name", "created_date", "modified_date", "error_reason", "user_id")
	for _, c := range p.courses {
		g.sims = append(g.sims, &sim{r: newRNG(), c: c, state: make([]rowState, len(c.modules))})
	}
	return g
}

// writeAll writes every table.
func (g *generator) writeAll() error {
	steps := []func() error{g.writeSites, g.writeCourses, g.writeUsers, g.writeRoles, g.writeEnrollments, g.writeActivity}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// writeEnrollments writes student_courseenrollment in id order.
func (g *generator) writeEnrollments() error {
	t := g.tables.enroll
	for i := range g.p.enrolls {
		e := &g.p.enrolls[i]
		if !e.enrolled {
			continue
		}
		g.perCourse[e.course]++
		t.int(int64(e.id)).str(g.p.courses[e.course].id).time(e.created).bool(e.active).str(modes[e.mode].name).int(int64(e.user))
		if err := t.end(); err != nil {
			return err
		}
	}
	return nil
}

// writeActivity simulates every enrollment in order of enrollment and
// writes its StudentModule rows (through the reorder buffer), persisted
// grades and certificate.
func (g *generator) writeActivity() error {
	p := g.p
	total := int64(len(p.enrolls))
	endStart, endLast := dayStart(p.endDay), dayLast(p.endDay)
	for i := range p.enrolls {
		e := &p.enrolls[i]
		// Every row still to come is created at or after this
		// enrollment: what is older can be written.
		if err := g.drainBefore(e.created); err != nil {
			return err
		}
		c := p.courses[e.course]
		s := g.sims[e.course]
		stream := uint64(e.user)<<16 | uint64(e.course)
		kind := streamEnrollment
		if !e.enrolled {
			kind = streamStaff
		}
		s.r.reseed(g.seed, kind, stream)
		lastDay := p.endDay
		if e.alumni {
			lastDay = p.firstDay - 1
		}
		s.run(e, lastDay, p.endDay)
		active := false
		for _, m := range s.touched {
			st := &s.state[m]
			if (st.modified >= endStart && st.modified <= endLast) || (st.created >= endStart && st.created <= endLast) {
				active = true
			}
			g.reorder.push(smRow{created: st.created, modified: st.modified, aux: st.aux, grade: st.grade,
				student: e.user, module: m, course: e.course, attempts: uint16(min(st.attempts, math.MaxUint16)), scored: st.hasScore})
		}
		if active && e.enrolled {
			g.activeOnEnd++
		}
		if err := g.writeGrades(e, c, s, dayLast(lastDay)); err != nil {
			return err
		}
		if i%1024 == 0 {
			p.opts.progress("activity", int64(i), total)
			if err := g.l.firstErr(); err != nil {
				return err
			}
		}
	}
	p.opts.progress("activity", total, total)
	return g.drainBefore(math.MaxInt64)
}

// drainBefore writes the buffered StudentModule rows created before t.
func (g *generator) drainBefore(t int64) error {
	for g.reorder.len() > 0 && g.reorder.min().created < t {
		r := g.reorder.pop()
		if err := g.writeSM(&r); err != nil {
			return err
		}
	}
	return nil
}

// writeSM writes one courseware_studentmodule row.
func (g *generator) writeSM(r *smRow) error {
	c := g.p.courses[r.course]
	m := &c.modules[r.module]
	g.smID++
	t := g.tables.sm
	t.int(g.smID).str(m.typ).str(m.key).int(int64(r.student))
	g.buf = appendState(g.buf[:0], c, m, r)
	t.str(string(g.buf))
	if r.scored {
		t.float(r.grade)
	} else {
		t.null()
	}
	t.time(r.created).time(r.modified)
	if r.scored {
		t.float(m.rawMax)
	} else {
		t.null()
	}
	t.str("na").str(c.id)
	return t.end()
}

// appendState renders a row's state JSON, compact as the platform stores
// it.
func appendState(b []byte, c *courseModel, m *module, r *smRow) []byte {
	switch m.kind {
	case kindCourse, kindChapter, kindSequential:
		b = append(b, `{"position": `...)
		b = strconv.AppendUint(b, r.aux, 10)
		return append(b, '}')
	case kindVideo:
		secs := r.aux
		b = append(b, `{"saved_video_position": "`...)
		b = appendClock(b, secs)
		b = append(b, `", "speed": 1.0}`...)
		return b
	case kindLibrary:
		b = append(b, `{"selected": [`...)
		first := true
		for i, ch := range m.children {
			if r.aux&(1<<uint(i)) == 0 {
				continue
			}
			if !first {
				b = append(b, ", "...)
			}
			first = false
			cm := &c.modules[ch]
			b = append(b, `["`...)
			b = append(b, cm.typ...)
			b = append(b, `", "`...)
			b = append(b, course.BlockID(cm.key)...)
			b = append(b, `"]`...)
		}
		return append(b, "]}"...)
	case kindUnscored:
		b = append(b, `{"submission_uuid": "`...)
		b = appendHex(b, r.aux)
		return append(b, `"}`...)
	}
	// Scored blocks.
	switch m.typ {
	case "problem":
		b = append(b, `{"seed": `...)
		b = strconv.AppendUint(b, r.aux, 10)
		if r.attempts > 0 {
			b = append(b, `, "attempts": `...)
			b = strconv.AppendUint(b, uint64(r.attempts), 10)
			b = append(b, `, "done": true`...)
		}
		return append(b, '}')
	case "drag-and-drop-v2":
		b = append(b, `{"num_attempts": `...)
		b = strconv.AppendUint(b, uint64(r.attempts), 10)
		return append(b, `, "completed": true, "item_state": {}}`...)
	}
	b = append(b, `{"attempts": `...)
	b = strconv.AppendUint(b, uint64(r.attempts), 10)
	return append(b, '}')
}

func appendClock(b []byte, secs uint64) []byte {
	h, m, s := secs/3600, secs/60%60, secs%60
	for _, v := range []uint64{h, m, s} {
		if len(b) > 0 && b[len(b)-1] != '"' {
			b = append(b, ':')
		}
		b = append(b, byte('0'+v/10%10), byte('0'+v%10))
	}
	return b
}

func appendHex(b []byte, v uint64) []byte {
	const digits = "0123456789abcdef"
	for i := 0; i < 16; i++ {
		b = append(b, digits[v>>(60-4*i)&0xf])
	}
	return b
}

// subGrade is one persisted subsection grade while it is assembled.
type subGrade struct {
	sub              int
	earned, possible float64
	// first is first_attempted; scored is when a score was first
	// recorded, which triggers the grade's creation.
	created, modified, first, scored int64
	id                               int64
}

// writeGrades writes the enrollment's persisted subsection grades (with
// the occasional override), its course grade and its certificate. limit is
// the last microsecond its rows may carry.
func (g *generator) writeGrades(e *enrollment, c *courseModel, s *sim, limit int64) error {
	r := s.r
	var subs []subGrade
	idx := map[int]int{}
	for _, m := range s.touched {
		mod := &c.modules[m]
		st := &s.state[m]
		if mod.kind != kindProblem || !st.hasScore || mod.sub < 0 {
			continue
		}
		k, ok := idx[int(mod.sub)]
		if !ok {
			k = len(subs)
			idx[int(mod.sub)] = k
			subs = append(subs, subGrade{sub: int(mod.sub), first: st.created, scored: st.firstAttempt, modified: st.modified})
		}
		sg := &subs[k]
		// first_attempted is the earliest scored row's created, as the
		// platform's ScoresClient reports it.
		sg.first = min(sg.first, st.created)
		sg.scored = min(sg.scored, st.firstAttempt)
		sg.modified = max(sg.modified, st.modified)
	}
	if len(subs) == 0 {
		return nil
	}
	learner := s.learner()
	scores := c.calc.SubsectionScores(learner)
	earned := make([]float64, len(scores))
	possible := make([]float64, len(scores))
	for i, sc := range scores {
		earned[i], possible[i] = 0, sc.Possible
	}
	// Persisted in course order, as a regrade task would.
	sortSubGrades(subs)
	t := g.tables.psg
	for k := range subs {
		sg := &subs[k]
		sc := scores[sg.sub]
		sg.earned, sg.possible = sc.Earned, sc.Possible
		// The grade task runs a few seconds to minutes after the score.
		sg.created = min(limit, sg.scored+int64(r.between(1, 30))*1_000_000)
		sg.modified = min(limit, sg.modified+int64(r.between(1, 120))*1_000_000)
		sg.modified = max(sg.modified, sg.created)
		g.psgID++
		sg.id = g.psgID
		var ovEarned float64
		override := e.enrolled && r.chance(0.004) && sg.possible > 0
		if override {
			// An instructor override in the gradebook: full credit or
			// half, some hours later; the grade row is updated with it.
			ovEarned = sg.possible
			if r.chance(0.5) {
				ovEarned = math.Round(sg.possible*50) / 100
			}
			if ovEarned == sg.earned {
				ovEarned = 0
			}
			at := min(limit, sg.modified+int64(r.between(600, 36_000))*1_000_000)
			ot := g.tables.override
			g.overrideID++
			ot.int(g.overrideID).time(at).time(at).float(ovEarned).null().float(ovEarned).null().int(sg.id).
				str("Regraded after a learner's appeal").str("GRADEBOOK")
			if err := ot.end(); err != nil {
				return err
			}
			sg.modified = at
		}
		first := sg.first
		t.int(sg.id).time(sg.created).time(sg.modified).int(int64(e.user)).str(c.id).str(c.subs[sg.sub].UsageKey).
			time(c.published).str(c.courseVersion).float(sg.earned).float(sg.possible).float(sg.earned).float(sg.possible).
			time(first).str(c.visibleBlocksHash(sg.sub, learner.Selections))
		if err := t.end(); err != nil {
			return err
		}
		if override {
			sg.earned = ovEarned
		}
		earned[sg.sub] = sg.earned
	}
	// Now and then the course grade task has not run yet: by chance, and
	// always for a grade changed in the end date's last microsecond.
	if r.chance(0.01) || e.sentinel == sentinelLast {
		return nil
	}
	return g.writeCourseGrade(e, c, r, subs, earned, possible, limit)
}

func (g *generator) writeCourseGrade(e *enrollment, c *courseModel, r *rng, subs []subGrade, earned, possible []float64, limit int64) error {
	created, modified := subs[0].created, subs[0].modified
	for _, sg := range subs {
		created = min(created, sg.created)
		modified = max(modified, sg.modified)
	}
	created = min(limit, created+int64(r.between(1, 20))*1_000_000)
	modified = max(created, min(limit, modified+int64(r.between(1, 60))*1_000_000))
	percent := c.percentGrade(earned, possible)
	passed := percent > 0 && percent >= c.policy.Cutoff
	var passedAt int64
	if passed {
		// The first grade change that took the learner over the cutoff:
		// replay the subsection grades in the order they were saved.
		order := append([]subGrade(nil), subs...)
		sortByModified(order)
		partial := make([]float64, len(earned))
		for _, sg := range order {
			partial[sg.sub] = earned[sg.sub]
			if c.percentGrade(partial, possible) >= c.policy.Cutoff {
				passedAt = sg.modified
				break
			}
		}
		if passedAt == 0 {
			passedAt = modified
		}
		passedAt = min(modified, max(created, passedAt+int64(r.between(1, 20))*1_000_000))
	}
	letter := ""
	if passed {
		letter = "Pass"
	}
	g.pcgID++
	t := g.tables.pcg
	t.int(g.pcgID).time(created).time(modified).int(int64(e.user)).str(c.id).time(c.published).str(c.courseVersion).
		str(c.policyHash).float(percent).str(letter).timeOrNull(passedAt)
	if err := t.end(); err != nil {
		return err
	}
	if !e.enrolled {
		return nil
	}
	return g.writeCertificate(e, c, r, percent, passed, passedAt, modified, limit)
}

// writeCertificate gives passing learners a certificate (mostly
// downloadable; audit learners audit_passing; some unavailable) and a few
// of the others a notpassing row.
func (g *generator) writeCertificate(e *enrollment, c *courseModel, r *rng, percent float64, passed bool, passedAt, modified, limit int64) error {
	mode := modes[e.mode].name
	var status string
	var at int64
	switch {
	case passed && mode == "audit":
		status, at = "audit_passing", passedAt
	case passed && r.chance(0.93):
		status, at = "downloadable", passedAt
	case passed:
		status, at = "unavailable", passedAt
	case percent > 0 && r.chance(0.1):
		status, at = "notpassing", modified
	default:
		return nil
	}
	if mode == "credit" {
		mode = "verified" // certificates have no credit mode
	}
	at = min(limit, at+int64(r.between(60, 2*86400))*1_000_000)
	g.certID++
	t := g.tables.cert
	verify, download := r.hex32(), ""
	if status == "downloadable" {
		download = r.hex32()
	}
	// download_url stays empty: web certificates are rendered, not stored.
	t.int(g.certID).str(c.id).str(verify).str(download).str("").str(strconv.FormatFloat(percent, 'f', 2, 64)).
		str(r.hex32()).bool(false).str(status).str(mode).str(g.displayName(e.user)).time(at).time(at).str("").int(int64(e.user))
	return t.end()
}
