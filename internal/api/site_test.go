package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// siteBMarkers are strings that only site 2's data contains.
var siteBMarkers = []string{"BetaU", "B201", "beta.example.com", "Beta Basics", "carol", "Carol"}

// listPaths are every list and summary endpoint.
var listPaths = []string{
	"/figures/api/", "/figures/api/general-site-metrics", "/figures/api/site-monthly-metrics/",
	"/figures/api/site-monthly-metrics/registered_users/", "/figures/api/site-monthly-metrics/new_users/",
	"/figures/api/site-monthly-metrics/course_completions/", "/figures/api/site-monthly-metrics/course_enrollments/",
	"/figures/api/site-monthly-metrics/site_courses/", "/figures/api/site-monthly-metrics/active_users/",
	"/figures/api/course-monthly-metrics/", "/figures/api/courses-index/", "/figures/api/courses-general/",
	"/figures/api/courses-detail/", "/figures/api/users-general/", "/figures/api/users-detail/", "/figures/api/user-index/",
	"/figures/api/learner-metrics/", "/figures/api/learner-metrics/13/", "/figures/api/users-detail/13/", "/figures/api/users-general/13/",
	"/figures/api/enrollment-metrics/", "/figures/api/enrollment-metrics/completed/",
	"/figures/api/enrollment-metrics/completed_ids/", "/figures/api/course-enrollments/", "/figures/api/course-daily-metrics/",
	"/figures/api/site-daily-metrics/", "/figures/api/course-mau-metrics/", "/figures/api/site-mau-metrics/",
	"/figures/api/course-mau-live-metrics/", "/figures/api/site-mau-live-metrics/",
	// Filters naming site 2's course find nothing.
	"/figures/api/users-general/?enrolled_in_course_id=" + courseB1, "/figures/api/learner-metrics/?course=" + courseB1,
	"/figures/api/enrollment-metrics/?course_id=" + courseB1, "/figures/api/course-enrollments/?course_id=" + courseB1,
	"/figures/api/course-daily-metrics/?course_id=" + courseB1, "/figures/api/course-mau-metrics/?course_id=" + courseB1,
	"/figures/api/users-general/?user_ids=12", "/figures/api/enrollment-metrics/?user_ids=12,13",
}

// siteBObjects are detail paths of site 2's objects (site 1 has none of
// them): each must be 404 for a site-1 caller.
var siteBObjects = []string{
	"/figures/api/courses-index/" + courseB1 + "/", "/figures/api/courses-general/" + courseB1 + "/",
	"/figures/api/courses-detail/" + courseB1 + "/", "/figures/api/course-monthly-metrics/" + courseB1 + "/",
	"/figures/api/course-monthly-metrics/" + courseB1 + "/active_users/", "/figures/api/course-monthly-metrics/" + courseB1 + "/avg_progress/",
	"/figures/api/course-monthly-metrics/" + courseB1 + "/course_enrollments/", "/figures/api/course-monthly-metrics/" + courseB1 + "/num_learners_completed/",
	"/figures/api/course-monthly-metrics/" + courseB1 + "/avg_days_to_complete/", "/figures/api/course-mau-live-metrics/" + courseB1 + "/",
	"/figures/api/users-general/12/", "/figures/api/users-detail/12/", "/figures/api/user-index/12/", "/figures/api/learner-metrics/12/",
	"/figures/api/enrollment-metrics/4/", "/figures/api/enrollment-metrics/5/", "/figures/api/course-enrollments/103/",
	"/figures/api/course-enrollments/105/", "/figures/api/course-daily-metrics/5/", "/figures/api/site-daily-metrics/4/",
	"/figures/api/course-mau-metrics/3/", "/figures/api/site-mau-metrics/3/",
}

