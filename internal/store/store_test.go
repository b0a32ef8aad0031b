package store_test

import (
	"context"
	"testing"

	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/store"
)

func TestMigrate(t *testing.T) {
	dbtest.Each(t, dbtest.Stores(), func(t *testing.T, k dbtest.Kind) {
		db := k.Open(t)
		ctx := context.Background()
		if err := store.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		// A second run finds nothing to do.
		if err := store.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{
			"figures_sitedailymetrics", "figures_coursedailymetrics", "figures_learnercoursegrademetrics",
			"figures_enrollmentdata", "figures_sitemonthlymetrics", "figures_coursemaumetrics",
			"figures_sitemaumetrics", "figures_monthlyactiveenrollment", "figures_pipelineerror",
			"figures_site", "figures_course", "figures_sitecourse", "figures_learner",
			"figures_courseenrollment", "figures_courseoutline", "figures_run", "figures_watermark",
		} {
			var n int
			if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
				t.Errorf("%s: %v", table, err)
			}
		}
	})
}
