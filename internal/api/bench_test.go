package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/store"
)

// BenchmarkLearnerMetrics measures the learners progress overview's pages
// on a store of 40,000 enrollments (20,000 learners in 20 courses), the
// size the issue asks to be fast at. Run with
//
//	go test ./internal/api -run '^$' -bench LearnerMetrics -benchtime 50x
func BenchmarkLearnerMetrics(b *testing.B) {
	db := dbtest.SQLite(b, "bench.db")
	if err := store.Migrate(context.Background(), db); err != nil {
		b.Fatal(err)
	}
	loadLarge(b, db, 20, 20000, 2)
	if _, err := db.Exec(context.Background(), "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	e := newEnvOver(b, db)
	for _, q := range []string{
		"/figures/api/learner-metrics/",
		"/figures/api/learner-metrics/?ordering=profile__name&limit=20&offset=0",
		"/figures/api/learner-metrics/?ordering=profile__name&limit=20&offset=10000",
		"/figures/api/learner-metrics/?search=user0123&ordering=profile__name",
		"/figures/api/learner-metrics/?course=course-v1:BigX%2BC007%2B2024&ordering=profile__name",
		"/figures/api/learner-metrics/?course=course-v1:BigX%2BC007%2B2024&course=course-v1:BigX%2BC008%2B2024&search=learner&ordering=-username",
		"/figures/api/users-general/?ordering=profile__name",
		"/figures/api/courses-index/?limit=1000",
	} {
		b.Run(q, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, q, nil)
				req.Header.Set("Authorization", "Bearer "+e.tokAll)
				rec := httptest.NewRecorder()
				e.srv.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
