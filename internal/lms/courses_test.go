package lms_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/lms"
	. "github.com/figures-analytics/figures/internal/lms/lmstest"
)

// Courses lists every course with an overview and every course that only
// enrollments name, however many of those lie between two known courses
// (each costs the index skip a round), before the first or after the last;
// an enrollment whose course id is not a course key is ignored.
func TestCoursesWithoutOverviews(t *testing.T) {
	for _, k := range dbtest.LMSes() {
		t.Run(k.Name, func(t *testing.T) {
			u := k.URL(t)
			l := New(t, u)
			const (
				a  = "course-v1:A+A+R" // enrollments only, before every known course
				b  = "course-v1:B+B+R"
				c1 = "course-v1:C+C1+R" // three in a row between b and d
				c2 = "course-v1:C+C2+R"
				c3 = "course-v1:C+C3+R"
				d  = "course-v1:D+D+R"
				e  = "course-v1:E+E+R" // enrollments only, after every known course
				f  = "course-v1:F+F+R" // an overview without enrollments
			)
			l.Course(b, "B", "Course B")
			l.Course(d, "D", "Course D")
			l.Course(f, "F", "Course F")
			at := At("2026-11-01 00:00:00")
			user := 0
			for _, c := range []string{a, b, b, c1, c2, c2, c3, d, e, "junk"} {
				user++
				l.Enroll(user, c, at, true)
			}
			r, err := lms.Open(context.Background(), u)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			before := r.Statements()
			courses, err := r.Courses(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range courses {
				got = append(got, fmt.Sprintf("%s %q overview=%v", c.ID, c.DisplayName, c.HasOverview))
			}
			sort.Strings(got)
			want := []string{
				a + ` "` + a + `" overview=false`,
				b + ` "Course B" overview=true`,
				c1 + ` "` + c1 + `" overview=false`,
				c2 + ` "` + c2 + `" overview=false`,
				c3 + ` "` + c3 + `" overview=false`,
				d + ` "Course D" overview=true`,
				e + ` "` + e + `" overview=false`,
				f + ` "Course F" overview=true`,
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("Courses:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			// Overviews, organizations, and four rounds of probes: from the
			// known courses (finding a, c1, e and "junk"), then from those (c2),
			// then c3, then d, already known.
			if n := r.Statements() - before; n != 6 {
				t.Errorf("Courses sent %d statements, want 6", n)
			}
		})
	}
}
