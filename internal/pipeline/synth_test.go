package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/lms"
	"github.com/figures-analytics/figures/internal/pipeline"
	"github.com/figures-analytics/figures/internal/progress"
	"github.com/figures-analytics/figures/internal/store"
	"github.com/figures-analytics/figures/internal/store/storetest"
	"github.com/figures-analytics/figures/internal/synth"
	"github.com/figures-analytics/figures/internal/synth/synthtest"
)

// On the synthetic LMS, compare finds legacy and next identical on every
// day of a 30-day history, the store advancing day by day with next as a
// daily job would; both grade sources. It is the heaviest test of the
// package, so it runs once per store, and the PostgreSQL store reads a
// SQLite LMS: legacy's thousands of probes of a MariaDB LMS are the
// mariadb run's.
func TestCompareEveryDaySynthetic(t *testing.T) {
	dbtest.EachBackend(t, func(t *testing.T, b dbtest.Backend) {
		if b.Store.Dialect == database.Postgres {
			b.LMS = dbtest.SQLiteKind
		}
		u := b.LMS.URL(t)
		ctx := context.Background()
		end := calendar.MustParse("2026-10-31")
		sum := synthtest.Seed(t, u, synth.Options{Scale: synth.Small, Seed: 7, EndDate: end, Days: 30})
		st, err := store.Open(ctx, storetest.URL(t, b.Store))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		synthtest.ImportOutlines(t, st, sum)
		r, err := lms.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		now := func() time.Time { return end.End().Add(time.Hour) }
		compared := 0
		for _, d := range calendar.Range(end.AddDays(-29), end) {
			for _, src := range []progress.Source{progress.Persisted, progress.StudentModule} {
				cmp, err := pipeline.Compare(ctx, r, st, pipeline.Config{Grades: src, Log: quiet, Now: now}, d, "")
				if err != nil {
					t.Fatal(err)
				}
				if !cmp.Identical() {
					t.Fatalf("%s, %s: %d differences, first %+v", d, src, len(cmp.Differences), cmp.Differences[0])
				}
				compared += cmp.Compared
			}
			if _, err := pipeline.Run(ctx, r, st, pipeline.Config{Date: d, Log: quiet, Now: now}); err != nil {
				t.Fatal(err)
			}
		}
		if compared < 200 {
			t.Errorf("only %d enrollment rows compared over 30 days: the dataset has too little activity to mean anything", compared)
		}
		t.Logf("%d enrollment rows compared identical over 30 days", compared)
	})
}
