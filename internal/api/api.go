// Package api serves figures' store as the Figures REST API: the original
// Open edX Figures endpoints under /figures/api/ with the same paths, query
// parameters, pagination envelopes and JSON field names, read-only, plus CSV
// export of every list, an OpenAPI 3 description, Prometheus metrics and a
// health check.
//
// Every endpoint but /healthz needs a caller (an API token or an Open edX
// JWT, see Authenticator), and every answer is scoped to one site (see
// Server.ResolveSite): a caller never sees another site's data.
//
// The package reads only the store: the pipeline, in another process, keeps
// the store's tables up to date. The one optional outside source is the
// LMS, for the live monthly-active-user counts of the current month (see
// LiveActivity).
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/store"
)

// Prefix is where the API is mounted.
const Prefix = "/figures/api/"

// Config configures the API handler.
type Config struct {
	// Store is the figures store to read. Required.
	Store *store.Store
	// Auth authenticates callers. Required: NewAuthenticator builds one.
	Auth *Authenticator
	// Live answers the live (current month) active-user counts from the LMS.
	// Nil: they come from the store's monthly active enrollments, as of the
	// pipeline's last run.
	Live LiveActivity
	// DefaultSite is the site a global caller gets when neither ?site= nor
	// the Host header names one. 0: the site with the lowest id.
	DefaultSite int
	// PublicURL is the URL clients reach the API at, e.g.
	// https://lms.example.com (a path prefix is kept): the scheme and host
	// of every absolute link the API writes (next, previous, the API
	// root). Empty: links are path-absolute, unless TrustProxy.
	PublicURL string
	// TrustProxy makes the handler believe X-Forwarded-Proto and
	// X-Forwarded-Host (or the Host header the proxy passes on), for
	// absolute links when no PublicURL is set and for Host-based site
	// matching, behind a reverse proxy that sets them.
	TrustProxy bool
	// Registerer receives the API's Prometheus collectors; /metrics serves
	// Gatherer. Both nil: a private registry is made.
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// CompletionStatuses are the certificate statuses that mean a learner
	// completed a course (the pipeline's --completion-status). Nil:
	// downloadable.
	CompletionStatuses []string
	// CountCacheTTL is how long a list's row count is reused (0: 10 s;
	// negative: never). Counts read every selected row and change only
	// when the pipeline runs.
	CountCacheTTL time.Duration
	// Logger logs server-side failures. Nil: slog.Default().
	Logger *slog.Logger
	// Now is the clock (tests set it). Nil: time.Now.
	Now func() time.Time
	// Schedule reports the pipeline's scheduler, for
	// /figures/api/pipeline-runs/schedule/: its schedule ("daily@02:00",
	// "every 15m"), when its next run starts (zero: not known yet) and
	// whether one of its runs is in progress. Nil: no scheduler is
	// configured (the pipeline runs from cron or by hand).
	Schedule func() (spec string, next time.Time, running bool)
	// MaxInFlight bounds the /figures/api/ requests served at once; the
	// others wait in arrival order (0: no bound). CSV exports take at
	// most half of them. Set it to the store's
	// connection pool: database/sql hands a freed connection to a random
	// waiter, so under a burst some requests would otherwise wait many
	// times the median, while an arrival-order queue in front of the pool
	// keeps the slowest requests close to the rest.
	MaxInFlight int
	// StoreTimeout bounds a request's wait for the store: its in-flight
	// slot, its database connection and its statements (0: 30 s). A
	// request that runs out answers 503 naming the store; the client's
	// own reading speed does not count (see WriteTimeout).
	StoreTimeout time.Duration
	// ExportTimeout is StoreTimeout for CSV exports (?format=csv), which
	// read every selected row (0: 5 minutes).
	ExportTimeout time.Duration
	// WriteTimeout bounds each write of a response to the client (0: 30 s):
	// a client that accepts no byte for that long is dropped. Responses
	// are sent by a goroutine of their own from a spool (memory, then a
	// temporary file), so a slow client never holds a slot or a database
	// connection.
	WriteTimeout time.Duration
	// SpoolDir is where responses that outgrow their memory spool while
	// the client lags continue ("": os.TempDir()). The files are unlinked
	// as soon as they are made.
	SpoolDir string
	// HealthTimeout bounds /healthz's store query (0: 5 s).
	HealthTimeout time.Duration
	// HealthStall is how long every in-flight slot may stay busy with none
	// freed before /healthz reports the API saturated (0: 15 s).
	HealthStall time.Duration
}

