package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

// A store that a newer figures migrated (a later migration applied) is
// refused, writable or read-only, with an error naming both versions.
func TestNewerSchemaRefused(t *testing.T) {
	dbtest.Each(t, dbtest.Stores(), func(t *testing.T, k dbtest.Kind) {
		url := k.URL(t)
		ctx := context.Background()
		st, err := store.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		known := store.KnownVersion()
		if v, err := store.SchemaVersion(ctx, st.DB()); err != nil || v != known {
			t.Fatalf("schema version %d (%v) after migrating, want %d", v, err, known)
		}
		if _, err := st.DB().Exec(ctx, "INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)", known+1, true); err != nil {
			t.Fatal(err)
		}
		st.Close()
		want := fmt.Sprintf("its schema is at version %d, this figures knows versions up to %d", known+1, known)
		for name, open := range map[string]func(context.Context, string) (*store.Store, error){
			"Open": store.Open, "OpenReadOnly": store.OpenReadOnly,
		} {
			st, err := open(ctx, url)
			if err == nil {
				st.Close()
			}
			if !errors.Is(err, store.ErrSchemaTooNew) || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %v, want ErrSchemaTooNew saying %q", name, err, want)
			}
		}
	})
}
