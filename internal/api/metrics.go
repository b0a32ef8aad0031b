package api

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/figures-analytics/figures/internal/database"
)

// httpMetrics instruments the API.
type httpMetrics struct {
	duration *prometheus.HistogramVec
	prom     http.Handler
}

func newHTTPMetrics(reg prometheus.Registerer, db *database.DB) (*httpMetrics, error) {
	m := &httpMetrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "figures_http_request_duration_seconds",
			Help:    "Time to answer API requests, by route pattern and status code.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "code"}),
	}
	if err := reg.Register(m.duration); err != nil {
		return nil, fmt.Errorf("api: register HTTP metrics: %w", err)
	}
	if err := reg.Register(newRunCollector(db)); err != nil {
		return nil, fmt.Errorf("api: register pipeline metrics: %w", err)
	}
	return m, nil
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	code int
}

// WriteHeader implements http.ResponseWriter.
func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush implements http.Flusher.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// instrument observes each request's duration under the route pattern it
// matched (never the raw path, whose ids would make a series each).
func (m *httpMetrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		r.Pattern = ""
		defer func() {
			// Runs during an aborted response's panic too, which is then
			// recorded with the status already sent.
			route := routeLabel(r.Pattern)
			code := sw.code
			if code == 0 {
				code = http.StatusOK
			}
			m.duration.WithLabelValues(route, strconv.Itoa(code)).Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(sw, r)
	})
}

// routeLabel names a route for the metrics: its pattern without the
// method, with and without the trailing slash counted as one route
// ("/figures/api/users-general/{$}" and "/figures/api/users-general" are
// both "/figures/api/users-general/").
func routeLabel(pattern string) string {
	p := strings.TrimPrefix(pattern, "GET ")
	switch {
	case p == "":
		return "unmatched"
	case strings.HasSuffix(p, "/{$}"):
		return strings.TrimSuffix(p, "{$}")
	case strings.HasPrefix(p+"/", Prefix) && !strings.HasSuffix(p, "/") && !strings.HasSuffix(p, "...}") && !strings.HasSuffix(p, ".json"):
		return p + "/"
	}
	return p
}

// metrics serves Prometheus' exposition.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.met.prom.ServeHTTP(w, r)
}

// slogPromLogger passes promhttp's errors to the server's log.
type slogPromLogger struct{ s *Server }

// Println implements promhttp.Logger.
func (l slogPromLogger) Println(v ...any) { l.s.log.Error("prometheus: " + fmt.Sprint(v...)) }

// runCollector exports the pipeline's runs, read from the store's
// figures_run table at scrape time: the pipeline runs in other processes
// (cron, workers), so the table is the one place that knows them all.
type runCollector struct {
	db *database.DB

	up, runs, examined, updated, errors, statements *prometheus.Desc
	duration, lastDuration, lastStart, lastSuccess  *prometheus.Desc
	running                                         *prometheus.Desc
}

// runDurationBuckets are the run duration histogram's upper bounds, in
// seconds: from an incremental run of a few seconds to a full legacy sweep.
var runDurationBuckets = []float64{1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200}