// TestSiteIsolation tries every endpoint with site 1's token on site 2's
// data: in JSON and CSV, by path, by filter, by ?site= and by Host.
func TestSiteIsolation(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		noB := func(what string, body []byte, except ...string) {
			t.Helper()
			for _, m := range siteBMarkers {
				if strings.Contains(string(body), m) && !slices.Contains(except, m) {
					t.Errorf("%s: site 1's caller sees %q:\n%s", what, m, body)
				}
			}
		}
		for _, p := range listPaths {
			for _, host := range []string{"", "beta.example.com"} {
				rec := e.do(t, e.tokA, p, func(r *http.Request) {
					if host != "" {
						r.Host = host
					}
				})
				if rec.Code != http.StatusOK {
					t.Errorf("%s (Host %q): status %d: %s", p, host, rec.Code, rec.Body)
				}
				// Absolute links echo the Host the caller sent.
				noB(p+" Host "+host, rec.Body.Bytes(), host)
			}
			if strings.Contains(p, "?") || strings.HasSuffix(p, "/13/") || p == "/figures/api/" {
				continue
			}
			code, body := e.get(t, e.tokA, p+"?format=csv")
			if code != http.StatusOK && code != http.StatusBadRequest {
				t.Errorf("%s csv: status %d", p, code)
			}
			noB(p+"?format=csv", body)
		}
		for _, p := range siteBObjects {
			code, body := e.get(t, e.tokA, p)
			if code != http.StatusNotFound {
				t.Errorf("%s: status %d, want 404: %s", p, code, body)
			}
			noB(p, body)
		}
		for _, p := range append(listPaths, siteBObjects...) {
			sep := "?"
			if strings.Contains(p, "?") {
				sep = "&"
			}
			code, body := e.get(t, e.tokA, p+sep+"site=2")
			if code != http.StatusForbidden && p != "/figures/api/" {
				t.Errorf("%s with site=2: status %d, want 403", p, code)
			}
			noB(p+" site=2", body)
		}
		// The control: the same paths do show site 2's data to its caller.
		code, body := e.get(t, e.tokB, "/figures/api/learner-metrics/12/")
		if code != http.StatusOK || !strings.Contains(string(body), "carol") {
			t.Errorf("site 2's caller, its own learner: %d %s", code, body)
		}
	})
}

// TestSiteResolution checks which site a request is for.
func TestSiteResolution(t *testing.T) {
	e := sqliteEnv(t)
	const p = "/figures/api/site-mau-live-metrics/"
	domainOf := func(token string, mod func(*http.Request)) string {
		t.Helper()
		rec := e.do(t, token, p, mod)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		v, _ := decodeJSON(rec.Body.Bytes())
		return v.(map[string]any)["domain"].(string)
	}
	host := func(h string) func(*http.Request) { return func(r *http.Request) { r.Host = h } }
	for _, tc := range []struct {
		name, token string
		mod         func(*http.Request)
		want        string
	}{
		{"global, no host match: the lowest id", e.tokAll, nil, "alpha.example.com"},
		{"global, Host", e.tokAll, host("beta.example.com"), "beta.example.com"},
		{"global, Host with port and capitals", e.tokAll, host("BETA.Example.com:8443"), "beta.example.com"},
		{"global, ?site= beats Host", e.tokAll, func(r *http.Request) { r.Host = "beta.example.com"; r.URL.RawQuery = "site=1" }, "alpha.example.com"},
		{"site token, another site's Host", e.tokA, host("beta.example.com"), "alpha.example.com"},
		{"untrusted X-Forwarded-Host", e.tokAll, func(r *http.Request) { r.Header.Set("X-Forwarded-Host", "beta.example.com") }, "alpha.example.com"},
	} {
		if got := domainOf(tc.token, tc.mod); got != tc.want {
			t.Errorf("%s: site %s, want %s", tc.name, got, tc.want)
		}
	}

	// Configured: the default site, and trust in the proxy's headers.
	e2 := e.withConfig(t, func(c *Config) { c.DefaultSite = 2; c.TrustProxy = true; c.PublicURL = "" })
	rec := e2.do(t, e.tokAll, p, nil)
	assertJSON(t, "default site", rec.Body.Bytes(), `{"month_for":"2023-11-17","count":2,"domain":"beta.example.com"}`)
	rec = e2.do(t, e.tokAll, "/figures/api/courses-index/?limit=1", func(r *http.Request) {
		r.Header.Set("X-Forwarded-Host", "alpha.example.com")
		r.Header.Set("X-Forwarded-Proto", "https")
	})
	assertJSON(t, "proxied", rec.Body.Bytes(), `{"count":2,"next":"https://alpha.example.com/figures/api/courses-index/?limit=1&offset=1","previous":null,
		"results":[{"id":"course-v1:AlphaX+A101+2023","name":"Alpha Intro","org":"AlphaX","number":"A101"}]}`)
}

