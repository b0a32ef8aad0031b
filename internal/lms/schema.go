// Package lms reads an Open edX LMS database, read-only, through the
// platform's own schema and indexes. Production installs already have these
// tables; the DDL here builds the same tables (columns, types, unique keys and
// every index, no more and no fewer) for tests, the demo and benchmarks, so
// that query plans measured here are the plans a real install gets.
//
// The queries follow the measured facts of DESIGN.md §9: the day's activity
// comes from one range scan of courseware_studentmodule on modified (and
// created) for all courses at once, filtered by course in Go; per-learner rows
// are read in batches of fewer than 200 learners through the unique
// (student_id, module_id, course_id) key; grade rows through their
// (course_id, user_id, ...) unique keys.
package lms

import (
	"context"
	"fmt"
	"strings"

	"github.com/figures-analytics/figures/internal/database"
)

// Tables lists every platform table figures reads.
var Tables = []string{
	"courseware_studentmodule",
	"student_courseenrollment",
	"auth_user",
	"auth_userprofile",
	"certificates_generatedcertificate",
	"course_overviews_courseoverview",
	"student_courseaccessrole",
	"grades_persistentsubsectiongrade",
	"grades_persistentsubsectiongradeoverride",
	"grades_persistentcoursegrade",
	"django_site",
	"site_configuration_siteconfiguration",
	"organizations_organization",
	"organizations_organizationcourse",
	"course_modes_coursemode",
	"course_groups_courseusergroup",
	"course_groups_cohortmembership",
	"course_groups_courseusergrouppartitiongroup",
	"course_groups_coursecohort",
	"course_groups_coursecohortssettings",
	"course_groups_unregisteredlearnercohortassignments",
	"user_api_usercoursetag",
}