// Server is the API's http.Handler. It serves /figures/api/..., /metrics
// and /healthz; mount it on those paths.
type Server struct {
	db     *database.DB
	auth   *Authenticator
	live   LiveActivity
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
	mux    *http.ServeMux
	h      http.Handler
	gather prometheus.Gatherer
	met    *httpMetrics
	spec   []byte

	// public is PublicURL, checked, without its trailing slash.
	public string

	siteCache  siteCache
	counts     countCache
	completion []string

	// gate holds a slot per request in flight (Config.MaxInFlight);
	// exports holds one per CSV export among them (half as many).
	gate, exports *gate

	storeTimeout, exportTimeout, writeTimeout, healthTimeout, healthStall time.Duration

	// rowHook, when set (tests only), is called for every row a CSV export
	// reads from the database, so a test can see that output leaves before
	// the cursor is drained.
	rowHook func()
}

// NewHandler returns the API handler.
func NewHandler(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("api: no store")
	}
	if cfg.Auth == nil {
		return nil, fmt.Errorf("api: no authenticator")
	}
	s := &Server{
		db:   cfg.Store.DB(),
		auth: cfg.Auth,
		live: cfg.Live,
		cfg:  cfg,
		log:  cfg.Logger,
		now:  cfg.Now,
		mux:  http.NewServeMux(),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.completion = cfg.CompletionStatuses
	if len(s.completion) == 0 {
		s.completion = []string{"downloadable"}
	}
	s.counts = countCache{ttl: cfg.CountCacheTTL, entries: map[string]countEntry{}}
	if s.counts.ttl == 0 {
		s.counts.ttl = 10 * time.Second
	}
	reg, gat := cfg.Registerer, cfg.Gatherer
	if reg == nil && gat == nil {
		r := prometheus.NewRegistry()
		r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		reg, gat = r, r
	}
	if reg == nil || gat == nil {
		return nil, fmt.Errorf("api: set both Registerer and Gatherer, or neither")
	}
	s.gather = gat
	met, err := newHTTPMetrics(reg, s.db)
	if err != nil {
		return nil, err
	}
	s.met = met
	met.prom = promhttp.HandlerFor(gat, promhttp.HandlerOpts{ErrorLog: slogPromLogger{s}})
	spec, err := buildSpec()
	if err != nil {
		return nil, fmt.Errorf("api: OpenAPI description: %w", err)
	}
	s.spec = spec
	s.routes()
	if s.public, err = parsePublicURL(cfg.PublicURL); err != nil {
		return nil, err
	}
	s.gate = newGate(cfg.MaxInFlight, s.now)
	s.exports = newGate(max(cfg.MaxInFlight/2, min(cfg.MaxInFlight, 1)), s.now)
	s.storeTimeout = orDefault(cfg.StoreTimeout, 30*time.Second)
	s.exportTimeout = orDefault(cfg.ExportTimeout, 5*time.Minute)
	s.writeTimeout = orDefault(cfg.WriteTimeout, 30*time.Second)
	s.healthTimeout = orDefault(cfg.HealthTimeout, 5*time.Second)
	s.healthStall = orDefault(cfg.HealthStall, 15*time.Second)
	s.h = s.met.instrument(s.readOnly(s.admit(s.mux)))
	return s, nil
}

// Authenticator returns the handler's Authenticator, for pages served
// beside the API that must accept the same callers.
func (s *Server) Authenticator() *Authenticator { return s.auth }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.h.ServeHTTP(w, r) }

