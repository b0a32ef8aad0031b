package synth

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/course"
	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/lms"
	"github.com/figures-analytics/figures/internal/progress"
)

var testEnd = calendar.MustParse("2025-03-31")

func smallOptions(t *testing.T) Options {
	t.Helper()
	shared := FindSharedData()
	if shared == "" {
		t.Log("shared data folder not found: the datasets hold synthetic courses only")
	}
	return Options{Scale: Small, Seed: 1, EndDate: testEnd, OLXDir: t.TempDir(), SharedData: shared}
}

func generate(t *testing.T, db *database.DB, opts Options) Summary {
	t.Helper()
	sum, err := Generate(context.Background(), db, opts)
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	return sum
}

func TestSmallSQLite(t *testing.T) {
	db := dbtest.SQLite(t, "lms.db")
	sum := generate(t, db, smallOptions(t))
	checkDataset(t, db, sum)
}

func TestSmallMySQL(t *testing.T) {
	db := dbtest.MySQL(t)
	sum := generate(t, db, smallOptions(t))
	if sum.Method != methodLoadData {
		t.Errorf("loaded with %s; the test server allows LOAD DATA LOCAL INFILE", sum.Method)
	}
	checkDataset(t, db, sum)
	checkIndexesRestored(t, db)

	// The INSERT fallback and SQLite load the very same rows.
	db2 := dbtest.MySQL(t)
	opts := smallOptions(t)
	opts.forceInsert = true
	sum2 := generate(t, db2, opts)
	if sum2.Method != methodInsert {
		t.Errorf("forced INSERT loaded with %s", sum2.Method)
	}
	lite := dbtest.SQLite(t, "lms.db")
	generate(t, lite, smallOptions(t))
	a, b, c := checksums(t, db), checksums(t, db2), checksums(t, lite)
	for _, table := range lms.Tables {
		if a[table] != b[table] {
			t.Errorf("%s: LOAD DATA and INSERT loads differ", table)
		}
		if a[table] != c[table] {
			t.Errorf("%s: MySQL and SQLite datasets differ", table)
		}
	}
}

// checkIndexesRestored compares the generated tables' indexes with a fresh
// lms.CreateSchema: the deferred indexes must come back exactly.
func checkIndexesRestored(t *testing.T, db *database.DB) {
	t.Helper()
	fresh := dbtest.MySQL(t)
	if err := lms.CreateSchema(context.Background(), fresh); err != nil {
		t.Fatal(err)
	}
	for _, table := range lms.Tables {
		if got, want := indexSet(t, db, table), indexSet(t, fresh, table); got != want {
			t.Errorf("%s indexes after the load:\n %s\nwant\n %s", table, got, want)
		}
	}
}

func indexSet(t *testing.T, db *database.DB, table string) string {
	rows, err := db.SQL().Query(`SELECT index_name, non_unique, column_name, COALESCE(sub_part, 0), COALESCE(collation, '')
		FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ?
		ORDER BY index_name, seq_in_index`, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name, col, coll string
		var nonUnique, sub int
		if err := rows.Scan(&name, &nonUnique, &col, &sub, &coll); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s/%d/%s/%d/%s", name, nonUnique, col, sub, coll))
	}
	return strings.Join(out, " ")
}

// The same options give identical rows; another seed gives other rows.
func TestDeterministic(t *testing.T) {
	opts := smallOptions(t)
	sums := map[string]map[string]string{}
	for _, run := range []struct {
		name string
		seed uint64
	}{{"first", 1}, {"again", 1}, {"other seed", 2}} {
		db := dbtest.SQLite(t, "lms.db")
		o := opts
		o.Seed = run.seed
		o.OLXDir = t.TempDir()
		generate(t, db, o)
		sums[run.name] = checksums(t, db)
	}
	for _, table := range lms.Tables {
		if sums["first"][table] != sums["again"][table] {
			t.Errorf("%s: two runs with the same seed differ", table)
		}
	}
	for _, table := range []string{"courseware_studentmodule", "student_courseenrollment", "auth_user",
		"grades_persistentsubsectiongrade", "grades_persistentcoursegrade"} {
		if sums["first"][table] == sums["other seed"][table] {
			t.Errorf("%s: seeds 1 and 2 gave identical rows", table)
		}
	}
}

// checksums hashes every table's rows, with values normalized so that
// SQLite and MySQL give the same hash for the same data. Rows are sorted in
// Go: the tables' ids are in them, and MySQL's case-insensitive collation
// would order a string key differently from SQLite.
func checksums(t *testing.T, db *database.DB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, table := range lms.Tables {
		rows, err := db.SQL().Query("SELECT * FROM " + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		idx := make([]int, len(cols))
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(a, b int) bool { return cols[idx[a]] < cols[idx[b]] })
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, i := range idx {
				fmt.Fprintf(&b, "%s=%s\x00", cols[i], normalize(vals[i]))
			}
			lines = append(lines, b.String())
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		sort.Strings(lines)
		h := sha256.New()
		for _, l := range lines {
			h.Write([]byte(l + "\n"))
		}
		out[table] = strconv.Itoa(len(lines)) + ":" + hex.EncodeToString(h.Sum(nil))
	}
	return out
}