// mysqlSchema is the platform's MySQL DDL for the tables above (Django
// migrations of the Olive–Teak releases; foreign-key constraints are left out
// because figures never writes, but the indexes Django creates for foreign
// keys are kept, since query plans depend on them).
var mysqlSchema = []string{
	`CREATE TABLE courseware_studentmodule (
  id bigint unsigned NOT NULL AUTO_INCREMENT,
  module_type varchar(32) NOT NULL,
  module_id varchar(255) NOT NULL,
  student_id int NOT NULL,
  state longtext NULL,
  grade double NULL,
  created datetime(6) NOT NULL,
  modified datetime(6) NOT NULL,
  max_grade double NULL,
  done varchar(8) NOT NULL DEFAULT 'na',
  course_id varchar(255) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY courseware_studentmodule_student_id_module_id_course_id_uniq (student_id, module_id, course_id),
  KEY courseware_studentmodule_module_type_idx (module_type),
  KEY courseware_studentmodule_student_id_idx (student_id),
  KEY courseware_studentmodule_course_id_idx (course_id),
  KEY courseware_studentmodule_grade_idx (grade),
  KEY courseware_studentmodule_created_idx (created),
  KEY courseware_studentmodule_modified_idx (modified),
  KEY courseware_stats (module_id, grade, student_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	`CREATE TABLE student_courseenrollment (
  id int NOT NULL AUTO_INCREMENT,
  course_id varchar(255) NOT NULL,
  created datetime(6) NULL,
  is_active tinyint(1) NOT NULL,
  mode varchar(100) NOT NULL,
  user_id int NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY student_courseenrollment_user_id_course_id_uniq (user_id, course_id),
  KEY student_courseenrollment_user_id_idx (user_id),
  KEY student_courseenrollment_course_id_idx (course_id),
  KEY student_courseenrollment_created_idx (created),
  KEY student_cou_user_id_b19dcd_idx (user_id, created DESC)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	`CREATE TABLE auth_user (
  id int NOT NULL AUTO_INCREMENT,
  password varchar(128) NOT NULL,
  last_login datetime(6) NULL,
  is_superuser tinyint(1) NOT NULL,
  username varchar(150) NOT NULL,
  first_name varchar(150) NOT NULL,
  last_name varchar(150) NOT NULL,
  email varchar(254) NOT NULL,
  is_staff tinyint(1) NOT NULL,
  is_active tinyint(1) NOT NULL,
  date_joined datetime(6) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY username (username)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	`CREATE TABLE auth_userprofile (
  id int NOT NULL AUTO_INCREMENT,
  name varchar(255) NOT NULL,
  meta longtext NOT NULL,
  courseware varchar(255) NOT NULL,
  language varchar(255) NOT NULL,
  location varchar(255) NOT NULL,
  year_of_birth int NULL,
  gender varchar(6) NULL,
  level_of_education varchar(6) NULL,
  mailing_address longtext NULL,
  city longtext NULL,
  country varchar(2) NULL,
  state varchar(2) NULL,
  goals longtext NULL,
  bio varchar(3000) NULL,
  profile_image_uploaded_at datetime(6) NULL,
  phone_number varchar(50) NULL,
  user_id int NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY user_id (user_id),
  KEY auth_userprofile_name_idx (name),
  KEY auth_userprofile_language_idx (language),
  KEY auth_userprofile_location_idx (location),
  KEY auth_userprofile_year_of_birth_idx (year_of_birth),
  KEY auth_userprofile_gender_idx (gender),
  KEY auth_userprofile_level_of_education_idx (level_of_education)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	`CREATE TABLE certificates_generatedcertificate (
  id int NOT NULL AUTO_INCREMENT,
  course_id varchar(255) NOT NULL,
  verify_uuid varchar(32) NOT NULL,
  download_uuid varchar(32) NOT NULL,
  download_url varchar(128) NOT NULL,
  grade varchar(5) NOT NULL,
  ` + "`key`" + ` varchar(32) NOT NULL,
  distinction tinyint(1) NOT NULL,
  status varchar(32) NOT NULL,
  mode varchar(32) NOT NULL,
  name varchar(255) NOT NULL,
  created_date datetime(6) NOT NULL,
  modified_date datetime(6) NOT NULL,
  error_reason varchar(512) NOT NULL,
  user_id int NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY certificates_generatedcertificate_user_id_course_id_uniq (user_id, course_id),
  KEY certificates_generatedcertificate_verify_uuid_idx (verify_uuid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	`CREATE TABLE course_overviews_courseoverview (
  created datetime(6) NOT NULL,
  modified datetime(6) NOT NULL,
  version int NOT NULL,
  id varchar(255) NOT NULL,
  _location varchar(255) NOT NULL,
  org longtext NOT NULL,
  display_name longtext NULL,
  display_number_with_default longtext NOT NULL,
  display_org_with_default longtext NOT NULL,
  start datetime(6) NULL,
  end datetime(6) NULL,
  advertised_start longtext NULL,
  announcement datetime(6) NULL,
  course_image_url longtext NOT NULL,
  certificates_display_behavior longtext NULL,
  certificates_show_before_end tinyint(1) NOT NULL,
  cert_html_view_enabled tinyint(1) NOT NULL,
  has_any_active_web_certificate tinyint(1) NOT NULL,
  cert_name_short longtext NOT NULL,
  cert_name_long longtext NOT NULL,
  lowest_passing_grade decimal(5,2) NULL,
  days_early_for_beta double NULL,
  mobile_available tinyint(1) NOT NULL,
  visible_to_staff_only tinyint(1) NOT NULL,
  _pre_requisite_courses_json longtext NOT NULL,
  enrollment_start datetime(6) NULL,
  enrollment_end datetime(6) NULL,
  enrollment_domain longtext NULL,
  invitation_only tinyint(1) NOT NULL,
  max_student_enrollments_allowed int NULL,
  catalog_visibility longtext NULL,
  short_description longtext NULL,
  course_video_url longtext NULL,
  effort longtext NULL,
  self_paced tinyint(1) NOT NULL,
  certificate_available_date datetime(6) NULL,
  language longtext NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	`CREATE TABLE student_courseaccessrole (
  id int NOT NULL AUTO_INCREMENT,
  org varchar(64) NOT NULL,
  course_id varchar(255) NOT NULL,
  role varchar(64) NOT NULL,
  user_id int NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY student_courseaccessrole_user_id_org_course_id_role_uniq (user_id, org, course_id, role),
  KEY student_courseaccessrole_user_id_idx (user_id),
  KEY student_courseaccessrole_org_idx (org),
  KEY student_courseaccessrole_course_id_idx (course_id),
  KEY student_courseaccessrole_role_idx (role)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	`CREATE TABLE grades_persistentsubsectiongrade (
  created datetime(6) NOT NULL,
  modified datetime(6) NOT NULL,
  id bigint unsigned NOT NULL AUTO_INCREMENT,
  user_id int NOT NULL,
  course_id varchar(255) NOT NULL,
  usage_key varchar(255) NOT NULL,
  subtree_edited_timestamp datetime(6) NULL,
  course_version varchar(255) NOT NULL,
  earned_all double NOT NULL,
  possible_all double NOT NULL,
  earned_graded double NOT NULL,
  possible_graded double NOT NULL,
  first_attempted datetime(6) NULL,
  visible_blocks_hash varchar(100) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY grades_persistentsubsecti_course_id_user_id_usage_uniq (course_id, user_id, usage_key),
  KEY course_id_usage_key_idx (modified, course_id, usage_key),
  KEY first_course_id_user_id_idx (first_attempted, course_id, user_id),
  KEY grades_persistentsubsectiongrade_visible_blocks_hash_idx (visible_blocks_hash)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	`CREATE TABLE grades_persistentsubsectiongradeoverride (
  id int NOT NULL AUTO_INCREMENT,
  created datetime(6) NOT NULL,
  modified datetime(6) NOT NULL,
  earned_all_override double NULL,
  possible_all_override double NULL,
  earned_graded_override double NULL,
  possible_graded_override double NULL,
  grade_id bigint unsigned NOT NULL,
  override_reason varchar(300) NULL,
  system varchar(100) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY grade_id (grade_id),
  KEY grades_persistentsubsectiongradeoverride_created_idx (created),
  KEY grades_persistentsubsectiongradeoverride_modified_idx (modified)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	`CREATE TABLE grades_persistentcoursegrade (
  created datetime(6) NOT NULL,
  modified datetime(6) NOT NULL,
  id bigint unsigned NOT NULL AUTO_INCREMENT,
  user_id int NOT NULL,
  course_id varchar(255) NOT NULL,
  course_edited_timestamp datetime(6) NULL,
  course_version varchar(255) NOT NULL,
  grading_policy_hash varchar(255) NOT NULL,
  percent_grade double NOT NULL,
  letter_grade varchar(255) NOT NULL,
  passed_timestamp datetime(6) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY grades_persistentcoursegrade_course_id_user_id_uniq (course_id, user_id),
  KEY grades_persistentcoursegrade_user_id_idx (user_id),
  KEY passed_timestamp_course_id (passed_timestamp, course_id),
  KEY modified_course_id (modified, course_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	`CREATE TABLE django_site (
  id int NOT NULL AUTO_INCREMENT,
  domain varchar(100) NOT NULL,
  name varchar(50) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY django_site_domain_uniq (domain)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	`CREATE TABLE site_configuration_siteconfiguration (
  id int NOT NULL AUTO_INCREMENT,
  enabled tinyint(1) NOT NULL,
  site_id int NOT NULL,
  site_values longtext NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY site_id (site_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	`CREATE TABLE organizations_organization (
  id int NOT NULL AUTO_INCREMENT,
  created datetime(6) NOT NULL,
  modified datetime(6) NOT NULL,
  name varchar(255) NOT NULL,
  short_name varchar(255) NOT NULL,
  description longtext NULL,
  logo varchar(255) NULL,
  active tinyint(1) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY organizations_organization_short_name_uniq (short_name),
  KEY organizations_organization_name_idx (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	`CREATE TABLE organizations_organizationcourse (
  id int NOT NULL AUTO_INCREMENT,
  created datetime(6) NOT NULL,
  modified datetime(6) NOT NULL,
  course_id varchar(255) NOT NULL,
  active tinyint(1) NOT NULL,
  organization_id int NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY organizations_organizationcourse_course_id_organization_id_uniq (course_id, organization_id),
  KEY organizations_organizationcourse_course_id_idx (course_id),
  KEY organizations_organizationcourse_organization_id_idx (organization_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	// common/djangoapps/course_modes/models.py CourseMode: unique
	// (course, mode_slug, currency); the course foreign key
	// (db_constraint=False, db_index=True) has its own index.
	`CREATE TABLE course_modes_coursemode (
  id int NOT NULL AUTO_INCREMENT,
  course_id varchar(255) NOT NULL,
  mode_slug varchar(100) NOT NULL,
  mode_display_name varchar(255) NOT NULL,
  min_price int NOT NULL,
  currency varchar(8) NOT NULL,
  expiration_datetime datetime(6) NULL,
  expiration_date date NULL,
  suggested_prices varchar(255) NOT NULL,
  description longtext NULL,
  sku varchar(255) NULL,
  expiration_datetime_is_explicit tinyint(1) NOT NULL,
  bulk_sku varchar(255) NULL,
  android_sku varchar(255) NULL,
  ios_sku varchar(255) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY course_modes_coursemode_course_id_mode_slug_currency_uniq (course_id, mode_slug, currency),
  KEY course_modes_coursemode_course_id_idx (course_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	// openedx/core/djangoapps/course_groups/models.py: CourseUserGroup
	// (unique (name, course_id), course_id indexed), CohortMembership
	// (unique (user, course_id), foreign keys indexed),
	// CourseUserGroupPartitionGroup and CourseCohort (one-to-one: unique
	// course_user_group_id), CourseCohortsSettings (unique course_id),
	// UnregisteredLearnerCohortAssignments (unique (course_id, email),
	// email and the foreign key indexed).
	`CREATE TABLE course_groups_courseusergroup (
  id int NOT NULL AUTO_INCREMENT,
  name varchar(255) NOT NULL,
  course_id varchar(255) NOT NULL,
  group_type varchar(20) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY course_groups_courseusergroup_name_course_id_uniq (name, course_id),
  KEY course_groups_courseusergroup_course_id_idx (course_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	`CREATE TABLE course_groups_cohortmembership (
  id int NOT NULL AUTO_INCREMENT,
  course_id varchar(255) NOT NULL,
  course_user_group_id int NOT NULL,
  user_id int NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY course_groups_cohortmembership_user_id_course_id_uniq (user_id, course_id),
  KEY course_groups_cohortmembership_course_user_group_id_idx (course_user_group_id),
  KEY course_groups_cohortmembership_user_id_idx (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	`CREATE TABLE course_groups_courseusergrouppartitiongroup (
  id int NOT NULL AUTO_INCREMENT,
  partition_id int NOT NULL,
  group_id int NOT NULL,
  created_at datetime(6) NOT NULL,
  updated_at datetime(6) NOT NULL,
  course_user_group_id int NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY course_user_group_id (course_user_group_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	`CREATE TABLE course_groups_coursecohort (
  id int NOT NULL AUTO_INCREMENT,
  assignment_type varchar(20) NOT NULL,
  course_user_group_id int NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY course_user_group_id (course_user_group_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	`CREATE TABLE course_groups_coursecohortssettings (
  id int NOT NULL AUTO_INCREMENT,
  is_cohorted tinyint(1) NOT NULL,
  course_id varchar(255) NOT NULL,
  cohorted_discussions longtext NULL,
  always_cohort_inline_discussions tinyint(1) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY course_id (course_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	`CREATE TABLE course_groups_unregisteredlearnercohortassignments (
  id int NOT NULL AUTO_INCREMENT,
  email varchar(255) NOT NULL,
  course_id varchar(255) NOT NULL,
  course_user_group_id int NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY course_groups_unregist_course_id_email_81a9d1db_uniq (course_id, email),
  KEY course_groups_unregisteredlearnercohortassignments_email_idx (email),
  KEY course_groups_unregisteredlearnercohortassignments_cug_id_idx (course_user_group_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	// openedx/core/djangoapps/user_api/models.py UserCourseTag: unique
	// (user, course_id, key); user, key and course_id each indexed.
	`CREATE TABLE user_api_usercoursetag (
  id int NOT NULL AUTO_INCREMENT,
  ` + "`key`" + ` varchar(255) NOT NULL,
  course_id varchar(255) NOT NULL,
  value longtext NOT NULL,
  user_id int NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY user_api_usercoursetag_user_id_course_id_key_uniq (user_id, course_id, ` + "`key`" + `),
  KEY user_api_usercoursetag_key_idx (` + "`key`" + `),
  KEY user_api_usercoursetag_course_id_idx (course_id),
  KEY user_api_usercoursetag_user_id_idx (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
}

// CreateSchema creates the platform tables figures reads, in an empty
// database, for tests, the demo and benchmarks. It never runs against a
// production LMS: figures only reads those.
func CreateSchema(ctx context.Context, db *database.DB) error {
	stmts := mysqlSchema
	if db.Dialect() == database.SQLite {
		stmts = sqliteSchema()
	} else if db.Dialect() != database.MySQL {
		return fmt.Errorf("LMS schema: %s is not an LMS database (use MySQL/MariaDB or SQLite)", db.Dialect())
	}
	for _, s := range stmts {
		if _, err := db.SQL().ExecContext(ctx, s); err != nil {
			return fmt.Errorf("LMS schema: %s: %w", firstLine(s), err)
		}
	}
	return nil
}

// DropSchema drops the platform tables created by CreateSchema.
func DropSchema(ctx context.Context, db *database.DB) error {
	for _, t := range Tables {
		if _, err := db.SQL().ExecContext(ctx, "DROP TABLE IF EXISTS "+t); err != nil {
			return fmt.Errorf("LMS schema: drop %s: %w", t, err)
		}
	}
	return nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return strings.TrimSuffix(strings.TrimSpace(l), "(")
}

// sqliteSchema translates the MySQL DDL to SQLite: the same columns, and the
// same unique keys and indexes as separate CREATE INDEX statements.
func sqliteSchema() []string {
	var out []string
	for _, s := range mysqlSchema {
		out = append(out, translateToSQLite(s)...)
	}
	return out
}

func translateToSQLite(ddl string) []string {
	lines := strings.Split(ddl, "\n")
	table := strings.Fields(lines[0])[2]
	var cols, indexes []string
	var pk string
	for _, l := range lines[1 : len(lines)-1] {
		l = strings.TrimSuffix(strings.TrimSpace(l), ",")
		switch {
		case strings.HasPrefix(l, "PRIMARY KEY"):
			pk = between(l, "(", ")")
		case strings.HasPrefix(l, "UNIQUE KEY"), strings.HasPrefix(l, "KEY"):
			unique := strings.HasPrefix(l, "UNIQUE")
			f := strings.Fields(l)
			name := f[1]
			if unique {
				name = f[2]
			}
			kw := "INDEX"
			if unique {
				kw = "UNIQUE INDEX"
			}
			idx := fmt.Sprintf("CREATE %s %s_%s ON %s (%s)", kw, table, strings.Trim(name, "`"), table, between(l, "(", ")"))
			indexes = append(indexes, idx)
		default:
			cols = append(cols, l)
		}
	}
	for i, c := range cols {
		name := strings.Fields(c)[0]
		typ := strings.ToLower(strings.Fields(c)[1])
		rest := strings.Join(strings.Fields(c)[2:], " ")
		rest = strings.ReplaceAll(rest, "AUTO_INCREMENT", "")
		var st string
		switch {
		case strings.HasPrefix(typ, "varchar"), strings.Contains(typ, "text"):
			st = "TEXT"
		case strings.HasPrefix(typ, "datetime"):
			st = "DATETIME"
		case strings.HasPrefix(typ, "date"):
			st = "DATE"
		case typ == "double", strings.HasPrefix(typ, "decimal"):
			st = "REAL"
		default:
			st = "INTEGER"
		}
		if name == pk && strings.Contains(c, "AUTO_INCREMENT") {
			cols[i] = name + " INTEGER PRIMARY KEY AUTOINCREMENT"
			continue
		}
		rest = strings.ReplaceAll(rest, "unsigned", "")
		cols[i] = strings.TrimSpace(name + " " + st + " " + strings.TrimSpace(rest))
	}
	body := strings.Join(cols, ",\n  ")
	if !strings.Contains(body, "PRIMARY KEY") && pk != "" {
		body += ",\n  PRIMARY KEY (" + pk + ")"
	}
	out := []string{"CREATE TABLE " + table + " (\n  " + body + "\n)"}
	return append(out, indexes...)
}

func between(s, open, close string) string {
	i := strings.Index(s, open)
	j := strings.LastIndex(s, close)
	if i < 0 || j < i {
		return ""
	}
	return s[i+1 : j]
}

// CheckSchema verifies that every table figures reads exists, so that a
// misconfigured LMS URL fails with the name of the missing table rather than
// a query error in the middle of a run.
func CheckSchema(ctx context.Context, db *database.DB) error {
	var missing []string
	for _, t := range Tables {
		rows, err := db.Query(ctx, "SELECT 1 FROM "+t+" WHERE 1 = 0")
		if database.IsTimeout(err) || database.Transient(err) {
			// Not a missing table: a database that does not answer.
			return fmt.Errorf("LMS %s: %s: %w", db.Location(), t, err)
		}
		if err != nil {
			missing = append(missing, t)
			continue
		}
		rows.Close()
	}
	if len(missing) > 0 {
		return fmt.Errorf("LMS database %s lacks table(s) %s: is this an Open edX LMS database?", db.Location(), strings.Join(missing, ", "))
	}
	return nil
}
