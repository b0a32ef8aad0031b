// Package loadtest drives an HTTP API with many concurrent clients for a
// while and reports the latency distribution and the errors: the load test
// of the Figures API (figures loadtest).
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes a load test.
type Config struct {
	// BaseURL is the server, e.g. http://127.0.0.1:8000.
	BaseURL string
	// Token is sent as "Authorization: Bearer <Token>" when not empty.
	Token string
	// Paths are requested in turn by every client (each starting at a
	// different one), e.g. /figures/api/learner-metrics/.
	Paths []string
	// Clients is the number of concurrent clients, each with one request
	// in flight at a time.
	Clients int
	// Duration is how long to keep sending requests.
	Duration time.Duration
	// Timeout bounds one request (default 30 s).
	Timeout time.Duration
	// Client is the HTTP client; nil makes one whose connection pool fits
	// Clients.
	Client *http.Client
	// Stallers is a number of extra clients that each start a download of
	// StallPath and then read nothing for the whole test: the stalled
	// clients a server must survive. http:// base URLs only.
	Stallers int
	// StallPath is what the stallers download (default
	// /figures/api/learner-metrics/?format=csv).
	StallPath string
}

// Result is what a load test measured.
type Result struct {
	// Requests counts the completed requests, successful or not.
	Requests int
	// Errors counts requests that failed: a transport error or a status
	// other than 200.
	Errors int
	// ByStatus counts the answers by HTTP status; 0 counts transport errors.
	ByStatus map[int]int
	// FirstError is an example of the failures, for the report.
	FirstError string
	// Bytes is the total size of the response bodies.
	Bytes int64
	// Elapsed is the test's wall time.
	Elapsed time.Duration
	// Latency percentiles of all requests (successful or not).
	P50, P90, P99, Max, Mean time.Duration
	// ByPath holds the same figures per path.
	ByPath map[string]PathResult
	// Stalls counts the downloads the stallers started and abandoned.
	Stalls int
}

// PathResult is one path's share of a Result.
type PathResult struct {
	Requests, Errors int
	P50, P99         time.Duration
}

type sample struct {
	path    int
	latency time.Duration
	status  int
	bytes   int64
	err     string
}

// Run runs the load test until cfg.Duration has passed or ctx is done.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Clients <= 0 || cfg.Duration <= 0 || len(cfg.Paths) == 0 || cfg.BaseURL == "" {
		return Result{}, errors.New("loadtest: need a base URL, at least one path, clients > 0 and a duration > 0")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	client := cfg.Client
	if client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns = cfg.Clients
		tr.MaxIdleConnsPerHost = cfg.Clients
		client = &http.Client{Transport: tr}
		defer tr.CloseIdleConnections()
	}
	base := strings.TrimSuffix(cfg.BaseURL, "/")
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()

	per := make([][]sample, cfg.Clients)
	var wg sync.WaitGroup
	stalls, err := startStallers(ctx, cfg, &wg)
	if err != nil {
		return Result{}, err
	}
	start := time.Now()
	for c := range cfg.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; ctx.Err() == nil; i++ {
				p := i % len(cfg.Paths)
				s := request(ctx, client, cfg, base+cfg.Paths[p])
				if ctx.Err() != nil && s.status == 0 {
					return // cut by the end of the test, not a failure
				}
				s.path = p
				per[c] = append(per[c], s)
			}
		}()
	}
	wg.Wait()
	res := summarize(cfg.Paths, slices.Concat(per...))
	res.Elapsed = time.Since(start)
	res.Stalls = int(stalls.Load())
	return res, nil
}

// startStallers starts cfg.Stallers clients that each begin a download
// of StallPath and then read nothing until ctx ends (the server may drop
// them before: that is its write timeout at work), and returns the count
// of downloads they started.
func startStallers(ctx context.Context, cfg Config, wg *sync.WaitGroup) (*atomic.Int64, error) {
	var n atomic.Int64
	if cfg.Stallers <= 0 {
		return &n, nil
	}
	u, err := neturl.Parse(cfg.BaseURL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("loadtest: stalled clients need an http:// base URL, not %q", cfg.BaseURL)
	}
	request := "GET " + stallPath(cfg) + " HTTP/1.1\r\nHost: " + u.Host + "\r\n"
	if cfg.Token != "" {
		request += "Authorization: Bearer " + cfg.Token + "\r\n"
	}
	request += "\r\n"
	for range cfg.Stallers {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", u.Host)
		if err != nil {
			return nil, fmt.Errorf("loadtest: stalled client: %w", err)
		}
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetReadBuffer(4 << 10) // stall the server's writes sooner
		}
		if _, err := io.WriteString(c, request); err != nil {
			c.Close()
			return nil, fmt.Errorf("loadtest: stalled client: %w", err)
		}
		n.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-ctx.Done()
			c.Close()
		}()
	}
	return &n, nil
}