// TestStandaloneSite checks a standalone install's site: its users are every
// learner, enrolled or not.
func TestStandaloneSite(t *testing.T) {
	e := sqliteEnv(t)
	exec(t, e.db, "UPDATE figures_site SET org_filter = '[]' WHERE id = 1")
	code, body := e.get(t, e.tokAll, "/figures/api/user-index/")
	if code != 200 {
		t.Fatal(code, string(body))
	}
	assertJSON(t, "user-index", []byte(resultKeys(t, body)), `[10,11,12,13,14,15]`)
	e.getJSON(t, e.tokAll, "/figures/api/user-index/15/", `{"id":15,"username":"frank","fullname":null}`)
}

// TestNoSites checks the answer before the pipeline has mirrored any site.
func TestNoSites(t *testing.T) {
	e := sqliteEnv(t)
	exec(t, e.db, "DELETE FROM figures_site")
	code, body := e.get(t, e.tokAll, "/figures/api/learner-metrics/")
	if code != http.StatusNotFound {
		t.Fatalf("status %d", code)
	}
	assertJSON(t, "no sites", body, `{"detail":"The store has no site yet: run the pipeline first."}`)
}

// TestLinkBase checks where pagination links and the API root point: the
// Host header a client sends is never written into them; a configured
// public URL is; behind a trusted proxy, the scheme and host it forwards
// are (issue 16: "Load more" on the LMS's HTTPS page).
func TestLinkBase(t *testing.T) {
	e := sqliteEnv(t)
	evil := func(r *http.Request) {
		r.Host = "evil.example"
		r.Header.Set("X-Forwarded-Host", "evil.example")
		r.Header.Set("X-Forwarded-Proto", "https")
	}
	proxied := func(r *http.Request) {
		r.Host = "127.0.0.1:8000"
		r.Header.Set("X-Forwarded-Host", "lms.example.com")
		r.Header.Set("X-Forwarded-Proto", "https")
	}
	hostOnly := func(r *http.Request) { r.Host = "lms.example.com" } // nginx: proxy_set_header Host $host
	const page = "/figures/api/courses-index/?limit=1"
	for _, tc := range []struct {
		name      string
		cfg       func(*Config)
		mod       func(*http.Request)
		next, api string
	}{
		{"default, hostile Host", func(c *Config) { c.PublicURL = "" }, evil,
			"/figures/api/courses-index/?limit=1&offset=1", "/figures/api/course-daily-metrics/"},
		{"public URL, hostile Host", func(c *Config) { c.PublicURL = "https://lms.example.com/" }, evil,
			"https://lms.example.com/figures/api/courses-index/?limit=1&offset=1", "https://lms.example.com/figures/api/course-daily-metrics/"},
		{"public URL with a prefix", func(c *Config) { c.PublicURL = "https://example.org/analytics" }, nil,
			"https://example.org/analytics/figures/api/courses-index/?limit=1&offset=1", "https://example.org/analytics/figures/api/course-daily-metrics/"},
		{"trusted proxy", func(c *Config) { c.PublicURL = ""; c.TrustProxy = true }, proxied,
			"https://lms.example.com/figures/api/courses-index/?limit=1&offset=1", "https://lms.example.com/figures/api/course-daily-metrics/"},
		{"trusted proxy passing Host", func(c *Config) { c.PublicURL = ""; c.TrustProxy = true }, hostOnly,
			"http://lms.example.com/figures/api/courses-index/?limit=1&offset=1", "http://lms.example.com/figures/api/course-daily-metrics/"},
		{"trusted proxy, malformed host", func(c *Config) { c.PublicURL = ""; c.TrustProxy = true },
			func(r *http.Request) { r.Header.Set("X-Forwarded-Host", `a"b/c`) },
			"/figures/api/courses-index/?limit=1&offset=1", "/figures/api/course-daily-metrics/"},
	} {
		e2 := e.withConfig(t, tc.cfg)
		rec := e2.do(t, e.tokAll, page, tc.mod)
		var body struct{ Next string }
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Next != tc.next {
			t.Errorf("%s: next %q, want %q (%s)", tc.name, body.Next, tc.next, rec.Body)
		}
		rec = e2.do(t, e.tokAll, "/figures/api/", tc.mod)
		var root map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &root); err != nil || root["course-daily-metrics"] != tc.api {
			t.Errorf("%s: API root %q, want %q", tc.name, root["course-daily-metrics"], tc.api)
		}
	}
	for _, bad := range []string{"lms.example.com", "ftp://lms.example.com", "https://", "https://lms.example.com/?x=1", "https://u:p@lms.example.com"} {
		_, err := NewHandler(Config{Store: e.st, Auth: e.srv.auth, PublicURL: bad})
		if err == nil {
			t.Errorf("public URL %q accepted", bad)
		}
	}
}
