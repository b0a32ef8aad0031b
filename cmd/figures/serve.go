package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/figures-analytics/figures/internal/api"
	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/pipeline"
	"github.com/figures-analytics/figures/internal/queue"
	"github.com/figures-analytics/figures/internal/store"
)

func init() { register(newServeCmd) }

// serveOptions configure the HTTP server.
type serveOptions struct {
	storeURL, lmsURL, addr string
	defaultSite            int
	jwks                   string
	issuers, audiences     []string
	trustProxy             bool
	liveTTL                time.Duration
	dbConns                int
	maxInFlight            int
	completion             []string
	schedule               string
	workflow, grades       string
	redisURL, queue        string
	publicURL              string
	storeTimeout           time.Duration
	exportTimeout          time.Duration
	writeTimeout           time.Duration
	// timeouts holds --lms-timeout; serve's --store-timeout is the API's
	// request bound, and its store connections wait at most
	// database.DefaultTimeout.
	timeouts timeouts
}

func (o *serveOptions) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&o.storeURL, "store", "", "store database URL")
	fl.StringVar(&o.lmsURL, "lms", "", "LMS database URL (read-only), for live monthly active users; without it they come from the store")
	fl.StringVar(&o.addr, "addr", "127.0.0.1:8000", "address to listen on")
	fl.IntVar(&o.defaultSite, "default-site", 0, "site id a global caller gets when neither ?site= nor the Host header names one (default: the lowest id)")
	fl.StringVar(&o.jwks, "jwt-jwks", "", "the LMS's public JWT keys (JWKS): a file or an http(s) URL; enables Open edX JWT callers")
	fl.StringSliceVar(&o.issuers, "jwt-issuer", nil, "accepted JWT issuer(s), the LMS's JWT_ISSUER, e.g. https://lms.example.com/oauth2 (required with --jwt-jwks)")
	fl.StringSliceVar(&o.audiences, "jwt-audience", nil, "accepted JWT audience(s), the LMS's JWT_AUDIENCE (default: not checked)")
	fl.StringVar(&o.publicURL, "public-url", "", "the URL clients reach the server at, e.g. https://lms.example.com: the scheme and host of next/previous and every absolute link (default: links without scheme and host, unless --trust-proxy)")
	fl.BoolVar(&o.trustProxy, "trust-proxy", false, "believe X-Forwarded-Proto and X-Forwarded-Host (and the Host header) for absolute links and site matching: only behind a reverse proxy that sets them")
	fl.DurationVar(&o.storeTimeout, "store-timeout", 30*time.Second, "longest an API request waits for the store (its slot, connection and statements) before answering 503")
	fl.DurationVar(&o.exportTimeout, "export-timeout", 5*time.Minute, "--store-timeout for CSV exports (?format=csv)")
	fl.DurationVar(&o.writeTimeout, "write-timeout", 30*time.Second, "a client that accepts no byte of its response for this long is dropped")
	fl.DurationVar(&o.liveTTL, "live-ttl", 5*time.Minute, "how long a live (LMS) monthly active user count is reused")
	fl.IntVar(&o.dbConns, "db-conns", 16, "store connections at most")
	fl.IntVar(&o.maxInFlight, "max-in-flight", 2*runtime.GOMAXPROCS(0), "API requests served at once, the others queued in arrival order (0: no bound); keep it at most --db-conns")
	fl.StringSliceVar(&o.completion, "completion-status", pipeline.DefaultCompletion, "certificate statuses counted as completions (as the pipeline's)")
	fl.StringVar(&o.schedule, "schedule", "", "run the pipeline in this process on a schedule (UTC): daily@02:00 or \"every 15m\"; needs --lms")
	fl.StringVar(&o.workflow, "workflow", "next", "workflow of scheduled runs: next, legacy or incremental")
	fl.StringVar(&o.grades, "grades", "persisted", "grade source of scheduled runs: persisted or studentmodule")
	fl.StringVar(&o.redisURL, "redis", "", "scheduled runs spread their enrollment stage over figures worker processes through this Redis")
	fl.StringVar(&o.queue, "queue", queue.DefaultQueue, "with --redis: the queue the workers serve")
	o.timeouts.registerLMS(fl)
}

