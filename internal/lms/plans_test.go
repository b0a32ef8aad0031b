package lms

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/database/dbtest"
)

// planDB fills a scratch MariaDB with enough rows (200k StudentModule rows
// over 50 courses and 40 days) for the optimizer to choose the plans it
// chooses on a real install, then refreshes its statistics.
func planDB(t *testing.T) *database.DB {
	t.Helper()
	db := dbtest.MySQL(t)
	ctx := context.Background()
	if err := CreateSchema(ctx, db); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		// 5,000 users, 20,000 enrollments (4 courses each of 50).
		`INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
		 SELECT seq, '!', 0, CONCAT('u', seq), '', '', CONCAT('u', seq, '@x.org'), 0, 1, '2026-01-01' + INTERVAL (seq % 300) DAY FROM seq_1_to_5000`,
		`INSERT INTO auth_userprofile (name, meta, courseware, language, location, user_id)
		 SELECT CONCAT('User ', seq), '', '', 'en', '', seq FROM seq_1_to_4000`,
		`INSERT INTO student_courseenrollment (user_id, course_id, created, is_active, mode)
		 SELECT 1 + seq % 5000, CONCAT('course-v1:Org+C', (seq % 5000 + (seq DIV 5000) * 13) % 50, '+R'), '2026-06-01' + INTERVAL (seq % 150) DAY, seq % 20 <> 0, 'audit'
		 FROM seq_0_to_19999`,
		// 200,000 StudentModule rows: each enrollment's 10 modules, spread
		// over 40 days.
		`INSERT INTO courseware_studentmodule (module_type, module_id, student_id, state, grade, created, modified, max_grade, done, course_id)
		 SELECT 'problem', CONCAT('block-v1:Org+C', e.c, '+R+type@problem+block@p', m.seq), e.u, '{}', IF(m.seq % 3 = 0, NULL, 1), 
		  '2026-10-01' + INTERVAL ((e.u * 7 + m.seq) % 40) DAY + INTERVAL (e.u % 86400) SECOND,
		  '2026-10-01' + INTERVAL ((e.u * 7 + m.seq) % 40) DAY + INTERVAL (e.u % 86400 + m.seq * 60) SECOND,
		  IF(m.seq % 3 = 0, NULL, 2), 'na', CONCAT('course-v1:Org+C', e.c, '+R')
		 FROM (SELECT 1 + seq % 5000 AS u, (seq % 5000 + (seq DIV 5000) * 13) % 50 AS c FROM seq_0_to_19999) e JOIN seq_0_to_9 m`,
		`INSERT INTO grades_persistentsubsectiongrade (created, modified, user_id, course_id, usage_key, course_version, earned_all, possible_all, earned_graded, possible_graded, visible_blocks_hash)
		 SELECT '2026-10-01' + INTERVAL (seq % 40) DAY, '2026-10-01' + INTERVAL (seq % 40) DAY, 1 + seq % 5000, CONCAT('course-v1:Org+C', (seq % 5000 + (seq DIV 5000) * 13) % 50, '+R'),
		  CONCAT('block-v1:s', seq DIV 20000), 'v', 1, 2, 1, 2, 'h' FROM seq_0_to_59999`,
		`INSERT INTO grades_persistentcoursegrade (created, modified, user_id, course_id, course_version, grading_policy_hash, percent_grade, letter_grade)
		 SELECT '2026-10-01' + INTERVAL (seq % 40) DAY, '2026-10-01' + INTERVAL (seq % 40) DAY, 1 + seq % 5000, CONCAT('course-v1:Org+C', (seq % 5000 + (seq DIV 5000) * 13) % 50, '+R'), 'v', 'h', 0.5, '' FROM seq_0_to_19999`,
		`INSERT INTO grades_persistentsubsectiongradeoverride (created, modified, grade_id, earned_all_override)
		 SELECT '2026-10-01' + INTERVAL (seq % 40) DAY, '2026-10-01' + INTERVAL (seq % 40) DAY, seq * 50, 0 FROM seq_1_to_1000`,
		`INSERT INTO certificates_generatedcertificate (user_id, course_id, verify_uuid, download_uuid, download_url, grade, ` + "`key`" + `, distinction, status, mode, name, created_date, modified_date, error_reason)
		 SELECT 1 + seq % 5000, CONCAT('course-v1:Org+C', (seq % 5000 + (seq DIV 5000) * 13) % 50, '+R'), LPAD(seq, 32, '0'), '', '', '1', '', 0, 'downloadable', 'honor', '', '2026-10-15', '2026-10-15', '' FROM seq_0_to_19999 WHERE seq % 10 = 0`,
		`INSERT INTO student_courseaccessrole (user_id, org, course_id, role)
		 SELECT seq, 'Org', CONCAT('course-v1:Org+C', seq % 50, '+R'), IF(seq % 2 = 0, 'staff', 'beta_testers') FROM seq_1_to_400`,
		`INSERT INTO django_site (id, domain, name) VALUES (1, 'example.com', 'example')`,
		// Three modes and three cohorts per course (one random), each
		// mapped to a content group; two memberships and two experiment
		// tags per learner; a thousand cohort pre-registrations.
		`INSERT INTO course_modes_coursemode (course_id, mode_slug, mode_display_name, min_price, currency, suggested_prices, expiration_datetime_is_explicit)
		 SELECT CONCAT('course-v1:Org+C', seq DIV 3, '+R'), ELT(1 + seq % 3, 'audit', 'verified', 'honor'), 'Mode', 0, 'usd', '', 0 FROM seq_0_to_149`,
		`INSERT INTO course_groups_courseusergroup (id, name, course_id, group_type)
		 SELECT seq + 1, CONCAT('Cohort ', seq % 3), CONCAT('course-v1:Org+C', seq DIV 3, '+R'), 'cohort' FROM seq_0_to_149`,
		`INSERT INTO course_groups_coursecohort (assignment_type, course_user_group_id) SELECT IF(seq % 3 = 0, 'random', 'manual'), seq + 1 FROM seq_0_to_149`,
		`INSERT INTO course_groups_courseusergrouppartitiongroup (partition_id, group_id, created_at, updated_at, course_user_group_id)
		 SELECT 7, seq % 3, '2026-01-01', '2026-01-01', seq + 1 FROM seq_0_to_149`,
		`INSERT INTO course_groups_coursecohortssettings (is_cohorted, course_id, always_cohort_inline_discussions)
		 SELECT 1, CONCAT('course-v1:Org+C', seq, '+R'), 0 FROM seq_0_to_49`,
		`INSERT INTO course_groups_cohortmembership (course_id, course_user_group_id, user_id)
		 SELECT CONCAT('course-v1:Org+C', (seq % 5000 + (seq DIV 5000) * 13) % 50, '+R'), 1 + ((seq % 5000 + (seq DIV 5000) * 13) % 50) * 3 + seq % 3, 1 + seq % 5000 FROM seq_0_to_9999`,
		`INSERT INTO course_groups_unregisteredlearnercohortassignments (email, course_id, course_user_group_id)
		 SELECT CONCAT('new', seq, '@x.org'), CONCAT('course-v1:Org+C', seq % 50, '+R'), 1 + (seq % 50) * 3 FROM seq_0_to_999`,
		"INSERT INTO user_api_usercoursetag (user_id, course_id, `key`, value) " +
			`SELECT 1 + seq % 5000, CONCAT('course-v1:Org+C', (seq % 5000 + (seq DIV 5000) * 13) % 50, '+R'), 'xblock.partition_service.partition_9', seq % 2 FROM seq_0_to_9999`,
		`ANALYZE TABLE courseware_studentmodule, student_courseenrollment, auth_user, auth_userprofile, grades_persistentsubsectiongrade,
		 grades_persistentcoursegrade, grades_persistentsubsectiongradeoverride, certificates_generatedcertificate, student_courseaccessrole,
		 course_modes_coursemode, course_groups_courseusergroup, course_groups_coursecohort, course_groups_courseusergrouppartitiongroup,
		 course_groups_coursecohortssettings, course_groups_cohortmembership, course_groups_unregisteredlearnercohortassignments, user_api_usercoursetag`,
	} {
		if _, err := db.SQL().ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", strings.Fields(q)[0]+" "+strings.Fields(q)[2], err)
		}
	}
	return db
}

