// Package storetest gives tests empty stores on every kind of database,
// and builds the progress rows that the store's write benchmarks insert,
// shared by the Go benchmarks and "figures bench".
package storetest

import (
	"context"
	"testing"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/store"
)

// ProgressBatch returns the i-th batch of n enrollments' rows for day d:
// learners i*n+1 … i*n+n of one course, so that distinct batches insert
// distinct enrollments.
func ProgressBatch(i, n int, d calendar.Date) ([]store.EnrollmentData, []store.GradeMetrics) {
	ed := make([]store.EnrollmentData, n)
	gm := make([]store.GradeMetrics, n)
	for k := range n {
		u := i*n + k + 1
		ed[k] = store.EnrollmentData{SiteID: 1, UserID: u, CourseID: "course-v1:Bench+C+R", DateFor: d, DateEnrolled: d.AddDays(-30),
			IsEnrolled: true, IsCompleted: u%7 == 0, ProgressPercent: 0.5, PointsPossible: 40, PointsEarned: 20,
			SectionsWorked: 10, SectionsPossible: 20, CollectElapsed: 0.001}
		gm[k] = store.GradeMetrics{SiteID: 1, UserID: u, CourseID: "course-v1:Bench+C+R", DateFor: d,
			PointsPossible: 40, PointsEarned: 20, SectionsWorked: 10, SectionsPossible: 20, CollectElapsed: 0.001}
	}
	return ed, gm
}

// URL returns the URL of an empty, migrated store of kind k: a new SQLite
// file, or a server database from dbtest's pool (see dbtest.Pooled).
func URL(t testing.TB, k dbtest.Kind) string {
	t.Helper()
	return dbtest.Pooled(t, k, "store", store.Migrate)
}

// Open opens an empty, migrated store of kind k (see URL), closed when t
// ends.
func Open(t testing.TB, k dbtest.Kind) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), URL(t, k))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