// serveMount adds handlers beside the API (the dashboard registers one in
// its own file: mux.Handle("/figures/", ...)).
type serveMount func(mux *http.ServeMux, d serveDeps) error

// serveDeps is what a mounted handler may use: the store, the API's
// handler, and its Authenticator, so that pages accept the same callers.
type serveDeps struct {
	Store *store.Store
	API   *api.Server
	Auth  *api.Authenticator
}

// serveMounts are registered by other files' init functions.
var serveMounts []serveMount

// mountAPI serves the API's paths on mux.
func mountAPI(mux *http.ServeMux, h http.Handler) {
	mux.Handle(api.Prefix, h)
	mux.Handle("/figures/api", h)
	mux.Handle("/metrics", h)
	mux.Handle("/healthz", h)
}

// buildServer opens the store (and the LMS), and returns the HTTP server
// with the API and every serveMount on one mux, and a function that closes
// what it opened.
func buildServer(ctx context.Context, o serveOptions) (*http.Server, func(), error) {
	if o.storeURL == "" {
		return nil, nil, errors.New("--store is required (or FIGURES_STORE)")
	}
	if o.maxInFlight < 0 {
		return nil, nil, fmt.Errorf("--max-in-flight %d: want 0 (no bound) or more", o.maxInFlight)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--store-timeout", o.storeTimeout}, {"--export-timeout", o.exportTimeout}, {"--write-timeout", o.writeTimeout}} {
		if d.v < 0 {
			return nil, nil, fmt.Errorf("%s %s: want a positive duration (0: the default)", d.name, d.v)
		}
	}
	// Migrate first (the API's own tables), then serve from a read-only
	// session: the API never writes, and on SQLite a read-only pool is not
	// limited to the one connection a writer gets. Credentials that cannot
	// migrate (a read-only database user) are fine once the schema is up
	// to date.
	st, merr := o.timeouts.openStore(ctx, o.storeURL, false)
	if merr == nil {
		st.Close()
	}
	st, err := o.timeouts.openStore(ctx, o.storeURL, true)
	if err != nil {
		if merr != nil {
			return nil, nil, merr
		}
		return nil, nil, err
	}
	if merr != nil {
		var n int
		if err := st.DB().QueryRow(ctx, "SELECT COUNT(*) FROM figures_apitoken").Scan(&n); err != nil {
			st.Close()
			return nil, nil, fmt.Errorf("%w (and the store lacks the API's tables: run figures migrate with write access)", merr)
		}
		slog.Warn("could not migrate the store; serving its current schema", "err", merr)
	}
	closers := []func(){func() { st.Close() }, startReaper(ctx, o)}
	cleanup := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	fail := func(err error) (*http.Server, func(), error) { cleanup(); return nil, nil, err }
	if o.dbConns > 0 {
		st.DB().SQL().SetMaxOpenConns(o.dbConns)
		st.DB().SQL().SetMaxIdleConns(o.dbConns)
	}

	authCfg := api.AuthConfig{Store: st, Issuers: o.issuers, Audiences: o.audiences}
	if o.jwks != "" {
		keys, err := api.NewJWKSSource(ctx, o.jwks, nil, time.Hour)
		if err != nil {
			return fail(fmt.Errorf("--jwt-jwks: %w", err))
		}
		authCfg.Keys = keys
	}
	auth, err := api.NewAuthenticator(authCfg)
	if err != nil {
		return fail(err)
	}
	var live api.LiveActivity
	if o.lmsURL != "" {
		act, closeLMS, err := openLiveActivity(ctx, o.lmsURL, o.timeouts)
		if err != nil {
			return fail(err)
		}
		closers = append(closers, closeLMS)
		live = api.NewCachedLiveActivity(act, o.liveTTL)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var schedule func() (string, time.Time, bool)
	if o.schedule != "" {
		info, stop, err := startScheduler(ctx, o)
		if err != nil {
			return fail(err)
		}
		schedule = info
		closers = append(closers, stop)
	}
	h, err := api.NewHandler(api.Config{
		Store: st, Auth: auth, Live: live, DefaultSite: o.defaultSite, TrustProxy: o.trustProxy, CompletionStatuses: o.completion,
		Registerer: reg, Gatherer: reg, Logger: slog.Default(), Schedule: schedule, MaxInFlight: o.maxInFlight,
		PublicURL: o.publicURL, StoreTimeout: o.storeTimeout, ExportTimeout: o.exportTimeout, WriteTimeout: o.writeTimeout,
	})
	if err != nil {
		return fail(err)
	}
	mux := http.NewServeMux()
	mountAPI(mux, h)
	for _, m := range serveMounts {
		if err := m(mux, serveDeps{Store: st, API: h, Auth: auth}); err != nil {
			return fail(err)
		}
	}
	srv := &http.Server{
		Addr:    o.addr,
		Handler: mux,
		// A client gets 10 s for its request line and headers and 30 s for
		// the whole request, body included (the dashboard's sign-in form is
		// the only body anyone sends; the API lifts the whole-request
		// deadline of body-less requests, which net/http would otherwise
		// apply to the handler's context too).
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// A whole response outside the API (a dashboard page, /metrics)
		// gets 60 s; the API bounds each write instead (--write-timeout),
		// so that a large CSV export to a slow but reading client is not
		// cut.
		WriteTimeout:   60 * time.Second,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 1 << 20,
		ErrorLog:       slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn),
	}
	return srv, cleanup, nil
}