func normalize(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case time.Time:
		return database.FormatDjango(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []byte:
		return normalize(string(x))
	case string:
		if f, err := strconv.ParseFloat(x, 64); err == nil && strings.ContainsAny(x, "0123456789") && !strings.ContainsAny(x, "eE") {
			return strconv.FormatFloat(f, 'g', -1, 64)
		}
		if len(x) >= 19 && x[4] == '-' && x[10] == ' ' {
			if tm, err := database.ParseTime(x); err == nil {
				return database.FormatDjango(tm)
			}
		}
		return x
	}
	return fmt.Sprint(v)
}

// A history factor adds older history and leaves the base history — the
// end date above all — exactly as it was.
func TestHistoryFactorKeepsTheEndDate(t *testing.T) {
	opts := smallOptions(t)
	base := dbtest.SQLite(t, "base.db")
	sum1 := generate(t, base, opts)
	opts.HistoryFactor = 2
	opts.OLXDir = t.TempDir()
	doubled := dbtest.SQLite(t, "doubled.db")
	sum2 := generate(t, doubled, opts)

	r1, r2 := sum1.Rows("courseware_studentmodule"), sum2.Rows("courseware_studentmodule")
	if ratio := float64(r2) / float64(r1); ratio < 1.6 || ratio > 2.4 {
		t.Errorf("history factor 2 gave %d StudentModule rows against %d (×%.2f), want about twice", r2, r1, ratio)
	}
	if sum1.ActiveOnEndDate != sum2.ActiveOnEndDate {
		t.Errorf("active enrollments on the end date: %d, with history factor 2: %d", sum1.ActiveOnEndDate, sum2.ActiveOnEndDate)
	}
	first := testEnd.AddDays(-sum1.Days + 1)
	for _, day := range []calendar.Date{testEnd, testEnd.AddDays(-1), first.AddDays(3)} {
		a, b := dayActivity(t, base, day), dayActivity(t, doubled, day)
		if len(a) == 0 {
			t.Fatalf("no activity on %s", day)
		}
		if strings.Join(a, "\n") != strings.Join(b, "\n") {
			t.Errorf("activity of %s differs with history factor 2 (%d rows, %d rows)", day, len(a), len(b))
		}
	}
	if a, b := dayActivity(t, base, first.AddDays(-1)), dayActivity(t, doubled, first.AddDays(-1)); len(a) != 0 || len(b) == 0 {
		t.Errorf("the day before the base history has %d rows, %d with history factor 2: want none, then some", len(a), len(b))
	}
}