// TestQueryPlans runs EXPLAIN on every query figures sends to the LMS and
// checks that none scans a large table: each must use an index (a range,
// ref or eq_ref access on the index the query was written for).
func TestQueryPlans(t *testing.T) {
	db := planDB(t)
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 0, 1)
	users := database.Args([]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	course := "course-v1:Org+C13+R"
	courses := []any{course, "course-v1:Org+C14+R", "course-v1:Org+C40+R"}
	in := database.Placeholders(len(users))
	cases := []struct {
		name  string
		query string
		args  []any
		// table → acceptable keys (index names or column lists as MariaDB
		// names them); every large table in the plan must use one.
		want map[string][]string
	}{
		{"activity: modified range", activityQuery("modified"), []any{from, to},
			map[string][]string{"courseware_studentmodule": {"courseware_studentmodule_modified_idx"}}},
		{"activity: created range", activityQuery("created"), []any{from, to},
			map[string][]string{"courseware_studentmodule": {"courseware_studentmodule_created_idx"}}},
		{"activity by day: modified range", modifiedByDayQuery, []any{from, to},
			map[string][]string{"courseware_studentmodule": {"courseware_studentmodule_modified_idx"}}},
		// A daily run: the narrow range is the modified one after the day.
		{"activity: created in the day, modified after it", createdModifiedLaterQuery, []any{from, to, to},
			map[string][]string{"courseware_studentmodule": {"courseware_studentmodule_modified_idx", "courseware_studentmodule_created_idx"}}},
		// An old day: the narrow range is the created one.
		{"activity: created on an old day, modified after it", createdModifiedLaterQuery, []any{from.AddDate(0, 0, -30), to.AddDate(0, 0, -30), to.AddDate(0, 0, -30)},
			map[string][]string{"courseware_studentmodule": {"courseware_studentmodule_created_idx", "courseware_studentmodule_modified_idx"}}},
		{"enrollments of learners", fmt.Sprintf(enrollmentsOfQuery, in), users,
			map[string][]string{"student_courseenrollment": {"student_courseenrollment_user_id_course_id_uniq", "student_courseenrollment_user_id_idx", "student_cou_user_id_b19dcd_idx"}}},
		{"enrollments of a course (legacy)", courseEnrollmentsQuery, []any{course},
			map[string][]string{"student_courseenrollment": {"student_courseenrollment_course_id_idx"}}},
		{"legacy probe", legacyProbeQuery, []any{7, course},
			map[string][]string{"courseware_studentmodule": {"courseware_studentmodule_student_id_module_id_course_id_uniq", "courseware_studentmodule_student_id_idx"}}},
		{"course grades of a batch", fmt.Sprintf(courseGradeQuery, in), append([]any{course}, users...),
			map[string][]string{"grades_persistentcoursegrade": {"grades_persistentcoursegrade_course_id_user_id_uniq"}}},
		{"subsection grades of a batch", fmt.Sprintf(subsectionGradeQuery, in), append([]any{course}, users...),
			map[string][]string{"g": {"grades_persistentsubsecti_course_id_user_id_usage_uniq"}, "o": {"grade_id"}}},
		{"StudentModule scores of a batch", fmt.Sprintf(scoresQuery, in), append(append([]any{}, users...), course),
			map[string][]string{"courseware_studentmodule": {"courseware_studentmodule_student_id_module_id_course_id_uniq", "courseware_studentmodule_student_id_idx"}}},
		{"library selections of a batch", fmt.Sprintf(selectionsQuery, in, "?, ?"), append(append(append([]any{}, users...), "block-v1:Org+C13+R+type@library_content+block@l1", "block-v1:Org+C13+R+type@library_content+block@l2"), course),
			// Point lookups on the unique key, or the module_id range of
			// courseware_stats with student_id checked inside the index:
			// which is cheaper depends on how many learners viewed the block.
			map[string][]string{"courseware_studentmodule": {"courseware_studentmodule_student_id_module_id_course_id_uniq", "courseware_stats"}}},
		{"subsection grades changed", gradesChangedQueries[0], []any{from, to},
			map[string][]string{"grades_persistentsubsectiongrade": {"course_id_usage_key_idx"}}},
		{"course grades changed", gradesChangedQueries[1], []any{from, to},
			map[string][]string{"grades_persistentcoursegrade": {"modified_course_id"}}},
		{"overrides changed", gradesChangedQueries[2], []any{from, to},
			map[string][]string{"o": {"grades_persistentsubsectiongradeoverride_modified_idx"}, "g": {"PRIMARY"}}},
		{"enrolled courses after bounds", nextCoursesQuery(3), []any{"", course, "course-v1:Z+Z+Z"}, nil},
		{"users page", usersPageQuery, []any{100, 5000},
			map[string][]string{"u": {"PRIMARY"}, "p": {"user_id"}}},
		{"enrollments page", enrollmentsPageQuery, []any{100, 5000},
			map[string][]string{"student_courseenrollment": {"PRIMARY"}}},
		{"certificates page", certificatesPageQuery, []any{100, 5000},
			map[string][]string{"certificates_generatedcertificate": {"PRIMARY"}}},
		{"staff flags and emails of a batch", fmt.Sprintf(usersAccessQuery, in), users,
			map[string][]string{"auth_user": {"PRIMARY"}}},
		{"access roles of a batch", fmt.Sprintf(userRolesQuery, in), users,
			map[string][]string{"student_courseaccessrole": {"student_courseaccessrole_user_id_org_course_id_role_uniq", "student_courseaccessrole_user_id_idx"}}},
		{"cohort memberships of a batch", fmt.Sprintf(membershipsQuery, in), users,
			map[string][]string{"course_groups_cohortmembership": {"course_groups_cohortmembership_user_id_course_id_uniq", "course_groups_cohortmembership_user_id_idx"}}},
		{"course modes of courses", fmt.Sprintf(courseModesQuery, "?, ?, ?"), courses,
			map[string][]string{"course_modes_coursemode": {"course_modes_coursemode_course_id_mode_slug_currency_uniq", "course_modes_coursemode_course_id_idx"}}},
		{"cohort settings of courses", fmt.Sprintf(cohortSettingsQuery, "?, ?, ?"), courses,
			map[string][]string{"course_groups_coursecohortssettings": {"course_id"}}},
		{"cohorts of courses", fmt.Sprintf(cohortsQuery, "?, ?, ?"), courses,
			map[string][]string{"g": {"course_groups_courseusergroup_course_id_idx", "course_groups_courseusergroup_name_course_id_uniq"},
				"c": {"course_user_group_id"}, "p": {"course_user_group_id"}}},
		{"cohort pre-registrations of emails", fmt.Sprintf(preRegistrationsQuery, "?, ?, ?"), []any{"new13@x.org", "new63@x.org", "u7@x.org"},
			map[string][]string{"course_groups_unregisteredlearnercohortassignments": {"course_groups_unregisteredlearnercohortassignments_email_idx"}}},
		{"experiment groups of a batch", fmt.Sprintf(courseTagsQuery, in), users,
			map[string][]string{"user_api_usercoursetag": {"user_api_usercoursetag_user_id_course_id_key_uniq", "user_api_usercoursetag_user_id_idx"}}},
		{"course staff", courseStaffQuery, []any{"staff", "instructor", "ccx_coach"},
			map[string][]string{"student_courseaccessrole": {"student_courseaccessrole_role_idx"}}},
	}
	// Queries that may read their whole table, and why that table is small.
	smallTables := map[string]string{
		"course staff": "course teams: a few rows per course, most of them the roles asked for",
	}
	// Queries whose cost must not grow with the table: index dives the
	// optimizer resolves before execution.
	dives := map[string]bool{"enrolled courses after bounds": true}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plan := dbtest.Explain(t, db, tc.query, tc.args...)
			if dives[tc.name] {
				for _, row := range plan {
					// Resolved by one dive while planning: found, not found, or
					// the UNION's own rows.
					switch row["Extra"] {
					case "Select tables optimized away", "No matching min/max row", "No tables used":
						continue
					}
					t.Errorf("%s: not an index dive: %v", tc.name, row)
				}
			}
			for _, row := range plan {
				table := row["table"]
				keys, checked := tc.want[table]
				if !checked {
					continue
				}
				if why := smallTables[tc.name]; why != "" {
					t.Logf("%s reads all of %s (%s): %v", tc.name, table, why, row)
					delete(tc.want, table)
					continue
				}
				if row["type"] == "ALL" {
					t.Errorf("%s: full scan of %s: %v", tc.name, table, row)
					continue
				}
				ok := false
				for _, k := range keys {
					if row["key"] == k {
						ok = true
					}
				}
				if !ok {
					t.Errorf("%s: %s uses key %q (type %s), want one of %v; plan %v", tc.name, table, row["key"], row["type"], keys, plan)
				}
				delete(tc.want, table)
			}
			for table := range tc.want {
				t.Errorf("%s: %s not in the plan %v", tc.name, table, plan)
			}
		})
	}
}