// readOnly answers every method but GET and HEAD with 405, as JSON: the API
// never changes data (the original's ModelViewSet writes on the daily
// metrics are deliberately not offered).
func (s *Server) readOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeDetail(w, http.StatusMethodNotAllowed, fmt.Sprintf("Method %q not allowed.", r.Method))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// admit runs the /figures/api/ requests: at most MaxInFlight at a time, in
// arrival order (goroutines blocked sending on a channel are woken
// first-in, first-out), each with a deadline on its store work, each
// answering through a spool so that the slot and the database connection
// are free again as soon as the store has answered, whatever the client's
// pace. /healthz and /metrics are not held back, so that a busy server is
// not reported down. A request whose caller leaves while it waits is
// dropped without touching the store.
func (s *Server) admit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/figures/api") {
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength == 0 && len(r.TransferEncoding) == 0 {
			// No body to read: lift the server's whole-request read
			// deadline (ReadTimeout), which would otherwise cancel the
			// request's context in the middle of a long export.
			http.NewResponseController(w).SetReadDeadline(time.Time{})
		}
		export := r.URL.Query().Get("format") == "csv"
		limit := s.storeTimeout
		if export {
			limit = s.exportTimeout
		}
		ctx, cancel := context.WithCancel(r.Context())
		if limit > 0 {
			ctx, cancel = context.WithTimeoutCause(r.Context(), limit, &storeTimeout{limit})
		}
		defer cancel()
		outer := r
		r = r.WithContext(ctx)
		// The mux records the matched route on the request it is given;
		// the metrics read it from ours.
		defer func() { outer.Pattern = r.Pattern }()
		release, err := s.acquire(ctx, export)
		if err != nil {
			if storeTimedOut(ctx) {
				s.log.Warn("api request refused: no request slot freed in time", "path", clip(r.URL.Path), "limit", limit)
				w.Header().Set("Retry-After", "10")
				writeDetail(w, http.StatusServiceUnavailable, fmt.Sprintf("The server is busy: no request slot was freed within %s. Try again later.", limit))
			}
			return
		}
		sp := newSpool(w, s.writeTimeout, s.cfg.SpoolDir)
		panicked, value := func() (panicked bool, value any) {
			defer func() {
				if v := recover(); v != nil {
					panicked, value = true, v
				}
			}()
			next.ServeHTTP(sp, r)
			return false, nil
		}()
		release()
		if panicked {
			sp.abort()
			panic(value)
		}
		sp.finish()
	})
}

// acquire takes a request slot, and for a CSV export first one of the
// export slots (half the request slots): an export reads every selected
// row, which can take the store seconds, so exports alone never take
// every slot and the JSON pages keep answering.
func (s *Server) acquire(ctx context.Context, export bool) (func(), error) {
	if !export {
		return s.gate.acquire(ctx)
	}
	releaseExport, err := s.exports.acquire(ctx)
	if err != nil {
		return nil, err
	}
	release, err := s.gate.acquire(ctx)
	if err != nil {
		releaseExport()
		return nil, err
	}
	return func() { release(); releaseExport() }, nil
}

// storeTimeout is the cause of a request context that ran out of its
// store time.
type storeTimeout struct{ limit time.Duration }

func (e *storeTimeout) Error() string {
	return fmt.Sprintf("the store did not answer within %s", e.limit)
}

// storeTimedOut reports whether ctx ended because its store time ran out
// (rather than because its client went away).
func storeTimedOut(ctx context.Context) bool {
	var te *storeTimeout
	return errors.As(context.Cause(ctx), &te)
}

// orDefault is d, or def when d is 0 (a negative d means no bound).
func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// handlerFunc is an API handler that has its caller and site.
type handlerFunc func(w http.ResponseWriter, r *http.Request, rc *reqCtx)

// reqCtx is what every data handler knows about its request.
type reqCtx struct {
	p    *Principal
	site Site
}

// access says who may call a route.
type access int

const (
	siteScoped access = iota // any caller, scoped to a resolved site
	globalOnly               // global callers only (data of every site, or of none)
	anyCaller                // any authenticated caller, no site data
)

// get registers a GET route under Prefix for path (no trailing slash),
// answering with and without the trailing slash the original's router
// required, so that neither form falls through to something else.
func (s *Server) get(path string, a access, h handlerFunc) {
	wrapped := s.guard(a, h)
	s.mux.Handle("GET "+Prefix+path, wrapped)
	s.mux.Handle("GET "+Prefix+path+"/{$}", wrapped)
}

