package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/figures-analytics/figures/internal/lms/lmstest"
	"github.com/figures-analytics/figures/internal/store"
)

// A store a newer figures migrated is refused by every command that opens
// it, with an error naming both schema versions; migrate does not call it
// up to date.
func TestNewerSchemaRefusedByCommands(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	storeURL := "sqlite:///" + filepath.Join(dir, "store.db")
	lmsURL := "sqlite:///" + filepath.Join(dir, "lms.db")
	lmstest.New(t, lmsURL)
	st, err := store.Open(ctx, storeURL)
	if err != nil {
		t.Fatal(err)
	}
	if out, _, err := runCLI(t, "migrate", "--store", storeURL); err != nil || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate of a current store: %q, %v", out, err)
	}
	known := store.KnownVersion()
	if _, err := st.DB().Exec(ctx, "INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)", known+1, true); err != nil {
		t.Fatal(err)
	}
	st.Close()
	want := fmt.Sprintf("version %d, this figures knows versions up to %d", known+1, known)
	for _, args := range [][]string{
		{"migrate", "--store", storeURL},
		{"run", "--lms", lmsURL, "--store", storeURL},
		{"backfill", "--lms", lmsURL, "--store", storeURL, "--from", "2026-01-01", "--to", "2026-01-02"},
		{"compare", "--lms", lmsURL, "--store", storeURL, "--date", "2026-01-01"},
		{"token", "list", "--store", storeURL},
		{"token", "create", "--all", "--store", storeURL},
	} {
		out, _, err := runCLI(t, args...)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(out, "up to date") {
			t.Errorf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if _, _, err := buildServer(ctx, serveOptions{storeURL: storeURL}); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("serve: %v", err)
	}
}
