package store

import (
	"context"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/figures-analytics/figures/internal/database/dbtest"
)

// TestAPIMigrationDown checks that the API migration (00003) goes down and
// up again on every database: its DROP INDEX differs between dialects.
func TestAPIMigrationDown(t *testing.T) {
	dbtest.Each(t, dbtest.Stores(), func(t *testing.T, k dbtest.Kind) {
		db := k.Open(t)
		ctx := context.Background()
		if err := Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		fsys, err := migrations(db.Dialect())
		if err != nil {
			t.Fatal(err)
		}
		p, err := goose.NewProvider(gooseDialects[db.Dialect()], db.SQL(), fsys, goose.WithDisableGlobalRegistry(true))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.DownTo(ctx, 2); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, "SELECT COUNT(*) FROM figures_apitoken"); err == nil {
			t.Fatal("figures_apitoken still there after going down")
		}
		if err := Migrate(ctx, db); err != nil {
			t.Fatalf("up again: %v", err)
		}
	})
}
