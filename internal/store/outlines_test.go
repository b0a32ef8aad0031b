package store_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/course"
	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/store"
	"github.com/figures-analytics/figures/internal/store/storetest"
)

func testOutline(id string, possible float64) *course.Outline {
	due := time.Date(2024, 2, 15, 23, 59, 0, 0, time.UTC)
	w := 2.5
	key, _ := course.ParseKey(id)
	o := &course.Outline{
		CourseID:    id,
		DisplayName: "Outline “quoted” — ünïcode",
		Source:      "olx:/exports/" + key.Run,
		Chapters: []course.Chapter{{
			UsageKey: key.UsageKey("chapter", "c1"), DisplayName: "Week 1",
			Subsections: []course.Subsection{{
				UsageKey: key.UsageKey("sequential", "s1"), DisplayName: "HW", Graded: true, Format: "Homework", Due: &due,
				Blocks: []course.Block{
					{UsageKey: key.UsageKey("problem", "p1"), Type: "problem", RawPossible: possible, Graded: true},
					{UsageKey: key.UsageKey("problem", "p2"), Type: "problem", Weight: &w, RawPossible: 4, Graded: true, Library: key.UsageKey("library_content", "l")},
				},
				Libraries: []course.Library{{UsageKey: key.UsageKey("library_content", "l"), MaxCount: 1, Children: []string{key.UsageKey("problem", "p2")}}},
			}},
		}},
		Warnings: []string{"problem/p9.xml: problem p9: something"},
	}
	o.ComputeVersion()
	return o
}

func TestOutlines(t *testing.T) {
	dbtest.Each(t, dbtest.Stores(), func(t *testing.T, k dbtest.Kind) {
		st := storetest.Open(t, k)
		db, ctx := st.DB(), context.Background()

		_, err := st.Outline(ctx, "course-v1:A+B+C")
		if !errors.Is(err, store.ErrNoOutline) || !strings.Contains(err.Error(), "course-v1:A+B+C") {
			t.Fatalf("missing outline: err = %v, want ErrNoOutline naming the course", err)
		}
		if all, err := st.Outlines(ctx); err != nil || len(all) != 0 {
			t.Fatalf("empty store: %v, %v", all, err)
		}

		a1 := testOutline("course-v1:A+B+C", 1)
		b := testOutline("course-v1:X+Y+Z", 1)
		// Same content from another source: same version, not a change.
		a1again := testOutline("course-v1:A+B+C", 1)
		a1again.Source = "olx:/elsewhere.tar.gz"
		a2 := testOutline("course-v1:A+B+C", 3)
		for i, step := range []struct {
			o       *course.Outline
			changed bool
		}{{a1, true}, {b, true}, {a1again, false}, {a2, true}, {a2, false}} {
			changed, err := st.SaveOutline(ctx, step.o)
			if err != nil {
				t.Fatal(err)
			}
			if changed != step.changed {
				t.Errorf("step %d: SaveOutline(%s %s) changed = %v, want %v", i, step.o.CourseID, step.o.Version, changed, step.changed)
			}
		}
		got, err := st.Outline(ctx, "course-v1:A+B+C")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, a2) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, a2)
		}
		all, err := st.Outlines(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2 || !reflect.DeepEqual(all["course-v1:A+B+C"], a2) || !reflect.DeepEqual(all["course-v1:X+Y+Z"], b) {
			t.Errorf("Outlines = %v", all)
		}
		var rows int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM figures_courseoutline").Scan(&rows); err != nil || rows != 2 {
			t.Errorf("%d rows (%v), want 2", rows, err)
		}
		if _, err := st.SaveOutline(ctx, &course.Outline{CourseID: "course-v1:A+B+C"}); err == nil || !strings.Contains(err.Error(), "ComputeVersion") {
			t.Errorf("unversioned outline: err = %v", err)
		}
	})
}