func stallPath(cfg Config) string {
	if cfg.StallPath == "" {
		return "/figures/api/learner-metrics/?format=csv"
	}
	return cfg.StallPath
}

func request(ctx context.Context, client *http.Client, cfg Config, url string) sample {
	rctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, url, nil)
	if err != nil {
		return sample{err: err.Error()}
	}
	if cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+cfg.Token)
	}
	t0 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return sample{latency: time.Since(t0), err: err.Error()}
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	s := sample{latency: time.Since(t0), status: resp.StatusCode, bytes: n}
	if err != nil {
		s.status, s.err = 0, "reading the body: "+err.Error()
	} else if resp.StatusCode != http.StatusOK {
		s.err = fmt.Sprintf("GET %s: %s", url, resp.Status)
	}
	return s
}

func summarize(paths []string, all []sample) Result {
	res := Result{ByStatus: map[int]int{}, ByPath: map[string]PathResult{}, Requests: len(all)}
	lat := make([]time.Duration, len(all))
	byPath := make([][]time.Duration, len(paths))
	errs := make([]int, len(paths))
	var sum time.Duration
	for i, s := range all {
		lat[i] = s.latency
		sum += s.latency
		res.ByStatus[s.status]++
		res.Bytes += s.bytes
		byPath[s.path] = append(byPath[s.path], s.latency)
		if s.err != "" {
			res.Errors++
			errs[s.path]++
			if res.FirstError == "" {
				res.FirstError = s.err
			}
		}
	}
	res.P50, res.P90, res.P99, res.Max = percentile(lat, 50), percentile(lat, 90), percentile(lat, 99), percentile(lat, 100)
	if len(all) > 0 {
		res.Mean = sum / time.Duration(len(all))
	}
	for i, p := range paths {
		if len(byPath[i]) == 0 {
			continue
		}
		res.ByPath[p] = PathResult{Requests: len(byPath[i]), Errors: errs[i], P50: percentile(byPath[i], 50), P99: percentile(byPath[i], 99)}
	}
	return res
}

// percentile returns the p-th percentile (nearest rank) of d, sorting it.
func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	rank := (p*len(d) + 99) / 100 // ceil(p/100 * n), 1-based
	return d[max(rank, 1)-1]
}

// Report writes the result for people.
func (r Result) Report(w io.Writer, cfg Config) {
	rps := 0.0
	if r.Elapsed > 0 {
		rps = float64(r.Requests) / r.Elapsed.Seconds()
	}
	fmt.Fprintf(w, "%d clients for %s: %d requests (%.1f/s), %d errors, %.1f MiB received\n",
		cfg.Clients, r.Elapsed.Round(time.Millisecond), r.Requests, rps, r.Errors, float64(r.Bytes)/(1<<20))
	if cfg.Stallers > 0 {
		fmt.Fprintf(w, "meanwhile %d clients stalled on %s without reading it\n", r.Stalls, stallPath(cfg))
	}
	fmt.Fprintf(w, "latency p50 %s  p90 %s  p99 %s  max %s  mean %s\n", ms(r.P50), ms(r.P90), ms(r.P99), ms(r.Max), ms(r.Mean))
	codes := make([]int, 0, len(r.ByStatus))
	for c := range r.ByStatus {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var parts []string
	for _, c := range codes {
		name := fmt.Sprint(c)
		if c == 0 {
			name = "transport"
		}
		parts = append(parts, fmt.Sprintf("%s: %d", name, r.ByStatus[c]))
	}
	fmt.Fprintf(w, "status %s\n", strings.Join(parts, ", "))
	if len(cfg.Paths) > 1 {
		for _, p := range cfg.Paths {
			pr := r.ByPath[p]
			fmt.Fprintf(w, "  %-60s %7d req  %5d err  p50 %s  p99 %s\n", p, pr.Requests, pr.Errors, ms(pr.P50), ms(pr.P99))
		}
	}
	if r.FirstError != "" {
		fmt.Fprintf(w, "first error: %s\n", r.FirstError)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }
