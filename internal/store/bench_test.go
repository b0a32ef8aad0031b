package store_test

import (
	"context"
	"testing"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/store"
	"github.com/figures-analytics/figures/internal/store/storetest"
)

// benchBatch is the batch the pipeline writes per course at most: fewer
// than 200 learners (lms.MaxInList), here 200 enrollments.
const benchBatch = 200

// BenchmarkSaveProgress measures SaveProgress on SQLite in 200-enrollment
// batches, one transaction each; one op is one batch. "new" writes
// enrollments the store has never seen (first snapshots); "daily" writes
// a later day's snapshot of enrollments the store holds, as a daily run
// does (the enrollment data updated, a grade-metrics row added).
func BenchmarkSaveProgress(b *testing.B) {
	ctx := context.Background()
	day := calendar.MustParse("2025-03-31")
	for _, mode := range []string{"new", "daily"} {
		b.Run(mode, func(b *testing.B) {
			st, err := store.Open(ctx, dbtest.SQLiteURL(b, "store.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			const held = 50 // batches of enrollments the store already holds for "daily"
			if mode == "daily" {
				for i := range held {
					ed, gm := storetest.ProgressBatch(i, benchBatch, day.AddDays(-1))
					if err := st.SaveProgress(ctx, ed, gm); err != nil {
						b.Fatal(err)
					}
				}
			}
			type batch struct {
				ed []store.EnrollmentData
				gm []store.GradeMetrics
			}
			batches := make([]batch, held)
			for i := range batches {
				batches[i].ed, batches[i].gm = storetest.ProgressBatch(i, benchBatch, day)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var ed []store.EnrollmentData
				var gm []store.GradeMetrics
				if mode == "new" {
					ed, gm = storetest.ProgressBatch(held+i, benchBatch, day)
				} else {
					// Cycling through the held enrollments, a day later each
					// round, so every write moves a snapshot forward.
					k := i % held
					d := day.AddDays(i / held)
					ed, gm = batches[k].ed, batches[k].gm
					for j := range ed {
						ed[j].DateFor, gm[j].DateFor = d, d
					}
				}
				if err := st.SaveProgress(ctx, ed, gm); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "enrollments/s")
		})
	}
}
