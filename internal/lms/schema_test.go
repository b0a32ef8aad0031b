package lms_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/lms"
)

func TestCreateSchemaSQLite(t *testing.T) {
	db := dbtest.SQLite(t, "lms.db")
	ctx := context.Background()
	if err := lms.CreateSchema(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := lms.CheckSchema(ctx, db); err != nil {
		t.Fatal(err)
	}
}

func TestCheckSchemaNamesMissingTable(t *testing.T) {
	db := dbtest.SQLite(t, "empty.db")
	err := lms.CheckSchema(context.Background(), db)
	if err == nil || !strings.Contains(err.Error(), "courseware_studentmodule") {
		t.Fatalf("want an error naming courseware_studentmodule, got %v", err)
	}
}

// The performance claims rest on having exactly the platform's indexes on
// the two big tables: no helpful extra index, none missing.
func TestMySQLIndexSet(t *testing.T) {
	db := dbtest.MySQL(t)
	ctx := context.Background()
	if err := lms.CreateSchema(ctx, db); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"courseware_studentmodule": {
			"PRIMARY(id)",
			"UNIQUE(student_id,module_id,course_id)",
			"courseware_stats(module_id,grade,student_id)",
			"(course_id)", "(created)", "(grade)", "(modified)", "(module_type)", "(student_id)",
		},
		"student_courseenrollment": {
			"PRIMARY(id)",
			"UNIQUE(user_id,course_id)",
			"(course_id)", "(created)", "(user_id)", "(user_id,created)",
		},
		// The tables learners' groups come from, as their Django models
		// declare them (unique_together, one-to-one and foreign keys,
		// db_index fields).
		"course_modes_coursemode":                            {"PRIMARY(id)", "UNIQUE(course_id,mode_slug,currency)", "(course_id)"},
		"course_groups_courseusergroup":                      {"PRIMARY(id)", "UNIQUE(name,course_id)", "(course_id)"},
		"course_groups_cohortmembership":                     {"PRIMARY(id)", "UNIQUE(user_id,course_id)", "(course_user_group_id)", "(user_id)"},
		"course_groups_courseusergrouppartitiongroup":        {"PRIMARY(id)", "UNIQUE(course_user_group_id)"},
		"course_groups_coursecohort":                         {"PRIMARY(id)", "UNIQUE(course_user_group_id)"},
		"course_groups_coursecohortssettings":                {"PRIMARY(id)", "UNIQUE(course_id)"},
		"course_groups_unregisteredlearnercohortassignments": {"PRIMARY(id)", "UNIQUE(course_id,email)", "(course_user_group_id)", "(email)"},
		"user_api_usercoursetag":                             {"PRIMARY(id)", "UNIQUE(user_id,course_id,key)", "(course_id)", "(key)", "(user_id)"},
	}
	for table, w := range want {
		rows, err := db.SQL().QueryContext(ctx, `SELECT index_name, non_unique, column_name
			FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ?
			ORDER BY index_name, seq_in_index`, table)
		if err != nil {
			t.Fatal(err)
		}
		cols := map[string][]string{}
		uniq := map[string]bool{}
		for rows.Next() {
			var name, col string
			var nonUnique int
			if err := rows.Scan(&name, &nonUnique, &col); err != nil {
				t.Fatal(err)
			}
			cols[name] = append(cols[name], col)
			uniq[name] = nonUnique == 0
		}
		rows.Close()
		var got []string
		for name, c := range cols {
			label := ""
			switch {
			case name == "PRIMARY":
				label = "PRIMARY"
			case name == "courseware_stats":
				label = name
			case uniq[name]:
				label = "UNIQUE"
			}
			got = append(got, label+"("+strings.Join(c, ",")+")")
		}
		sort.Strings(got)
		sort.Strings(w)
		if strings.Join(got, " ") != strings.Join(w, " ") {
			t.Errorf("%s indexes:\n got %v\nwant %v", table, got, w)
		}
	}
}
