package lms_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/lms"
)

const mgCourse = "course-v1:OrgX+C1+R1"

func mgKey(course, id string) string {
	return "block-v1:" + strings.TrimPrefix(course, "course-v1:") + "+type@problem+block@" + id
}

// seedMaxGrades writes the rows the assertions are about, plus background
// rows of other courses so that query plans are those of a real table
// rather than of a handful of rows.
func seedMaxGrades(t *testing.T, db *database.DB, background int) {
	t.Helper()
	ctx := context.Background()
	now := db.Time(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))
	type row struct {
		student   int
		module    string
		grade     any
		maxGrade  any
		course    string
		moduleTyp string
	}
	rows := []row{
		// p1: learners saw 2 and, after an edit, 3 points: the largest wins.
		{1, mgKey(mgCourse, "p1"), 1.0, 2.0, mgCourse, "problem"},
		{2, mgKey(mgCourse, "p1"), 3.0, 3.0, mgCourse, "problem"},
		// p2: a graded row and a row without a score.
		{1, mgKey(mgCourse, "p2"), 0.0, 5.0, mgCourse, "problem"},
		{2, mgKey(mgCourse, "p2"), nil, nil, mgCourse, "problem"},
		// p3: only opened, never scored: absent from the result.
		{3, mgKey(mgCourse, "p3"), nil, nil, mgCourse, "problem"},
		// A sequential's position row.
		{1, "block-v1:OrgX+C1+R1+type@sequential+block@s", nil, nil, mgCourse, "sequential"},
		// The same block id in another run of the course.
		{1, mgKey("course-v1:OrgX+C1+R2", "p1"), 9.0, 9.0, "course-v1:OrgX+C1+R2", "problem"},
	}
	for i := 0; i < background; i++ {
		c := fmt.Sprintf("course-v1:Bg+C%d+R", i%40)
		rows = append(rows, row{100 + i%97, mgKey(c, fmt.Sprintf("b%d", i%53)), 1.0, 1.0, c, "problem"})
	}
	const cols = "(module_type, module_id, student_id, state, grade, created, modified, max_grade, done, course_id)"
	for len(rows) > 0 {
		n := min(len(rows), 500)
		var b strings.Builder
		var args []any
		b.WriteString("INSERT INTO courseware_studentmodule " + cols + " VALUES ")
		for i, r := range rows[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, '{}', ?, ?, ?, ?, 'na', ?)")
			args = append(args, r.moduleTyp, r.module, r.student, r.grade, now, now, r.maxGrade, r.course)
		}
		rows = rows[n:]
		if _, err := db.Exec(ctx, b.String(), args...); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMaxGrades(t *testing.T) {
	for _, tc := range []struct {
		name       string
		open       func(testing.TB) *database.DB
		background int
	}{
		{"sqlite", func(t testing.TB) *database.DB { return dbtest.SQLite(t, "lms.db") }, 0},
		{"mysql", dbtest.MySQL, 20000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := tc.open(t)
			ctx := context.Background()
			if err := lms.CreateSchema(ctx, db); err != nil {
				t.Fatal(err)
			}
			seedMaxGrades(t, db, tc.background)
			want := map[string]float64{mgKey(mgCourse, "p1"): 3, mgKey(mgCourse, "p2"): 5}
			got, err := lms.MaxGrades(ctx, db, mgCourse)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("MaxGrades = %v, want %v", got, want)
			}
			// The adapter the Blocks API fetch takes.
			viaSource, err := lms.MaxGradesSource{DB: db}.MaxGrades(ctx, mgCourse)
			if err != nil || !reflect.DeepEqual(viaSource, want) {
				t.Errorf("MaxGradesSource = %v, %v", viaSource, err)
			}
			if none, err := lms.MaxGrades(ctx, db, "course-v1:None+N+N"); err != nil || len(none) != 0 {
				t.Errorf("unknown course: %v, %v", none, err)
			}
			if db.Dialect() != database.MySQL {
				return
			}
			if _, err := db.SQL().ExecContext(ctx, "ANALYZE TABLE courseware_studentmodule"); err != nil {
				t.Fatal(err)
			}
			plan := dbtest.Explain(t, db, `SELECT module_id, MAX(max_grade) FROM courseware_studentmodule
WHERE course_id = ? AND max_grade IS NOT NULL GROUP BY module_id`, mgCourse)
			if len(plan) == 0 {
				t.Fatal("EXPLAIN returned no rows")
			}
			t.Logf("plan: %v", plan)
			for _, p := range plan {
				if p["type"] == "ALL" || p["type"] == "index" {
					t.Errorf("plan scans the whole table or index: %v", p)
				}
				if p["key"] != "courseware_studentmodule_course_id_idx" {
					t.Errorf("plan uses key %q, want the course_id index: %v", p["key"], p)
				}
			}
		})
	}
}

func TestMaxGradesError(t *testing.T) {
	db := dbtest.SQLite(t, "empty.db")
	_, err := lms.MaxGrades(context.Background(), db, mgCourse)
	if err == nil || !strings.Contains(err.Error(), "max grades of "+mgCourse) || !strings.Contains(err.Error(), "courseware_studentmodule") {
		t.Fatalf("err = %v", err)
	}
}