func newRunCollector(db *database.DB) *runCollector {
	kw := []string{"kind", "workflow"}
	return &runCollector{
		db:           db,
		up:           prometheus.NewDesc("figures_store_up", "1 when the store answered the pipeline metrics queries of this scrape, else 0.", nil, nil),
		runs:         prometheus.NewDesc("figures_pipeline_runs_total", "Pipeline runs recorded in the store, by kind, workflow and status.", []string{"kind", "workflow", "status"}, nil),
		examined:     prometheus.NewDesc("figures_pipeline_enrollments_examined_total", "Enrollments the pipeline runs examined.", kw, nil),
		updated:      prometheus.NewDesc("figures_pipeline_enrollments_updated_total", "Enrollment rows the pipeline runs computed and wrote.", kw, nil),
		errors:       prometheus.NewDesc("figures_pipeline_errors_total", "Errors the pipeline runs recorded (courses or enrollments that failed).", kw, nil),
		statements:   prometheus.NewDesc("figures_pipeline_lms_statements_total", "SQL statements the pipeline runs sent to the LMS.", kw, nil),
		duration:     prometheus.NewDesc("figures_pipeline_run_duration_seconds", "Duration of the finished pipeline runs.", kw, nil),
		lastDuration: prometheus.NewDesc("figures_pipeline_last_run_duration_seconds", "Duration of the newest finished run of each kind.", []string{"kind", "status"}, nil),
		lastStart:    prometheus.NewDesc("figures_pipeline_last_run_start_timestamp_seconds", "Start time of the newest run of each kind.", []string{"kind", "status"}, nil),
		lastSuccess:  prometheus.NewDesc("figures_pipeline_last_success_timestamp_seconds", "Finish time of the newest run of each kind with status ok.", []string{"kind"}, nil),
		running:      prometheus.NewDesc("figures_pipeline_running", "Runs of each kind recorded as running.", []string{"kind"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *runCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.runs, c.examined, c.updated, c.errors, c.statements, c.duration, c.lastDuration, c.lastStart, c.lastSuccess, c.running} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. A store that does not answer
// gives figures_store_up 0 and no pipeline series, rather than a failed
// scrape, so that the alert can say what is wrong.
func (c *runCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var ms []prometheus.Metric
	err := c.collect(ctx, func(m prometheus.Metric) { ms = append(ms, m) })
	up := 1.0
	if err != nil {
		up, ms = 0, nil
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up)
	for _, m := range ms {
		ch <- m
	}
}

// durationSQL is a run's duration in seconds in each dialect.
func durationSQL(d database.Dialect) string {
	switch d {
	case database.MySQL:
		return "TIMESTAMPDIFF(MICROSECOND, started, finished) / 1000000.0"
	case database.Postgres:
		return "EXTRACT(EPOCH FROM (finished - started))"
	default:
		// julianday's float arithmetic is off by microseconds; milliseconds
		// are all a run duration needs.
		return "ROUND((julianday(finished) - julianday(started)) * 86400.0, 3)"
	}
}

func (c *runCollector) collect(ctx context.Context, emit func(prometheus.Metric)) error {
	rows, err := c.db.Query(ctx, `SELECT kind, workflow, status, COUNT(*), SUM(enrollments_examined), SUM(enrollments_updated), SUM(errors), SUM(lms_statements)
FROM figures_run GROUP BY kind, workflow, status`)
	if err != nil {
		return err
	}
	type kw struct{ kind, workflow string }
	sums := map[kw][4]float64{}
	var order []kw
	for rows.Next() {
		var (
			kind, workflow, status string
			n                      int64
			ex, up, er, st         sql.NullFloat64
		)
		if err := rows.Scan(&kind, &workflow, &status, &n, &ex, &up, &er, &st); err != nil {
			rows.Close()
			return err
		}
		emit(prometheus.MustNewConstMetric(c.runs, prometheus.CounterValue, float64(n), kind, workflow, status))
		k := kw{kind, workflow}
		if _, ok := sums[k]; !ok {
			order = append(order, k)
		}
		s := sums[k]
		s[0], s[1], s[2], s[3] = s[0]+ex.Float64, s[1]+up.Float64, s[2]+er.Float64, s[3]+st.Float64
		sums[k] = s
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, k := range order {
		s := sums[k]
		emit(prometheus.MustNewConstMetric(c.examined, prometheus.CounterValue, s[0], k.kind, k.workflow))
		emit(prometheus.MustNewConstMetric(c.updated, prometheus.CounterValue, s[1], k.kind, k.workflow))
		emit(prometheus.MustNewConstMetric(c.errors, prometheus.CounterValue, s[2], k.kind, k.workflow))
		emit(prometheus.MustNewConstMetric(c.statements, prometheus.CounterValue, s[3], k.kind, k.workflow))
	}

	// The duration histogram, bucketed in SQL: one row per kind and
	// workflow however many runs the table holds.
	dur := durationSQL(c.db.Dialect())
	var cols strings.Builder
	for _, b := range runDurationBuckets {
		fmt.Fprintf(&cols, ", SUM(CASE WHEN %s <= %g THEN 1 ELSE 0 END)", dur, b)
	}
	rows, err = c.db.Query(ctx, "SELECT kind, workflow, COUNT(*), SUM("+dur+")"+cols.String()+
		" FROM figures_run WHERE finished IS NOT NULL GROUP BY kind, workflow")
	if err != nil {
		return err
	}
	for rows.Next() {
		var (
			kind, workflow string
			n              int64
			sum            sql.NullFloat64
		)
		counts := make([]sql.NullFloat64, len(runDurationBuckets))
		dest := []any{&kind, &workflow, &n, &sum}
		for i := range counts {
			dest = append(dest, &counts[i])
		}
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return err
		}
		buckets := map[float64]uint64{}
		for i, b := range runDurationBuckets {
			buckets[b] = uint64(counts[i].Float64)
		}
		emit(prometheus.MustNewConstHistogram(c.duration, uint64(n), sum.Float64, buckets, kind, workflow))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	// The newest run of each kind, through the (kind, started) index.
	rows, err = c.db.Query(ctx, "SELECT r.id, r.kind, r.status, r.started, r.finished FROM figures_run r"+
		" WHERE r.started = (SELECT MAX(r2.started) FROM figures_run r2 WHERE r2.kind = r.kind) ORDER BY r.kind, r.id DESC")
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for rows.Next() {
		var (
			id               int64
			kind, status     string
			started, finishd database.NullTime
		)
		if err := rows.Scan(&id, &kind, &status, &started, &finishd); err != nil {
			rows.Close()
			return err
		}
		if seen[kind] {
			continue
		}
		seen[kind] = true
		emit(prometheus.MustNewConstMetric(c.lastStart, prometheus.GaugeValue, unixSeconds(started), kind, status))
		if finishd.Valid && started.Valid {
			emit(prometheus.MustNewConstMetric(c.lastDuration, prometheus.GaugeValue, finishd.Time.Sub(started.Time).Seconds(), kind, status))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	rows, err = c.db.Query(ctx, "SELECT kind, MAX(finished) FROM figures_run WHERE status = 'ok' GROUP BY kind")
	if err != nil {
		return err
	}
	for rows.Next() {
		var (
			kind string
			last database.NullTime
		)
		if err := rows.Scan(&kind, &last); err != nil {
			rows.Close()
			return err
		}
		if last.Valid {
			emit(prometheus.MustNewConstMetric(c.lastSuccess, prometheus.GaugeValue, unixSeconds(last), kind))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	rows, err = c.db.Query(ctx, "SELECT kind, COUNT(*) FROM figures_run WHERE status = 'running' GROUP BY kind")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			kind string
			n    int64
		)
		if err := rows.Scan(&kind, &n); err != nil {
			return err
		}
		emit(prometheus.MustNewConstMetric(c.running, prometheus.GaugeValue, float64(n), kind))
	}
	return rows.Err()
}

func unixSeconds(t database.NullTime) float64 {
	if !t.Valid {
		return 0
	}
	return float64(t.Time.UnixMicro()) / 1e6
}