// getTree registers a GET route for path and everything below it, for the
// course-keyed resources whose ids may themselves contain slashes
// (Org/Course/Run); the handler reads the rest from PathValue("rest").
func (s *Server) getTree(path string, a access, h handlerFunc) {
	wrapped := s.guard(a, h)
	s.mux.Handle("GET "+Prefix+path, wrapped)
	s.mux.Handle("GET "+Prefix+path+"/{rest...}", wrapped)
}

// guard authenticates the caller, checks its access and resolves the site.
func (s *Server) guard(a access, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.auth.Authenticate(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if err := checkParams(r.URL.Query()); err != nil {
			s.fail(w, r, err)
			return
		}
		rc := &reqCtx{p: p}
		if a == globalOnly && !p.Global {
			writeDetail(w, http.StatusForbidden, msgForbidden)
			return
		}
		if a == siteScoped {
			site, err := s.ResolveSite(r, p)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			rc.site = site
		}
		h(w, r, rc)
	})
}

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /healthz", s.healthz)
	m.Handle("GET /metrics", s.guard(globalOnly, s.metrics))
	root := s.guard(anyCaller, s.apiRoot)
	m.Handle("GET "+strings.TrimSuffix(Prefix, "/"), root)
	m.Handle("GET "+Prefix+"{$}", root)
	s.get("openapi.json", anyCaller, s.openAPI)

	s.get("general-site-metrics", siteScoped, s.generalSiteMetrics)
	s.get("site-monthly-metrics", siteScoped, s.siteMonthlyCurrent)
	s.get("site-monthly-metrics/{metric}", siteScoped, s.siteMonthlySeries)
	s.getTree("course-monthly-metrics", siteScoped, s.courseMonthly)

	s.getTree("courses-index", siteScoped, s.coursesIndex)
	s.getTree("courses-general", siteScoped, s.coursesGeneral)
	s.getTree("courses-detail", siteScoped, s.coursesDetail)

	s.get("users-general", siteScoped, s.usersGeneralList)
	s.get("users-general/{id}", siteScoped, s.usersGeneralDetail)
	s.get("users-detail", siteScoped, s.usersDetailList)
	s.get("users-detail/{id}", siteScoped, s.usersDetailDetail)
	s.get("user-index", siteScoped, s.userIndexList)
	s.get("user-index/{id}", siteScoped, s.userIndexDetail)
	s.get("learner-metrics", siteScoped, s.learnerMetricsList)
	s.get("learner-metrics/{id}", siteScoped, s.learnerMetricsDetail)

	s.get("enrollment-metrics", siteScoped, s.enrollmentMetricsList)
	s.get("enrollment-metrics/completed", siteScoped, s.enrollmentMetricsCompleted)
	s.get("enrollment-metrics/completed_ids", siteScoped, s.enrollmentMetricsCompletedIDs)
	s.get("enrollment-metrics/{id}", siteScoped, s.enrollmentMetricsDetail)
	s.get("course-enrollments", siteScoped, s.courseEnrollmentsList)
	s.get("course-enrollments/{id}", siteScoped, s.courseEnrollmentsDetail)

	s.get("course-daily-metrics", siteScoped, s.courseDailyList)
	s.get("course-daily-metrics/{id}", siteScoped, s.courseDailyDetail)
	s.get("site-daily-metrics", siteScoped, s.siteDailyList)
	s.get("site-daily-metrics/{id}", siteScoped, s.siteDailyDetail)

	s.get("course-mau-metrics", siteScoped, s.courseMauList)
	s.get("course-mau-metrics/{id}", siteScoped, s.courseMauDetail)
	s.get("site-mau-metrics", siteScoped, s.siteMauList)
	s.get("site-mau-metrics/{id}", siteScoped, s.siteMauDetail)
	s.getTree("course-mau-live-metrics", siteScoped, s.courseMauLive)
	s.get("site-mau-live-metrics", siteScoped, s.siteMauLive)

	// Runs cover every site, so any caller may list them; their errors
	// name courses and learners of every site, so only global callers.
	s.get("pipeline-runs", anyCaller, s.pipelineRunsList)
	s.get("pipeline-runs/schedule", anyCaller, s.pipelineSchedule)
	s.get("pipeline-runs/errors", globalOnly, s.pipelineErrorsList)
	s.get("pipeline-runs/{id}", anyCaller, s.pipelineRunsDetail)

	s.get("admin/sites", globalOnly, s.adminSitesList)
	s.get("admin/sites/{id}", globalOnly, s.adminSitesDetail)

	// Anything else under the API is a JSON 404, not the dashboard page the
	// original's catch-all served for unmatched paths.
	m.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		writeDetail(w, http.StatusNotFound, msgNotFound)
	})
}

