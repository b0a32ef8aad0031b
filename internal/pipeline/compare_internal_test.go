package pipeline

import (
	"context"
	"strings"
	"testing"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/lms"
	"github.com/figures-analytics/figures/internal/store"
)

// diff reports each differing field of each enrollment next updated, and
// lists the enrollments only legacy touched.
func TestDiff(t *testing.T) {
	ctx := context.Background()
	d := calendar.MustParse("2026-11-20")
	open := func(name string) *store.Store {
		st, err := store.Open(ctx, dbtest.SQLiteURL(t, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	legacy, next := open("legacy.db"), open("next.db")
	ed := store.EnrollmentData{SiteID: 1, UserID: 7, CourseID: "course-v1:O+C+R", DateFor: d, IsEnrolled: true,
		ProgressPercent: 0.5, PointsPossible: 4, PointsEarned: 1, SectionsWorked: 1, SectionsPossible: 2}
	gm := store.GradeMetrics{SiteID: 1, UserID: 7, CourseID: "course-v1:O+C+R", DateFor: d,
		PointsPossible: 4, PointsEarned: 1, SectionsWorked: 1, SectionsPossible: 2}
	if err := legacy.SaveProgress(ctx, []store.EnrollmentData{ed}, []store.GradeMetrics{gm}); err != nil {
		t.Fatal(err)
	}
	ed.PointsEarned, gm.PointsEarned = 1.5, 1.5
	if err := next.SaveProgress(ctx, []store.EnrollmentData{ed}, []store.GradeMetrics{gm}); err != nil {
		t.Fatal(err)
	}
	p := lms.Pair{CourseID: "course-v1:O+C+R", UserID: 7}
	c := &Comparison{Date: d,
		Legacy: &Report{Touched: []Touched{{Pair: p}, {Pair: lms.Pair{CourseID: "course-v1:O+C+R", UserID: 9}, Reason: "newest activity later"}}},
		Next:   &Report{Touched: []Touched{{Pair: p}}}}
	if err := c.diff(ctx, legacy, next); err != nil {
		t.Fatal(err)
	}
	if c.Identical() || len(c.Differences) != 2 {
		t.Fatalf("differences: %+v, want points_earned in both tables", c.Differences)
	}
	for _, df := range c.Differences {
		if df.Field != "points_earned" || df.Legacy != "1" || df.Next != "1.5" || df.UserID != 7 {
			t.Errorf("difference %+v", df)
		}
	}
	if len(c.LegacyOnly) != 1 || c.LegacyOnly[0].UserID != 9 {
		t.Errorf("legacy only: %+v", c.LegacyOnly)
	}
	var b strings.Builder
	c.Print(&b)
	if !strings.Contains(b.String(), "2 differences") || !strings.Contains(b.String(), "newest activity later") {
		t.Errorf("output:\n%s", b.String())
	}
}
