package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/store"
	"github.com/figures-analytics/figures/internal/store/storetest"
)

// Two runs mirroring the sites of a new store at once deadlocked on
// MariaDB (2 trials of 5 of two concurrent first runs): the transaction
// is now retried, and both succeed, every time, on every store.
func TestConcurrentSaveSites(t *testing.T) {
	sites := []store.Site{{ID: 1, Domain: "a.example.com", Name: "A"}, {ID: 2, Domain: "b.example.com", Name: "B", Orgs: []string{"B"}},
		{ID: 3, Domain: "c.example.com", Name: "C", Orgs: []string{"C", "D"}}}
	courses := map[int][]string{1: {"course-v1:A+1+R", "course-v1:A+2+R"}, 2: {"course-v1:B+1+R"}, 3: {"course-v1:C+1+R", "course-v1:D+1+R"}}
	dbtest.Each(t, dbtest.Stores(), func(t *testing.T, k dbtest.Kind) {
		ctx := context.Background()
		url := storetest.URL(t, k)
		var sts [2]*store.Store
		for i := range sts {
			st, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			sts[i] = st
		}
		for trial := range 20 {
			for _, q := range []string{"DELETE FROM figures_sitecourse", "DELETE FROM figures_site"} {
				if _, err := sts[0].DB().Exec(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			start := make(chan bool)
			errs := make(chan error, 2)
			for _, st := range sts {
				go func() { <-start; errs <- st.SaveSites(ctx, sites, courses) }()
			}
			close(start)
			for range sts {
				if err := <-errs; err != nil {
					t.Fatalf("trial %d: %v", trial, err)
				}
			}
		}
		got, err := sts[1].Sites(ctx)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(sites) {
			t.Errorf("sites %v, %v; want %v", got, err, sites)
		}
	})
}