// dayActivity lists the StudentModule rows created or modified in a day,
// without their ids.
func dayActivity(t *testing.T, db *database.DB, day calendar.Date) []string {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT student_id, course_id, module_id, state, grade, max_grade, created, modified
		FROM courseware_studentmodule WHERE (modified >= ? AND modified < ?) OR (created >= ? AND created < ?)`,
		db.Time(day.Start()), db.Time(day.End()), db.Time(day.Start()), db.Time(day.End()))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var student int
		var courseID, module, state string
		var grade, max sql.NullFloat64
		var created, modified database.NullTime
		if err := rows.Scan(&student, &courseID, &module, &state, &grade, &max, &created, &modified); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(student, courseID, module, state, grade, max, created.Time.UnixMicro(), modified.Time.UnixMicro()))
	}
	sort.Strings(out)
	return out
}

// A database that already holds data is refused without Reset, rebuilt
// with it, and the recorded fingerprint is the one the options predict.
func TestRefusesDataUnlessReset(t *testing.T) {
	db := dbtest.SQLite(t, "lms.db")
	opts := smallOptions(t)
	opts.Days = 10
	generate(t, db, opts)
	_, err := Generate(context.Background(), db, opts)
	if !errors.Is(err, ErrNotEmpty) || !strings.Contains(err.Error(), "--reset") {
		t.Fatalf("second run without reset: got %v, want ErrNotEmpty mentioning --reset", err)
	}
	opts.Reset = true
	opts.Seed = 5
	sum := generate(t, db, opts)
	rec, err := Recorded(context.Background(), db)
	if err != nil || rec == nil {
		t.Fatalf("recorded dataset: %v, %v", rec, err)
	}
	want, err := opts.Fingerprint()
	if err != nil {
		t.Fatal(err)
	}
	if rec.Fingerprint != want || rec.Fingerprint != sum.Fingerprint || rec.Seed != 5 || rec.Days != 10 {
		t.Errorf("recorded %+v, want fingerprint %q", rec, want)
	}
	if rec.Counts["courseware_studentmodule"] != sum.Rows("courseware_studentmodule") {
		t.Errorf("recorded %d StudentModule rows, generated %d", rec.Counts["courseware_studentmodule"], sum.Rows("courseware_studentmodule"))
	}
	var n int
	if err := db.QueryRow(context.Background(), "SELECT COUNT(*) FROM courseware_studentmodule").Scan(&n); err != nil || int64(n) != sum.Rows("courseware_studentmodule") {
		t.Errorf("after the reset the table holds %d rows (%v), want %d", n, err, sum.Rows("courseware_studentmodule"))
	}
	empty := dbtest.SQLite(t, "empty.db")
	if rec, err := Recorded(context.Background(), empty); rec != nil || err != nil {
		t.Errorf("an empty database records %v, %v", rec, err)
	}
}

func TestOptionsValidation(t *testing.T) {
	db := dbtest.SQLite(t, "lms.db")
	for _, tc := range []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"no end date", func(o *Options) { o.EndDate = calendar.Date{} }, "end date"},
		{"bad scale", func(o *Options) { o.Scale = "huge" }, "scale"},
		{"factor below one", func(o *Options) { o.HistoryFactor = 0.5 }, "history factor"},
		{"negative days", func(o *Options) { o.Days = -3 }, "days"},
		{"no OLX dir", func(o *Options) { o.OLXDir = "" }, "OLX"},
	} {
		o := smallOptions(t)
		tc.edit(&o)
		if _, err := Generate(context.Background(), db, o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error about %s", tc.name, err, tc.want)
		}
	}
}

// dataset is a generated LMS read back for checking.
type dataset struct {
	outlines  map[string]*course.Outline
	olx       map[string]string
	users     map[int]bool
	staff     map[int]bool
	roles     map[string]bool // user/course
	enrolls   map[string]*enrollRow
	sm        []smRowDB
	psg       map[string][]psgRow // user/course
	pcg       map[string]pcgRow
	certs     []certRow
	overrides map[string]bool
	// calcs are each enrollment's calculator (user/course), for its own
	// structure.
	calcs map[string]*progress.Calculator
}

type enrollRow struct {
	created  time.Time
	active   bool
	mode     string
	courseID string
	user     int
}

type smRowDB struct {
	id                 int64
	typ, module, state string
	student            int
	courseID           string
	grade, max         sql.NullFloat64
	created, modified  time.Time
}

type psgRow struct {
	usageKey                 string
	earned, possible         float64
	created, modified, first time.Time
	override                 bool
	overEarned, overPossible sql.NullFloat64
}

type pcgRow struct {
	percent         float64
	letter          string
	passed          database.NullTime
	created, modifd time.Time
}

type certRow struct {
	user             int
	courseID, status string
	created          time.Time
}

func key(user int, courseID string) string { return strconv.Itoa(user) + "/" + courseID }

func readDataset(t *testing.T, db *database.DB, sum Summary) *dataset {
	t.Helper()
	ctx := context.Background()
	d := &dataset{outlines: map[string]*course.Outline{}, olx: map[string]string{}, users: map[int]bool{},
		staff: map[int]bool{}, roles: map[string]bool{}, enrolls: map[string]*enrollRow{},
		psg: map[string][]psgRow{}, pcg: map[string]pcgRow{}, overrides: map[string]bool{}}
	for _, c := range sum.Courses {
		o, err := course.ImportOLX(c.OLX, course.ImportOptions{})
		if err != nil {
			t.Fatalf("import %s: %v", c.OLX, err)
		}
		if o.CourseID != c.ID {
			t.Fatalf("%s imports as %s", c.OLX, o.CourseID)
		}
		d.outlines[c.ID] = o
		d.olx[c.ID] = c.OLX
	}
	query := func(q string, scan func(*sql.Rows) error) {
		t.Helper()
		rows, err := db.Query(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	query("SELECT id, is_staff FROM auth_user", func(r *sql.Rows) error {
		var id int
		var staff bool
		err := r.Scan(&id, &staff)
		d.users[id] = true
		if staff {
			d.staff[id] = true
		}
		return err
	})
	query("SELECT user_id, course_id FROM student_courseaccessrole WHERE course_id <> ''", func(r *sql.Rows) error {
		var u int
		var c string
		err := r.Scan(&u, &c)
		d.roles[key(u, c)] = true
		return err
	})
	query("SELECT user_id, course_id, created, is_active, mode FROM student_courseenrollment", func(r *sql.Rows) error {
		e := &enrollRow{}
		var created database.NullTime
		err := r.Scan(&e.user, &e.courseID, &created, &e.active, &e.mode)
		e.created = created.Time
		d.enrolls[key(e.user, e.courseID)] = e
		return err
	})
	query("SELECT id, module_type, module_id, student_id, course_id, state, grade, max_grade, created, modified FROM courseware_studentmodule ORDER BY id",
		func(r *sql.Rows) error {
			var s smRowDB
			var created, modified database.NullTime
			err := r.Scan(&s.id, &s.typ, &s.module, &s.student, &s.courseID, &s.state, &s.grade, &s.max, &created, &modified)
			s.created, s.modified = created.Time, modified.Time
			d.sm = append(d.sm, s)
			return err
		})
	query(`SELECT g.user_id, g.course_id, g.usage_key, g.earned_all, g.possible_all, g.created, g.modified, g.first_attempted,
			o.id, o.earned_all_override, o.possible_all_override
		FROM grades_persistentsubsectiongrade g LEFT JOIN grades_persistentsubsectiongradeoverride o ON o.grade_id = g.id`,
		func(r *sql.Rows) error {
			var u int
			var c string
			var p psgRow
			var created, modified, first database.NullTime
			var oid sql.NullInt64
			err := r.Scan(&u, &c, &p.usageKey, &p.earned, &p.possible, &created, &modified, &first, &oid, &p.overEarned, &p.overPossible)
			p.created, p.modified, p.first, p.override = created.Time, modified.Time, first.Time, oid.Valid
			d.psg[key(u, c)] = append(d.psg[key(u, c)], p)
			if p.override {
				d.overrides[key(u, c)] = true
			}
			return err
		})
	query("SELECT user_id, course_id, percent_grade, letter_grade, passed_timestamp, created, modified FROM grades_persistentcoursegrade",
		func(r *sql.Rows) error {
			var u int
			var c string
			var p pcgRow
			var created, modified database.NullTime
			err := r.Scan(&u, &c, &p.percent, &p.letter, &p.passed, &created, &modified)
			p.created, p.modifd = created.Time, modified.Time
			d.pcg[key(u, c)] = p
			return err
		})
	query("SELECT user_id, course_id, status, created_date FROM certificates_generatedcertificate", func(r *sql.Rows) error {
		var c certRow
		var created database.NullTime
		err := r.Scan(&c.user, &c.courseID, &c.status, &created)
		c.created = created.Time
		d.certs = append(d.certs, c)
		return err
	})
	return d
}

// outlineKeys returns the usage keys a course's StudentModule rows may
// name: the course, its chapters, subsections, scorable and library
// blocks (all from the imported outline), and the video blocks of its
// export (videos keep state but are not in an outline).
func outlineKeys(t *testing.T, o *course.Outline, olx string) map[string]string {
	k, err := course.ParseKey(o.CourseID)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{k.UsageKey("course", "course"): "course"}
	for _, ch := range o.Chapters {
		keys[ch.UsageKey] = "chapter"
		for _, s := range ch.Subsections {
			keys[s.UsageKey] = "sequential"
			for _, b := range s.Blocks {
				keys[b.UsageKey] = b.Type
			}
			for _, l := range s.Libraries {
				keys[l.UsageKey] = "library_content"
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(olx, "video", "*.xml"))
	for _, f := range files {
		keys[k.UsageKey("video", strings.TrimSuffix(filepath.Base(f), ".xml"))] = "video"
	}
	return keys
}

func checkDataset(t *testing.T, db *database.DB, sum Summary) {
	t.Helper()
	d := readDataset(t, db, sum)
	end := testEnd

	// Counts per table.
	real := 0
	for _, c := range sum.Courses {
		if c.Real {
			real++
		}
	}
	if FindSharedData() != "" && real != 2 {
		t.Errorf("%d real courses, want 2", real)
	}
	for _, tc := range []struct {
		table  string
		lo, hi int64
	}{
		{"django_site", 3, 3},
		{"site_configuration_siteconfiguration", 3, 3},
		{"course_overviews_courseoverview", 6, 6},
		{"organizations_organizationcourse", 6, 6},
		{"auth_user", 300, 600},
		{"auth_userprofile", 250, 600},
		{"student_courseenrollment", 400, 1000},
		{"student_courseaccessrole", 10, 60},
		{"courseware_studentmodule", 7_000, 16_000},
		{"grades_persistentsubsectiongrade", 500, 5_000},
		{"grades_persistentsubsectiongradeoverride", 1, 40},
		{"grades_persistentcoursegrade", 100, 800},
		{"certificates_generatedcertificate", 10, 400},
	} {
		var n int64
		if err := db.QueryRow(context.Background(), "SELECT COUNT(*) FROM "+tc.table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != sum.Rows(tc.table) {
			t.Errorf("%s holds %d rows, the summary says %d", tc.table, n, sum.Rows(tc.table))
		}
		if n < tc.lo || n > tc.hi {
			t.Errorf("%s holds %d rows, want %d–%d", tc.table, n, tc.lo, tc.hi)
		}
	}
	if users, profiles := sum.Rows("auth_user"), sum.Rows("auth_userprofile"); profiles >= users {
		t.Errorf("%d profiles for %d users: some users should have none", profiles, users)
	}

	// Sites: every course belongs to a site whose org filter names its org.
	checkSites(t, db, sum)

	// Enrollments: users exist, modes mixed, some unenrolled.
	modes := map[string]int{}
	inactive := 0
	usersPerSite := map[int]map[int]bool{}
	siteOf := map[string]int{}
	for _, c := range sum.Courses {
		siteOf[c.ID] = c.Site
	}
	for _, e := range d.enrolls {
		if !d.users[e.user] {
			t.Errorf("enrollment of missing user %d in %s", e.user, e.courseID)
		}
		if d.outlines[e.courseID] == nil {
			t.Errorf("enrollment in unknown course %s", e.courseID)
		}
		if e.created.After(end.End()) || e.created.Before(end.AddDays(-sum.Days+1).Start()) {
			t.Errorf("enrollment %d/%s created %s, outside the history", e.user, e.courseID, e.created)
		}
		modes[e.mode]++
		if !e.active {
			inactive++
		}
		s := siteOf[e.courseID]
		if usersPerSite[e.user] == nil {
			usersPerSite[e.user] = map[int]bool{}
		}
		usersPerSite[e.user][s] = true
	}
	if len(modes) < 5 || modes["audit"] == 0 || modes["verified"] == 0 || modes["honor"] == 0 {
		t.Errorf("enrollment modes %v: want a realistic mix", modes)
	}
	if inactive == 0 || inactive > len(d.enrolls)/4 {
		t.Errorf("%d of %d enrollments unenrolled", inactive, len(d.enrolls))
	}
	multiSite := 0
	for _, s := range usersPerSite {
		if len(s) > 1 {
			multiSite++
		}
	}
	if multiSite == 0 {
		t.Error("no learner is enrolled in courses of two sites")
	}
	enrolledStaff := 0
	for k := range d.roles {
		if d.enrolls[k] != nil {
			enrolledStaff++
		}
	}
	if enrolledStaff == 0 {
		t.Error("no course staff member is also enrolled in their course")
	}

	// StudentModule rows.
	keys := map[string]map[string]string{}
	for id, o := range d.outlines {
		keys[id] = outlineKeys(t, o, d.olx[id])
	}
	raw := map[string]float64{}
	for _, o := range d.outlines {
		for _, s := range o.Subsections() {
			for _, b := range s.Blocks {
				raw[b.UsageKey] = b.RawPossible
			}
		}
	}
	types := map[string]int{}
	var atMidnight, atLast, notEnrolled, viewedOnly, laterModified int
	var prevCreated time.Time
	for _, r := range d.sm {
		typ, ok := keys[r.courseID][r.module]
		if !ok {
			t.Errorf("row %d: %s is not a block of %s", r.id, r.module, r.courseID)
		} else if typ != r.typ {
			t.Errorf("row %d: module_type %s for a %s block", r.id, r.typ, typ)
		}
		types[r.typ]++
		if r.modified.Before(r.created) {
			t.Errorf("row %d: modified %s before created %s", r.id, r.modified, r.created)
		}
		if r.created.Before(prevCreated) {
			t.Errorf("row %d: ids do not follow creation (%s after %s)", r.id, r.created, prevCreated)
		}
		prevCreated = r.created
		if r.created.Before(end.AddDays(-sum.Days+1).Start()) || !r.modified.Before(end.End()) {
			t.Errorf("row %d: %s–%s outside the history", r.id, r.created, r.modified)
		}
		if dayOf(r.modified.UnixMicro()) > dayOf(r.created.UnixMicro()) {
			laterModified++
		}
		if r.modified.Equal(end.Start()) {
			atMidnight++
		}
		if r.modified.Equal(end.End().Add(-time.Microsecond)) {
			atLast++
		}
		k := key(r.student, r.courseID)
		if e := d.enrolls[k]; e == nil {
			notEnrolled++
			if !d.roles[k] && !d.staff[r.student] {
				t.Errorf("row %d: user %d is neither enrolled in nor staff of %s", r.id, r.student, r.courseID)
			}
		} else if r.created.Before(e.created) {
			t.Errorf("row %d: created %s before the enrollment %s", r.id, r.created, e.created)
		}
		if r.grade.Valid != r.max.Valid {
			t.Errorf("row %d: grade %v with max_grade %v", r.id, r.grade, r.max)
		}
		if r.max.Valid {
			if r.max.Float64 != raw[r.module] {
				t.Errorf("row %d: max_grade %v, the problem's raw maximum is %v", r.id, r.max.Float64, raw[r.module])
			}
			if r.grade.Float64 < 0 || r.grade.Float64 > r.max.Float64 {
				t.Errorf("row %d: grade %v outside [0, %v]", r.id, r.grade.Float64, r.max.Float64)
			}
		} else if r.typ == "problem" {
			viewedOnly++
		}
		if !json.Valid([]byte(r.state)) {
			t.Errorf("row %d: state %q is not JSON", r.id, r.state)
		}
	}
	for _, typ := range []string{"course", "chapter", "sequential", "problem", "video", "library_content"} {
		if types[typ] == 0 {
			t.Errorf("no StudentModule row of type %s (types %v)", typ, types)
		}
	}
	if types["problem"] < len(d.sm)/4 {
		t.Errorf("only %d of %d rows are problems", types["problem"], len(d.sm))
	}
	if atMidnight == 0 || atLast == 0 {
		t.Errorf("end date %s: %d rows modified at 00:00:00, %d at 23:59:59.999999; want both", end, atMidnight, atLast)
	}
	if notEnrolled == 0 || viewedOnly == 0 || laterModified == 0 {
		t.Errorf("rows of staff not enrolled %d, viewed-not-answered problems %d, modified on a later day %d: want some of each",
			notEnrolled, viewedOnly, laterModified)
	}

	// Persisted grades agree with the StudentModule scores.
	d.calcs = learnerCalcs(t, db, d, end)
	checkGrades(t, d, end)

	// The tables learners' groups come from are filled, and some
	// learners' groups are left for the platform to draw.
	for _, table := range []string{"course_modes_coursemode", "course_groups_courseusergroup", "course_groups_cohortmembership",
		"course_groups_courseusergrouppartitiongroup", "course_groups_coursecohort", "course_groups_coursecohortssettings",
		"course_groups_unregisteredlearnercohortassignments", "user_api_usercoursetag"} {
		if sum.Rows(table) == 0 {
			t.Errorf("%s is empty", table)
		}
	}
	if sum.GroupEstimates == 0 {
		t.Error("no enrollment's cohort or experiment group is left to draw: the estimates are not exercised")
	}
	var beta int
	if err := db.SQL().QueryRow("SELECT COUNT(*) FROM student_courseaccessrole WHERE role = 'beta_testers'").Scan(&beta); err != nil || beta == 0 {
		t.Errorf("%d beta testers (%v): want some", beta, err)
	}
}

func checkSites(t *testing.T, db *database.DB, sum Summary) {
	t.Helper()
	rows, err := db.Query(context.Background(), "SELECT site_id, enabled, site_values FROM site_configuration_siteconfiguration")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	orgsOf := map[int][]string{}
	kinds := map[string]bool{}
	for rows.Next() {
		var site int
		var enabled bool
		var values string
		if err := rows.Scan(&site, &enabled, &values); err != nil {
			t.Fatal(err)
		}
		var v struct {
			Filter json.RawMessage `json:"course_org_filter"`
		}
		if err := json.Unmarshal([]byte(values), &v); err != nil || !enabled {
			t.Fatalf("site %d: enabled %v, site_values %s: %v", site, enabled, values, err)
		}
		var one string
		var list []string
		if json.Unmarshal(v.Filter, &one) == nil {
			orgsOf[site], kinds["string"] = []string{one}, true
		} else if json.Unmarshal(v.Filter, &list) == nil {
			orgsOf[site], kinds["list"] = list, true
		}
	}
	if !kinds["string"] || !kinds["list"] {
		t.Errorf("org filters: want one string and one list, got %v", kinds)
	}
	for _, org := range []string{"OpenedX", "edX"} {
		if !contains(orgsOf[1], org) {
			t.Errorf("site 1 filters on %v, want it to name %s", orgsOf[1], org)
		}
	}
	for _, c := range sum.Courses {
		k, _ := course.ParseKey(c.ID)
		if !contains(orgsOf[c.Site], k.Org) {
			t.Errorf("course %s is in site %d, whose filter %v does not name its org", c.ID, c.Site, orgsOf[c.Site])
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// learnerCalcs builds each enrollment's structure the way the pipeline
// does, from the rows the generator wrote (roles, cohorts, tracks,
// experiment tags, read with the pipeline's own queries) at the day after
// the history, and returns a calculator per user/course.
func learnerCalcs(t *testing.T, db *database.DB, d *dataset, end calendar.Date) map[string]*progress.Calculator {
	t.Helper()
	ctx := context.Background()
	r := lms.NewReader(db)
	asOf := end.AddDays(1).Start()
	byCourse := map[string][]int{}
	seen := map[string]bool{}
	add := func(u int, c string) {
		if k := key(u, c); !seen[k] {
			seen[k] = true
			byCourse[c] = append(byCourse[c], u)
		}
	}
	for _, e := range d.enrolls {
		add(e.user, e.courseID)
	}
	for _, row := range d.sm {
		add(row.student, row.courseID)
	}
	out := map[string]*progress.Calculator{}
	var courses []string
	for c := range byCourse {
		courses = append(courses, c)
	}
	allGroups, err := r.ReadCourseGroups(ctx, courses, courses)
	if err != nil {
		t.Fatal(err)
	}
	for c, users := range byCourse {
		sort.Ints(users)
		o := d.outlines[c]
		k, _ := course.ParseKey(c)
		groups := allGroups[c]
		access, err := r.UsersAccess(ctx, users)
		if err != nil {
			t.Fatal(err)
		}
		members, err := r.CohortMemberships(ctx, users)
		if err != nil {
			t.Fatal(err)
		}
		tags, err := r.ExperimentTags(ctx, users)
		if err != nil {
			t.Fatal(err)
		}
		var emails []string
		for _, u := range users {
			emails = append(emails, access[u].Email)
		}
		prereg, err := r.PreRegistrations(ctx, emails)
		if err != nil {
			t.Fatal(err)
		}
		restricted := o.RestrictedPartitions()
		calcs := map[string]*progress.Calculator{}
		for _, u := range users {
			f := lms.LearnerFacts{User: access[u], Tags: tags[lms.Pair{CourseID: c, UserID: u}]}
			if e := d.enrolls[key(u, c)]; e != nil {
				f.Enrolled, f.Enrollment = true, lms.Enrollment{UserID: u, CourseID: c, IsActive: e.active, Mode: e.mode}
			}
			f.Cohort, f.HasCohort = members[lms.Pair{CourseID: c, UserID: u}]
			f.PreRegistered, f.HasPreRegistration = prereg[lms.PreRegistration{CourseID: c, Email: access[u].Email}]
			l, _ := lms.Signature(o, k, groups, f, restricted)
			sig := o.Signature(l, restricted)
			if calcs[sig] == nil {
				calcs[sig] = progress.New(o.ForLearner(l, asOf))
			}
			out[key(u, c)] = calcs[sig]
		}
	}
	return out
}

func checkGrades(t *testing.T, d *dataset, end calendar.Date) {
	t.Helper()
	type learnerRows struct {
		scores     []progress.Score
		selections map[string][]string
		newest     map[string]time.Time // subsection → newest scored row modified
		first      map[string]time.Time // subsection → earliest scored row created
	}
	subOf := map[string]string{}
	for _, o := range d.outlines {
		for _, s := range o.Subsections() {
			for _, b := range s.Blocks {
				subOf[b.UsageKey] = s.UsageKey
			}
		}
	}
	learners := map[string]*learnerRows{}
	for _, r := range d.sm {
		k := key(r.student, r.courseID)
		l := learners[k]
		if l == nil {
			l = &learnerRows{newest: map[string]time.Time{}, first: map[string]time.Time{}}
			learners[k] = l
		}
		switch {
		case r.typ == "library_content":
			var st struct {
				Selected [][]string `json:"selected"`
			}
			if err := json.Unmarshal([]byte(r.state), &st); err != nil {
				t.Fatalf("library state %q: %v", r.state, err)
			}
			ck, _ := course.ParseKey(r.courseID)
			if l.selections == nil {
				l.selections = map[string][]string{}
			}
			sel := []string{}
			for _, p := range st.Selected {
				sel = append(sel, ck.UsageKey(p[0], p[1]))
			}
			l.selections[r.module] = sel
		case r.max.Valid:
			l.scores = append(l.scores, progress.Score{ModuleID: r.module, Grade: r.grade.Float64, MaxGrade: r.max.Float64,
				HasGrade: r.grade.Valid, HasMax: true})
			s := subOf[r.module]
			if r.modified.After(l.newest[s]) {
				l.newest[s] = r.modified
			}
			if f, ok := l.first[s]; !ok || r.created.Before(f) {
				l.first[s] = r.created
			}
		}
	}
	compared, withProgress, lag := 0, 0, 0
	for k, subs := range d.psg {
		l := learners[k]
		if l == nil {
			t.Errorf("%s has persisted grades and no StudentModule rows", k)
			continue
		}
		for _, p := range subs {
			newest, ok := l.newest[p.usageKey]
			if !ok {
				t.Errorf("%s: a grade for %s without a scored row", k, p.usageKey)
				continue
			}
			if p.modified.Before(newest) || p.modified.Sub(newest) > 12*time.Hour && !p.override {
				t.Errorf("%s %s: grade modified %s, newest scored row %s", k, p.usageKey, p.modified, newest)
			}
			if !p.first.Equal(l.first[p.usageKey]) {
				t.Errorf("%s %s: first_attempted %s, earliest scored row created %s", k, p.usageKey, p.first, l.first[p.usageKey])
			}
			if p.modified.Before(p.created) || !p.modified.Before(end.End()) {
				t.Errorf("%s %s: grade created %s, modified %s", k, p.usageKey, p.created, p.modified)
			}
		}
		for s := range l.newest {
			found := false
			for _, p := range subs {
				found = found || p.usageKey == s
			}
			if !found {
				t.Errorf("%s: scored rows in %s and no persisted grade", k, s)
			}
		}
		pcg, hasPCG := d.pcg[k]
		if !hasPCG {
			lag++
			continue
		}
		for _, p := range subs {
			if pcg.modifd.Before(p.modified) {
				t.Errorf("%s: course grade modified %s before a subsection grade %s", k, pcg.modifd, p.modified)
			}
		}
		if pcg.passed.Valid && (pcg.passed.Time.Before(pcg.created) || pcg.passed.Time.After(pcg.modifd)) {
			t.Errorf("%s: passed %s outside [%s, %s]", k, pcg.passed.Time, pcg.created, pcg.modifd)
		}
		if (pcg.letter == "Pass") != pcg.passed.Valid {
			t.Errorf("%s: letter %q with passed_timestamp %v", k, pcg.letter, pcg.passed)
		}
		if d.overrides[k] {
			continue
		}
		// Each learner's own structure: the persisted rows are the
		// StudentModule sums over it.
		calc := d.calcs[k]
		persisted := &progress.Learner{HasCourseGrade: true, Selections: l.selections}
		for _, p := range subs {
			persisted.Subsections = append(persisted.Subsections, progress.SubsectionGrade{UsageKey: p.usageKey, Earned: p.earned, Possible: p.possible})
		}
		fromPSG := calc.Compute(progress.Persisted, persisted)
		fromSM := calc.Compute(progress.StudentModule, &progress.Learner{Scores: l.scores, Selections: l.selections})
		// A persisted row settles a library subsection's points, which the
		// StudentModule source takes from a selection it may have to draw.
		fromPSG.LibraryEstimate, fromSM.LibraryEstimate = false, false
		if fromPSG != fromSM {
			t.Errorf("%s: persisted progress %+v, StudentModule progress %+v", k, fromPSG, fromSM)
		}
		compared++
		if fromSM.SectionsWorked > 0 {
			withProgress++
		}
	}
	if compared < 50 || withProgress < compared/2 {
		t.Errorf("compared %d learners' progress, %d with progress: too few to mean anything", compared, withProgress)
	}
	if lag == 0 || len(d.overrides) == 0 {
		t.Errorf("%d learners with subsection grades and no course grade, %d with overrides: want some of each", lag, len(d.overrides))
	}

	// Certificates.
	statuses := map[string]int{}
	for _, c := range d.certs {
		statuses[c.status]++
		k := key(c.user, c.courseID)
		e := d.enrolls[k]
		if e == nil {
			t.Errorf("certificate of %s without an enrollment", k)
			continue
		}
		if c.created.Before(e.created) || !c.created.Before(end.End()) {
			t.Errorf("certificate of %s created %s (enrolled %s)", k, c.created, e.created)
		}
		pcg, ok := d.pcg[k]
		passed := ok && pcg.letter == "Pass"
		switch c.status {
		case "downloadable", "unavailable", "audit_passing":
			if !passed {
				t.Errorf("%s certificate of %s, who has not passed", c.status, k)
			}
			if (c.status == "audit_passing") != (e.mode == "audit") {
				t.Errorf("%s certificate of %s in mode %s", c.status, k, e.mode)
			}
		case "notpassing":
			if passed {
				t.Errorf("notpassing certificate of %s, who passed", k)
			}
		default:
			t.Errorf("certificate of %s has status %s", k, c.status)
		}
	}
	if statuses["downloadable"] == 0 || statuses["notpassing"] == 0 || statuses["audit_passing"] == 0 {
		t.Errorf("certificate statuses %v: want downloadable, notpassing and audit_passing", statuses)
	}
	// How many learners fail depends on the courses (the real ones are
	// absent without the shared data folder); an invalidated certificate
	// is the exception whatever the courses.
	if statuses["unavailable"] >= statuses["downloadable"] {
		t.Errorf("certificate statuses %v: want fewer unavailable than downloadable", statuses)
	}
}
