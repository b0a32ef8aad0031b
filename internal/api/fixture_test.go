package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/store"
)

// The fixture: two sites of a multi-site install, each with its own
// organization's courses, learners enrolled in one or both, and the
// metric rows the pipeline would have written. "Now" is
// 2023-11-17 12:00 UTC, so the six-month series run 2023/06..2023/11.
var fixtureNow = time.Date(2023, 11, 17, 12, 0, 0, 0, time.UTC)

const (
	courseA1 = "course-v1:AlphaX+A101+2023"
	courseA2 = "course-v1:AlphaX+A102+2023"
	courseB1 = "course-v1:BetaU+B201+2023"
)

// env is a fixture store and a server over it.
type env struct {
	db                         *database.DB
	st                         *store.Store
	srv                        *Server
	tokA, tokB, tokAll, tokNil string
}

// stores runs f on a fixture store in SQLite, and in MariaDB and
// PostgreSQL when FIGURES_TEST_MYSQL / FIGURES_TEST_POSTGRES are set.
func stores(t *testing.T, f func(t *testing.T, e *env)) {
	for _, tc := range []struct {
		name string
		open func(testing.TB) *database.DB
	}{
		{"sqlite", func(t testing.TB) *database.DB { return dbtest.SQLite(t, "store.db") }},
		{"mysql", dbtest.MySQL},
		{"postgres", dbtest.Postgres},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f(t, newEnv(t, tc.open(t), nil))
		})
	}
}

// sqliteEnv is a fixture store in SQLite only, for tests of the HTTP
// layer that do not depend on the database.
func sqliteEnv(t *testing.T) *env { return newEnv(t, dbtest.SQLite(t, "store.db"), nil) }

func newEnv(t testing.TB, db *database.DB, cfg func(*Config)) *env {
	t.Helper()
	ctx := context.Background()
	if err := store.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, st: store.New(db)}
	loadFixture(t, db)
	one, two := 1, 2
	var err error
	if e.tokA, _, err = e.st.CreateAPIToken(ctx, "alpha", &one, fixtureNow); err != nil {
		t.Fatal(err)
	}
	if e.tokB, _, err = e.st.CreateAPIToken(ctx, "beta", &two, fixtureNow); err != nil {
		t.Fatal(err)
	}
	if e.tokAll, _, err = e.st.CreateAPIToken(ctx, "ops", nil, fixtureNow); err != nil {
		t.Fatal(err)
	}
	auth, err := NewAuthenticator(AuthConfig{Store: e.st, Now: func() time.Time { return fixtureNow }})
	if err != nil {
		t.Fatal(err)
	}
	c := Config{Store: e.st, Auth: auth, Now: func() time.Time { return fixtureNow }, PublicURL: "http://example.com",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if cfg != nil {
		cfg(&c)
	}
	if e.srv, err = NewHandler(c); err != nil {
		t.Fatal(err)
	}
	return e
}