// rootPrefixes are the API root's keys, in the original router's order
// (learner-metrics-v1, superseded by learner-metrics, is not served), then
// ours.
var rootPrefixes = []string{
	"course-daily-metrics", "site-daily-metrics", "course-monthly-metrics", "site-monthly-metrics",
	"course-mau-metrics", "site-mau-metrics", "course-mau-live-metrics", "site-mau-live-metrics",
	"admin/sites", "course-enrollments", "courses-index", "courses-general", "courses-detail",
	"users-general", "users-detail", "user-index", "enrollment-metrics", "learner-metrics",
	"pipeline-runs",
}

// apiRoot answers GET /figures/api/ as DRF's DefaultRouter does: each
// resource's list URL, absolute.
func (s *Server) apiRoot(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	base := s.baseURL(r)
	var b strings.Builder
	b.WriteByte('{')
	for i, p := range rootPrefixes {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(jsonString(p))
		b.WriteByte(':')
		b.Write(jsonString(base + Prefix + p + "/"))
	}
	b.WriteByte('}')
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(b.String()))
}

// openAPI serves the OpenAPI 3 description.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(s.spec)
}

// healthz answers 200 when the API can serve: the store answers a query
// within HealthTimeout, and the in-flight slots are not all stuck (every
// one busy with none freed for HealthStall). Otherwise 503 with the
// reason. It needs no caller, so that load balancers and orchestrators can
// use it, and it takes no slot.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if stuck, n := s.gate.stuck(); stuck > s.healthStall && s.healthStall > 0 {
		detail := fmt.Sprintf("API saturated: all %d request slots busy for %s with none freed", n, stuck.Round(time.Second))
		s.log.Error("healthz: " + detail)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "detail": detail})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.healthTimeout)
	defer cancel()
	var n int
	if err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM figures_site").Scan(&n); err != nil {
		detail := "store does not answer"
		if ctx.Err() != nil && r.Context().Err() == nil {
			detail = fmt.Sprintf("store does not answer within %s", s.healthTimeout)
		}
		s.log.Error("healthz: "+detail, "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "detail": detail})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "sites": n})
}

// baseURL returns what goes before the path in the absolute URLs the API
// writes (pagination links, the API root): the configured PublicURL; else,
// behind a trusted proxy, the scheme and host the proxy says the client
// used; else nothing, so that links are path-absolute ("/figures/api/...")
// and resolve against whatever URL the client used. The Host header a
// client sends is never written into an answer unless a trusted proxy set
// it.
func (s *Server) baseURL(r *http.Request) string {
	if s.public != "" {
		return s.public
	}
	if !s.cfg.TrustProxy {
		return ""
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := strings.ToLower(firstHeaderValue(r, "X-Forwarded-Proto")); p == "http" || p == "https" {
		scheme = p
	}
	host := r.Host
	if h := firstHeaderValue(r, "X-Forwarded-Host"); h != "" {
		host = h
	}
	if !validHost(host) {
		return ""
	}
	return scheme + "://" + host
}

// validHost reports whether h is a host[:port] that can be written into a
// URL as is: letters, digits, dots, dashes, and an IPv6 literal's
// brackets and colons.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, c := range h {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.ContainsRune(".-:[]_", c)) {
			return false
		}
	}
	return true
}

// parsePublicURL checks Config.PublicURL: an http(s) URL with a host and
// at most a path prefix, returned without its trailing slash.
func parsePublicURL(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !validHost(u.Host) ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("api: public URL %q: want http(s)://host[:port][/prefix], e.g. https://lms.example.com", raw)
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
}

func firstHeaderValue(r *http.Request, name string) string {
	v, _, _ := strings.Cut(r.Header.Get(name), ",")
	return strings.TrimSpace(v)
}
