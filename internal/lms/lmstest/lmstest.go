// Package lmstest builds small LMS databases by hand for tests: each
// method inserts one platform row with every NOT NULL column filled, so a
// test states only the values it is about.
package lmstest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/course"
	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/lms"
)

// LMS is a test LMS database.
type LMS struct {
	t  testing.TB
	DB *database.DB
	// URL opens the same database (read-only through lms.Open).
	URL string
}

// New creates the LMS schema in the database at url.
func New(t testing.TB, url string) *LMS {
	t.Helper()
	ctx := context.Background()
	db, err := database.Open(ctx, url, database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := lms.CreateSchema(ctx, db); err != nil {
		t.Fatal(err)
	}
	return &LMS{t: t, DB: db, URL: url}
}

// NewOf returns an empty LMS database of kind k, from dbtest's pool of
// databases holding the schema (see dbtest.Pooled).
func NewOf(t testing.TB, k dbtest.Kind) *LMS {
	t.Helper()
	url := dbtest.Pooled(t, k, "lms", lms.CreateSchema)
	db, err := database.Open(context.Background(), url, database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &LMS{t: t, DB: db, URL: url}
}

func (l *LMS) exec(q string, args ...any) int64 {
	l.t.Helper()
	res, err := l.DB.Exec(context.Background(), q, args...)
	if err != nil {
		l.t.Fatalf("%s: %v", q, err)
	}
	id, _ := res.LastInsertId()
	return id
}

func (l *LMS) ts(t time.Time) any { return l.DB.Time(t) }

// At parses "YYYY-MM-DD HH:MM:SS[.ffffff]" as UTC, for readable fixtures.
func At(s string) time.Time {
	t, err := database.ParseTime(s)
	if err != nil {
		panic(err)
	}
	return t
}

// Site adds a django_site and, when orgFilter is not nil, an enabled site
// configuration whose course_org_filter is orgFilter (a string or a list).
func (l *LMS) Site(id int, domain string, orgFilter any) {
	l.t.Helper()
	l.exec(`INSERT INTO django_site (id, domain, name) VALUES (?, ?, ?)`, id, domain, domain)
	if orgFilter != nil {
		b, _ := json.Marshal(map[string]any{"course_org_filter": orgFilter, "SITE_NAME": domain})
		l.exec(`INSERT INTO site_configuration_siteconfiguration (site_id, enabled, site_values) VALUES (?, 1, ?)`, id, string(b))
	}
}

// Course adds a course overview.
func (l *LMS) Course(id, org, name string) {
	l.t.Helper()
	now := l.ts(At("2020-01-01 00:00:00"))
	l.exec("INSERT INTO course_overviews_courseoverview (created, modified, version, id, _location, org, display_name, "+
		"display_number_with_default, display_org_with_default, start, `end`, course_image_url, certificates_show_before_end, "+
		"cert_html_view_enabled, has_any_active_web_certificate, cert_name_short, cert_name_long, mobile_available, "+
		"visible_to_staff_only, _pre_requisite_courses_json, invitation_only, self_paced) "+
		"VALUES (?, ?, 19, ?, ?, ?, ?, 'X', ?, ?, NULL, '', 0, 0, 0, '', '', 0, 0, '[]', 0, 1)",
		now, now, id, id, org, name, org, now)
}

// User adds an auth_user (and a profile when name is not empty).
func (l *LMS) User(id int, username string, joined time.Time, name string) {
	l.t.Helper()
	l.exec(`INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
VALUES (?, '!', 0, ?, '', '', ?, 0, 1, ?)`, id, username, username+"@example.com", l.ts(joined))
	if name != "" {
		l.exec(`INSERT INTO auth_userprofile (name, meta, courseware, language, location, user_id, country, gender, level_of_education)
VALUES (?, '', 'course.xml', 'en', '', ?, 'FR', 'f', 'b')`, name, id)
	}
}

// Enroll adds an enrollment and returns its id.
func (l *LMS) Enroll(user int, courseID string, created time.Time, active bool) int64 {
	l.t.Helper()
	return l.exec(`INSERT INTO student_courseenrollment (user_id, course_id, created, is_active, mode) VALUES (?, ?, ?, ?, 'audit')`,
		user, courseID, l.ts(created), active)
}

// Role adds a course access role (courseID "" for an org-wide role).
func (l *LMS) Role(user int, org, courseID, role string) {
	l.t.Helper()
	l.exec(`INSERT INTO student_courseaccessrole (user_id, org, course_id, role) VALUES (?, ?, ?, ?)`, user, org, courseID, role)
}

// Module adds a StudentModule row; grade and maxGrade may be nil (NULL).
func (l *LMS) Module(user int, courseID, usageKey string, grade, maxGrade any, created, modified time.Time) int64 {
	l.t.Helper()
	typ := course.BlockType(usageKey)
	return l.exec(`INSERT INTO courseware_studentmodule (module_type, module_id, student_id, state, grade, created, modified, max_grade, done, course_id)
VALUES (?, ?, ?, '{}', ?, ?, ?, ?, 'na', ?)`, typ, usageKey, user, grade, l.ts(created), l.ts(modified), maxGrade, courseID)
}

// ModuleState adds a StudentModule row with a state and no score.
func (l *LMS) ModuleState(user int, courseID, usageKey, state string, at time.Time) {
	l.t.Helper()
	typ := "library_content"
	l.exec(`INSERT INTO courseware_studentmodule (module_type, module_id, student_id, state, created, modified, done, course_id)
VALUES (?, ?, ?, ?, ?, ?, 'na', ?)`, typ, usageKey, user, state, l.ts(at), l.ts(at), courseID)
}

// CourseGrade adds a persisted course grade.
func (l *LMS) CourseGrade(user int, courseID string, percent float64, modified time.Time) {
	l.t.Helper()
	l.exec(`INSERT INTO grades_persistentcoursegrade (created, modified, user_id, course_id, course_version, grading_policy_hash, percent_grade, letter_grade)
VALUES (?, ?, ?, ?, 'v1', 'h', ?, '')`, l.ts(modified), l.ts(modified), user, courseID, percent)
}

// SubsectionGrade adds a persisted subsection grade and returns its id.
func (l *LMS) SubsectionGrade(user int, courseID, usageKey string, earned, possible float64, modified time.Time) int64 {
	l.t.Helper()
	return l.exec(`INSERT INTO grades_persistentsubsectiongrade (created, modified, user_id, course_id, usage_key, course_version,
 earned_all, possible_all, earned_graded, possible_graded, visible_blocks_hash) VALUES (?, ?, ?, ?, ?, 'v1', ?, ?, ?, ?, 'hash')`,
		l.ts(modified), l.ts(modified), user, courseID, usageKey, earned, possible, earned, possible)
}

// Override adds a subsection grade override; nil leaves a value as persisted.
func (l *LMS) Override(gradeID int64, earned, possible any, modified time.Time) {
	l.t.Helper()
	l.exec(`INSERT INTO grades_persistentsubsectiongradeoverride (created, modified, grade_id, earned_all_override, possible_all_override)
VALUES (?, ?, ?, ?, ?)`, l.ts(modified), l.ts(modified), gradeID, earned, possible)
}

// Certificate adds a generated certificate.
func (l *LMS) Certificate(user int, courseID, status string, created time.Time) {
	l.t.Helper()
	l.exec(`INSERT INTO certificates_generatedcertificate (user_id, course_id, verify_uuid, download_uuid, download_url, grade, `+"`key`"+`,
 distinction, status, mode, name, created_date, modified_date, error_reason) VALUES (?, ?, ?, '', '', '0.9', '', 0, ?, 'honor', '', ?, ?, '')`,
		user, courseID, fmt.Sprintf("%032x", user), status, l.ts(created), l.ts(created))
}

// Organization adds an organization linked to the given courses.
func (l *LMS) Organization(id int, shortName string, courses ...string) {
	l.t.Helper()
	now := l.ts(At("2020-01-01 00:00:00"))
	l.exec(`INSERT INTO organizations_organization (id, created, modified, name, short_name, active) VALUES (?, ?, ?, ?, ?, 1)`,
		id, now, now, shortName, shortName)
	for _, c := range courses {
		l.exec(`INSERT INTO organizations_organizationcourse (created, modified, course_id, active, organization_id) VALUES (?, ?, ?, 1, ?)`,
			now, now, c, id)
	}
}

// Mode sets an enrollment's mode (Enroll writes audit).
func (l *LMS) Mode(user int, courseID, mode string) {
	l.t.Helper()
	l.exec(`UPDATE student_courseenrollment SET mode = ? WHERE user_id = ? AND course_id = ?`, mode, user, courseID)
}

// GlobalStaff sets auth_user.is_staff.
func (l *LMS) GlobalStaff(user int) {
	l.t.Helper()
	l.exec(`UPDATE auth_user SET is_staff = 1 WHERE id = ?`, user)
}

// CourseMode adds a course mode.
func (l *LMS) CourseMode(courseID, slug string) {
	l.t.Helper()
	l.exec(`INSERT INTO course_modes_coursemode (course_id, mode_slug, mode_display_name, min_price, currency, suggested_prices,
 expiration_datetime_is_explicit) VALUES (?, ?, ?, 0, 'usd', '', 0)`, courseID, slug, slug)
}

// CohortSettings adds a course's cohort settings row.
func (l *LMS) CohortSettings(courseID string, cohorted bool) {
	l.t.Helper()
	l.exec(`INSERT INTO course_groups_coursecohortssettings (is_cohorted, course_id, always_cohort_inline_discussions) VALUES (?, ?, 0)`,
		cohorted, courseID)
}

// Cohort adds a cohort (assignment "random" or "manual") and, when
// partition is not 0, its content group; it returns the cohort's id.
func (l *LMS) Cohort(courseID, name, assignment string, partition, group int) int {
	l.t.Helper()
	id := int(l.exec(`INSERT INTO course_groups_courseusergroup (name, course_id, group_type) VALUES (?, ?, 'cohort')`, name, courseID))
	l.exec(`INSERT INTO course_groups_coursecohort (assignment_type, course_user_group_id) VALUES (?, ?)`, assignment, id)
	if partition != 0 {
		now := l.ts(At("2020-01-01 00:00:00"))
		l.exec(`INSERT INTO course_groups_courseusergrouppartitiongroup (partition_id, group_id, created_at, updated_at, course_user_group_id)
 VALUES (?, ?, ?, ?, ?)`, partition, group, now, now, id)
	}
	return id
}

// Member puts a learner in a cohort.
func (l *LMS) Member(user int, courseID string, cohort int) {
	l.t.Helper()
	l.exec(`INSERT INTO course_groups_cohortmembership (course_id, course_user_group_id, user_id) VALUES (?, ?, ?)`, courseID, cohort, user)
}

// PreRegister assigns an email to a cohort before its learner registers.
func (l *LMS) PreRegister(email, courseID string, cohort int) {
	l.t.Helper()
	l.exec(`INSERT INTO course_groups_unregisteredlearnercohortassignments (email, course_id, course_user_group_id) VALUES (?, ?, ?)`,
		email, courseID, cohort)
}

// ExperimentGroup records a learner's group in an experiment partition.
func (l *LMS) ExperimentGroup(user int, courseID string, partition int, value string) {
	l.t.Helper()
	l.exec("INSERT INTO user_api_usercoursetag (user_id, course_id, `key`, value) VALUES (?, ?, ?, ?)",
		user, courseID, fmt.Sprintf("xblock.partition_service.partition_%d", partition), value)
}