// maskedURL is a database URL for logs: its password hidden.
func maskedURL(raw string) string {
	loc, err := database.ParseURL(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return loc.String()
}

// runServer serves on ln until ctx is cancelled (SIGINT, SIGTERM), then
// shuts down gracefully: in-flight requests get up to 15 seconds.
func runServer(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	slog.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

func newServeCmd() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve --store URL [--lms URL] [--addr 127.0.0.1:8000] [--jwt-jwks URL-or-file --jwt-issuer ISS]",
		Short: "Serve the Figures REST API (and the dashboard)",
		Long: `serve answers the Figures REST API under /figures/api/ (the original Figures
endpoints, read-only; docs/API.md), its OpenAPI description at
/figures/api/openapi.json, Prometheus metrics at /metrics and a health check
at /healthz.

Every endpoint but /healthz needs a caller:
  - an API token (figures token create), as "Authorization: Bearer <token>";
  - or, with --jwt-jwks and --jwt-issuer, an Open edX JWT signed by the LMS,
    in the Authorization header or in the LMS's edx-jwt-cookie-header-payload
    and edx-jwt-cookie-signature cookies. Global staff and superusers read
    every site; other users read the sites granted with
    figures token admin-grant.

With --lms, the current month's active users are counted live from the LMS
(cached for --live-ttl); without it, from the store as of the pipeline's
last run.

With --schedule (and --lms), the server also runs the pipeline on that
schedule, like the original's daily Celery task: --schedule daily@02:00
--workflow next, or --schedule "every 15m" --workflow incremental. The
dashboard's pipeline page shows the next run. With --redis, the scheduled runs
spread their enrollment stage over "figures worker" processes.

SIGINT or SIGTERM stops the server gracefully.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			srv, cleanup, err := buildServer(ctx, o)
			if err != nil {
				return err
			}
			defer cleanup()
			ln, err := net.Listen("tcp", o.addr)
			if err != nil {
				return fmt.Errorf("listen: %w", err)
			}
			slog.Info("serving the Figures API", "url", "http://"+ln.Addr().String()+api.Prefix, "store", maskedURL(o.storeURL), "live_lms", o.lmsURL != "", "jwt", o.jwks != "")
			return runServer(ctx, srv, ln)
		},
	}
	o.register(cmd)
	return cmd
}
