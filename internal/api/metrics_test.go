package api

import (
	"bytes"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/figures-analytics/figures/internal/database/dbtest"
)

// TestRunCollector checks the pipeline metrics read from figures_run.
func TestRunCollector(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		want := `
# HELP figures_pipeline_enrollments_examined_total Enrollments the pipeline runs examined.
# TYPE figures_pipeline_enrollments_examined_total counter
figures_pipeline_enrollments_examined_total{kind="backfill",workflow="legacy"} 0
figures_pipeline_enrollments_examined_total{kind="daily",workflow="next"} 22
# HELP figures_pipeline_enrollments_updated_total Enrollment rows the pipeline runs computed and wrote.
# TYPE figures_pipeline_enrollments_updated_total counter
figures_pipeline_enrollments_updated_total{kind="backfill",workflow="legacy"} 0
figures_pipeline_enrollments_updated_total{kind="daily",workflow="next"} 9
# HELP figures_pipeline_errors_total Errors the pipeline runs recorded (courses or enrollments that failed).
# TYPE figures_pipeline_errors_total counter
figures_pipeline_errors_total{kind="backfill",workflow="legacy"} 0
figures_pipeline_errors_total{kind="daily",workflow="next"} 1
# HELP figures_pipeline_last_run_duration_seconds Duration of the newest finished run of each kind.
# TYPE figures_pipeline_last_run_duration_seconds gauge
figures_pipeline_last_run_duration_seconds{kind="daily",status="partial"} 100
# HELP figures_pipeline_last_run_start_timestamp_seconds Start time of the newest run of each kind.
# TYPE figures_pipeline_last_run_start_timestamp_seconds gauge
figures_pipeline_last_run_start_timestamp_seconds{kind="backfill",status="running"} 1.70019e+09
figures_pipeline_last_run_start_timestamp_seconds{kind="daily",status="partial"} 1.7001864e+09
# HELP figures_pipeline_last_success_timestamp_seconds Finish time of the newest run of each kind with status ok.
# TYPE figures_pipeline_last_success_timestamp_seconds gauge
figures_pipeline_last_success_timestamp_seconds{kind="daily"} 1.70010003e+09
# HELP figures_pipeline_lms_statements_total SQL statements the pipeline runs sent to the LMS.
# TYPE figures_pipeline_lms_statements_total counter
figures_pipeline_lms_statements_total{kind="backfill",workflow="legacy"} 0
figures_pipeline_lms_statements_total{kind="daily",workflow="next"} 27
# HELP figures_pipeline_run_duration_seconds Duration of the finished pipeline runs.
# TYPE figures_pipeline_run_duration_seconds histogram
figures_pipeline_run_duration_seconds_bucket{kind="daily",workflow="next",le="1"} 0
figures_pipeline_run_duration_seconds_bucket{kind="daily",workflow="next",le="5"} 0
figures_pipeline_run_duration_seconds_bucket{kind="daily",workflow="next",le="15"} 0
figures_pipeline_run_duration_seconds_bucket{kind="daily",workflow="next",le="30"} 1
figures_pipeline_run_duration_seconds_bucket{kind="daily",workflow="next",le="60"} 1
figures_pipeline_run_duration_seconds_bucket{kind="daily",workflow="next",le="120"} 2
figures_pipeline_run_duration_seconds_bucket{kind="daily",workflow="next",le="300"} 2
figures_pipeline_run_duration_seconds_bucket{kind="daily",workflow="next",le="600"} 2
figures_pipeline_run_duration_seconds_bucket{kind="daily",workflow="next",le="1800"} 2
figures_pipeline_run_duration_seconds_bucket{kind="daily",workflow="next",le="3600"} 2
figures_pipeline_run_duration_seconds_bucket{kind="daily",workflow="next",le="7200"} 2
figures_pipeline_run_duration_seconds_bucket{kind="daily",workflow="next",le="+Inf"} 2
figures_pipeline_run_duration_seconds_sum{kind="daily",workflow="next"} 130
figures_pipeline_run_duration_seconds_count{kind="daily",workflow="next"} 2
# HELP figures_pipeline_running Runs of each kind recorded as running.
# TYPE figures_pipeline_running gauge
figures_pipeline_running{kind="backfill"} 1
# HELP figures_pipeline_runs_total Pipeline runs recorded in the store, by kind, workflow and status.
# TYPE figures_pipeline_runs_total counter
figures_pipeline_runs_total{kind="backfill",status="running",workflow="legacy"} 1
figures_pipeline_runs_total{kind="daily",status="ok",workflow="next"} 1
figures_pipeline_runs_total{kind="daily",status="partial",workflow="next"} 1
# HELP figures_store_up 1 when the store answered the pipeline metrics queries of this scrape, else 0.
# TYPE figures_store_up gauge
figures_store_up 1
`
		compareCollector(t, newRunCollector(e.db), want)
	})
}

// TestRunCollectorStoreDown checks that a store that does not answer is
// reported, not a failed scrape.
func TestRunCollectorStoreDown(t *testing.T) {
	db := dbtest.SQLite(t, "empty.db") // no tables
	want := `
# HELP figures_store_up 1 when the store answered the pipeline metrics queries of this scrape, else 0.
# TYPE figures_store_up gauge
figures_store_up 0
`
	compareCollector(t, newRunCollector(db), want)
}

// TestHTTPMetrics checks the request histograms: one series per route
// pattern (with and without the trailing slash counted as one) and status.
func TestHTTPMetrics(t *testing.T) {
	e := sqliteEnv(t)
	for _, p := range []string{"/figures/api/users-general/10/", "/figures/api/users-general/11", "/figures/api/users-general/12/",
		"/figures/api/courses-index/" + courseA1, "/figures/api/nope", "/healthz"} {
		e.get(t, e.tokAll, p)
	}
	code, body := e.get(t, e.tokAll, "/metrics")
	if code != 200 {
		t.Fatal(code)
	}
	for _, line := range []string{
		`figures_http_request_duration_seconds_count{code="200",route="/figures/api/users-general/{id}/"} 2`,
		`figures_http_request_duration_seconds_count{code="404",route="/figures/api/users-general/{id}/"} 1`,
		`figures_http_request_duration_seconds_count{code="200",route="/figures/api/courses-index/{rest...}"} 1`,
		`figures_http_request_duration_seconds_count{code="404",route="/figures/api/"} 1`,
		`figures_http_request_duration_seconds_count{code="200",route="/healthz"} 1`,
		`figures_store_up 1`,
		`go_goroutines `,
	} {
		if !strings.Contains(string(body), line) {
			t.Errorf("/metrics lacks %q", line)
		}
	}
	for _, l := range []struct{ pattern, want string }{
		{"GET /figures/api/users-general/{$}", "/figures/api/users-general/"},
		{"GET /figures/api/users-general", "/figures/api/users-general/"},
		{"GET /figures/api", "/figures/api/"},
		{"GET /figures/api/openapi.json", "/figures/api/openapi.json"},
		{"GET /figures/api/courses-general/{rest...}", "/figures/api/courses-general/{rest...}"},
		{"GET /metrics", "/metrics"},
		{"", "unmatched"},
	} {
		if got := routeLabel(l.pattern); got != l.want {
			t.Errorf("routeLabel(%q) = %q, want %q", l.pattern, got, l.want)
		}
	}
}

// compareCollector gathers c alone and compares its text exposition with
// want.
func compareCollector(t *testing.T, c prometheus.Collector, want string) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	if got := b.String(); got != strings.TrimLeft(want, "\n") {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}