// withConfig returns an env with a second server over the same store,
// configured by cfg.
func (e *env) withConfig(t testing.TB, cfg func(*Config)) *env {
	t.Helper()
	auth, err := NewAuthenticator(AuthConfig{Store: e.st, Now: func() time.Time { return fixtureNow }})
	if err != nil {
		t.Fatal(err)
	}
	c := Config{Store: e.st, Auth: auth, Now: func() time.Time { return fixtureNow }, PublicURL: "http://example.com",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	cfg(&c)
	e2 := *e
	if e2.srv, err = NewHandler(c); err != nil {
		t.Fatal(err)
	}
	return &e2
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func day(s string) calendar.Date { return calendar.MustParse(s) }

func exec(t testing.TB, db *database.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func loadFixture(t testing.TB, db *database.DB) {
	t.Helper()
	T := func(s string) any { return db.Time(ts(s)) }
	mod := T("2023-11-16T02:00:00Z")

	for _, s := range [][]any{
		{1, "alpha.example.com", "Alpha", `["AlphaX"]`},
		{2, "beta.example.com", "Beta", `["BetaU"]`},
	} {
		exec(t, db, "INSERT INTO figures_site (id, domain, name, org_filter, modified) VALUES (?, ?, ?, ?, ?)", append(s, mod)...)
	}
	for _, c := range [][]any{
		{courseA1, "Alpha Intro", "AlphaX", "A101", T("2023-01-10T09:00:00Z"), nil, false, T("2023-01-02T00:00:00Z")},
		{courseA2, "Advanced Alpha & <Co>", "AlphaX", "A102", nil, T("2024-06-30T00:00:00Z"), true, T("2023-07-01T00:00:00Z")},
		{courseB1, "Beta Basics", "BetaU", "B201", T("2023-02-01T00:00:00Z"), nil, false, T("2023-11-03T00:00:00Z")},
	} {
		exec(t, db, `INSERT INTO figures_course (course_id, display_name, org, number, start_date, end_date, self_paced, first_enrollment, modified)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, append(c, mod)...)
	}
	for _, sc := range [][]any{{1, courseA1}, {1, courseA2}, {2, courseB1}} {
		exec(t, db, "INSERT INTO figures_sitecourse (site_id, course_id) VALUES (?, ?)", sc...)
	}
	// user_id, username, email, fullname, is_active, is_staff, is_superuser, date_joined, country, gender, year_of_birth, education, has_profile
	for _, l := range [][]any{
		{10, "alice", "alice@example.com", "Alice Archer", true, false, false, T("2023-06-15T10:00:00Z"), "US", "f", 1990, "b", true},
		{11, "bob", "bob@example.org", "Bob Brown", true, false, false, T("2023-10-31T23:30:00Z"), "", "", nil, "", true},
		{12, "carol", "carol@beta.example", "Carol Chen", true, false, false, T("2023-11-02T08:00:00.123456Z"), "CA", "f", 1985, "m", true},
		{13, "dave", "dave@example.com", "Dave Diaz", false, false, false, T("2023-11-05T00:00:00Z"), "FR", "m", 2000, "hs", true},
		{14, "erin", "erin@example.com", "Erin Evans", true, true, false, T("2023-01-01T00:00:00Z"), "US", "o", nil, "p", true},
		{15, "frank", "frank@example.com", "", true, false, false, T("2023-11-10T00:00:00Z"), "", "", nil, "", false},
	} {
		exec(t, db, `INSERT INTO figures_learner (user_id, username, email, fullname, is_active, is_staff, is_superuser, date_joined, last_login,
country, gender, year_of_birth, level_of_education, language, has_profile) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, '', ?)`, l...)
	}
	// id, user_id, course_id, created, is_active, mode, is_course_staff
	for _, ce := range [][]any{
		{100, 10, courseA1, T("2023-06-20T12:00:00Z"), true, "verified", false},
		{101, 10, courseA2, T("2023-07-01T00:00:00Z"), false, "audit", false},
		{102, 11, courseA1, T("2023-10-31T23:45:00Z"), true, "honor", false},
		{103, 12, courseB1, T("2023-11-03T00:00:00Z"), true, "audit", false},
		{104, 13, courseA1, T("2023-11-06T08:00:00Z"), true, "audit", false},
		{105, 13, courseB1, T("2023-11-06T09:00:00Z"), true, "verified", false},
		{106, 14, courseA1, T("2023-01-02T00:00:00Z"), true, "audit", true},
	} {
		exec(t, db, "INSERT INTO figures_courseenrollment (id, user_id, course_id, created, is_active, mode, is_course_staff) VALUES (?, ?, ?, ?, ?, ?, ?)", ce...)
	}
	// Certificates: alice's counts (downloadable), bob's does not (notpassing).
	for _, c := range [][]any{
		{10, courseA1, 500, "downloadable", T("2023-11-15T14:00:00Z")},
		{11, courseA1, 501, "notpassing", T("2023-11-16T09:00:00Z")},
		{13, courseB1, 502, "downloadable", T("2023-11-12T10:30:00.5Z")},
	} {
		exec(t, db, "INSERT INTO figures_certificate (user_id, course_id, id, status, created_date) VALUES (?, ?, ?, ?, ?)", c...)
	}
	// id, site, user, course, date_for, date_enrolled, is_enrolled, is_completed, progress, possible, earned, worked, sections
	for _, ed := range [][]any{
		{1, 1, 10, courseA1, day("2023-11-16"), day("2023-06-20"), true, true, 1.0, 10.0, 8.5, 4, 4},
		{2, 1, 10, courseA2, day("2023-11-10"), day("2023-07-01"), false, false, 0.125, 8.0, 2.0, 1, 8},
		{3, 1, 11, courseA1, day("2023-11-16"), day("2023-10-31"), true, false, 0.5, 10.0, 4.0, 2, 4},
		{4, 2, 12, courseB1, day("2023-11-16"), day("2023-11-03"), true, false, 0.0, 6.0, 0.0, 0, 3},
		{5, 1, 13, courseA1, day("2023-11-16"), day("2023-11-06"), true, false, 0.75, 10.0, 7.0, 3, 4},
		{6, 2, 13, courseB1, day("2023-11-12"), nil, true, true, 1.0, 6.0, 6.0, 3, 3},
	} {
		exec(t, db, `INSERT INTO figures_enrollmentdata (id, created, modified, site_id, user_id, course_id, date_for, date_enrolled, is_enrolled,
is_completed, progress_percent, points_possible, points_earned, sections_worked, sections_possible, collect_elapsed)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0.01)`, append([]any{ed[0], mod, mod}, ed[1:]...)...)
	}
	// dave's A101 values are an estimate: the platform would draw his
	// cohort at random.
	exec(t, db, `UPDATE figures_enrollmentdata SET estimate = 'cohort' WHERE id = 5`)
	// id, site, date_for, user, course, possible, earned, worked, sections
	for _, g := range [][]any{
		{1, 1, day("2023-11-01"), 10, courseA1, 10.0, 4.0, 2, 4},
		{2, 1, day("2023-11-15"), 10, courseA1, 10.0, 8.5, 4, 4},
		{3, 1, day("2023-11-16"), 11, courseA1, 10.0, 4.0, 2, 4},
		{4, 2, day("2023-11-16"), 12, courseB1, 6.0, 0.0, 0, 3},
		{5, 2, day("2023-11-12"), 13, courseB1, 6.0, 6.0, 3, 3},
		{6, 1, day("2023-11-16"), 13, courseA1, 10.0, 7.0, 3, 4},
		{7, 1, day("2023-11-10"), 10, courseA2, 8.0, 2.0, 1, 8},
	} {
		exec(t, db, `INSERT INTO figures_learnercoursegrademetrics (id, created, modified, site_id, date_for, user_id, course_id,
points_possible, points_earned, sections_worked, sections_possible, collect_elapsed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
			append([]any{g[0], mod, mod}, g[1:]...)...)
	}
	exec(t, db, `UPDATE figures_learnercoursegrademetrics SET estimate = 'cohort' WHERE id = 6`)
	// id, site, date_for, course, enrollment_count, active_today, avg_progress, avg_days, completed
	for _, m := range [][]any{
		{1, 1, day("2023-10-31"), courseA1, 2, 1, 0.33, nil, 0},
		{2, 1, day("2023-11-15"), courseA1, 3, 2, 0.34, 10, 1},
		{3, 1, day("2023-11-16"), courseA1, 3, 2, 0.35, 13, 1},
		{4, 1, day("2023-11-16"), courseA2, 0, 0, nil, nil, 0},
		{5, 2, day("2023-11-16"), courseB1, 2, 1, 0.50, 5, 1},
		{6, 1, day("2023-08-10"), courseA1, 1, 1, 0.10, nil, 0},
	} {
		exec(t, db, `INSERT INTO figures_coursedailymetrics (id, created, modified, site_id, date_for, course_id, enrollment_count,
active_learners_today, average_progress, average_days_to_complete, num_learners_completed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			append([]any{m[0], T("2023-11-16T02:00:12.345678Z"), mod}, m[1:]...)...)
	}
	// id, site, date_for, cumulative, today, users, courses, enrollments, mau
	for _, m := range [][]any{
		{1, 1, day("2023-10-31"), 5, 1, 3, 2, 3, 2},
		{2, 1, day("2023-11-15"), nil, nil, 4, 2, 4, 3},
		{3, 1, day("2023-11-16"), 9, 2, 4, 2, 5, 3},
		{4, 2, day("2023-11-16"), 1, 1, 2, 1, 2, 1},
	} {
		exec(t, db, `INSERT INTO figures_sitedailymetrics (id, created, modified, site_id, date_for, cumulative_active_user_count,
todays_active_user_count, total_user_count, course_count, total_enrollment_count, mau) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			append([]any{m[0], mod, mod}, m[1:]...)...)
	}
	for _, m := range [][]any{{1, 1, day("2023-09-01"), 4}, {2, 1, day("2023-10-01"), 2}, {3, 2, day("2023-10-01"), 7}} {
		exec(t, db, "INSERT INTO figures_sitemonthlymetrics (id, created, modified, site_id, month_for, active_user_count) VALUES (?, ?, ?, ?, ?, ?)",
			append([]any{m[0], mod, mod}, m[1:]...)...)
	}
	// site, user, course, month_for, first_active
	for _, m := range [][]any{
		{1, 10, courseA1, day("2023-11-01"), day("2023-11-01")},
		{1, 11, courseA1, day("2023-11-01"), day("2023-11-16")},
		{1, 10, courseA2, day("2023-11-01"), day("2023-11-10")},
		{1, 13, courseA1, day("2023-11-01"), day("2023-11-16")},
		{1, 10, courseA1, day("2023-08-01"), day("2023-08-10")},
		{2, 12, courseB1, day("2023-11-01"), day("2023-11-16")},
		{2, 13, courseB1, day("2023-11-01"), day("2023-11-12")},
	} {
		exec(t, db, `INSERT INTO figures_monthlyactiveenrollment (created, modified, site_id, user_id, course_id, month_for, first_active)
VALUES (?, ?, ?, ?, ?, ?, ?)`, append([]any{mod, mod}, m...)...)
	}
	for _, m := range [][]any{{1, 1, day("2023-11-16"), courseA1, 3}, {2, 1, day("2023-11-16"), courseA2, 1}, {3, 2, day("2023-11-16"), courseB1, 2}} {
		exec(t, db, "INSERT INTO figures_coursemaumetrics (id, created, modified, site_id, date_for, course_id, mau) VALUES (?, ?, ?, ?, ?, ?, ?)",
			append([]any{m[0], mod, mod}, m[1:]...)...)
	}
	for _, m := range [][]any{{1, 1, day("2023-11-16"), 3}, {2, 1, day("2023-11-15"), 3}, {3, 2, day("2023-11-16"), 2}} {
		exec(t, db, "INSERT INTO figures_sitemaumetrics (id, created, modified, site_id, date_for, mau) VALUES (?, ?, ?, ?, ?, ?)",
			append([]any{m[0], mod, mod}, m[1:]...)...)
	}
	// id, kind, workflow, date_for, started, finished, status, courses, examined, updated, errors, statements, message
	for _, r := range [][]any{
		{1, "daily", "next", day("2023-11-15"), T("2023-11-16T02:00:00Z"), T("2023-11-16T02:00:30Z"), "ok", 3, 10, 4, 0, 12, ""},
		{2, "daily", "next", day("2023-11-16"), T("2023-11-17T02:00:00Z"), T("2023-11-17T02:01:40Z"), "partial", 3, 12, 5, 1, 15, "one course failed"},
		{3, "backfill", "legacy", day("2023-11-01"), T("2023-11-17T03:00:00Z"), nil, "running", 0, 0, 0, 0, 0, ""},
	} {
		exec(t, db, `INSERT INTO figures_run (id, kind, workflow, grades, date_for, date_to, started, finished, status, courses,
enrollments_examined, enrollments_updated, errors, lms_statements, message) VALUES (?, ?, ?, 'persisted', ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r...)
	}
}

// get requests path with token (none when "") and returns the status and
// body.
func (e *env) get(t testing.TB, token, path string) (int, []byte) {
	t.Helper()
	rec := e.do(t, token, path, nil)
	return rec.Code, rec.Body.Bytes()
}

func (e *env) do(t testing.TB, token, path string, mod func(*http.Request)) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if mod != nil {
		mod(req)
	}
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	return rec
}

// getJSON requests path with the global token, expects 200, and compares
// the JSON answer to want.
func (e *env) getJSON(t testing.TB, token, path, want string) {
	t.Helper()
	code, body := e.get(t, token, path)
	if code != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", path, code, body)
	}
	assertJSON(t, path, body, want)
}

// assertJSON compares two JSON documents by value (numbers compared as
// written, so 1 and 1.0 differ from 2 but not from each other only when
// equal).
func assertJSON(t testing.TB, what string, got []byte, want string) {
	t.Helper()
	g, err := decodeJSON(got)
	if err != nil {
		t.Fatalf("%s: answer is not JSON: %v\n%s", what, err, got)
	}
	w, err := decodeJSON([]byte(want))
	if err != nil {
		t.Fatalf("%s: expected value is not JSON: %v", what, err)
	}
	if !reflect.DeepEqual(g, w) {
		var pg, pw bytes.Buffer
		json.Indent(&pg, got, "", "  ")
		json.Indent(&pw, []byte(want), "", "  ")
		t.Fatalf("%s:\n got: %s\nwant: %s", what, pg.String(), pw.String())
	}
}

// decodeJSON decodes with numbers as float64 so that 8 and 8.0 are equal.
func decodeJSON(b []byte) (any, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, io.ErrUnexpectedEOF
	}
	return v, nil
}

// compact removes the whitespace of a JSON text, for comparisons of key
// order.
func compact(t testing.TB, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(strings.TrimSpace(s))); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
