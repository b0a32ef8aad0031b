package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/figures-analytics/figures/internal/api"
	"github.com/figures-analytics/figures/internal/demo"
	"github.com/figures-analytics/figures/internal/store"
)

// The browser tests drive Debian's chromium (headless) through the
// dashboard on the demo data: they sign in with the link `figures demo`
// prints, load every page, compare the numbers each page shows with the
// API's answers fetched here in Go, click from a course to a learner,
// download a CSV, check the accessibility basics, and leave a screenshot
// of each page in the artifact folder. Every wait is on a selector or a
// condition of the page, under one generous deadline: no sleeps.

// browserDeadline bounds the whole browser session (a slow, shared CI
// machine included); nothing is timed below it.
const browserDeadline = 4 * time.Minute

// testSchedule is the scheduler the test server reports.
var testSchedule = struct {
	spec string
	next time.Time
}{"daily@02:00", time.Date(2031, 1, 2, 2, 0, 0, 0, time.UTC)}

// emptySite is a site with no data, for the empty states.
const emptySite = 99

type browserEnv struct {
	t         *testing.T
	srv       *httptest.Server
	token     string
	ctx       context.Context
	artifacts string

	mu       sync.Mutex
	problems []string // console errors, exceptions, CSP violations
}

func findChromium(t *testing.T) string {
	p, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("FIGURES_TEST_REQUIRE_BROWSER") == "1" {
			t.Fatalf("chromium is not installed, and FIGURES_TEST_REQUIRE_BROWSER=1: apt-get install -y chromium")
		}
		t.Skip("browser tests skipped: chromium is not installed (apt-get install -y chromium; FIGURES_TEST_REQUIRE_BROWSER=1 makes this a failure)")
	}
	return p
}

// artifactDir is where screenshots go: $FIGURES_TEST_ARTIFACTS, or
// test-artifacts/screenshots at the repository's root (git-ignored).
func artifactDir(t *testing.T) string {
	dir := os.Getenv("FIGURES_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(repoRoot(t), "test-artifacts", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// repoRoot returns the repository's root: the folder holding go.mod.
func repoRoot(t *testing.T) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for root := wd; ; root = filepath.Dir(root) {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			return root
		}
		if filepath.Dir(root) == root {
			t.Fatalf("no go.mod above %s", wd)
		}
	}
}

// newServer builds the demo and serves it as `figures serve` does: the API
// and the dashboard on one mux.
func newServer(t *testing.T) (*httptest.Server, string) {
	st, token := demoStore(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	auth, err := api.NewAuthenticator(api.AuthConfig{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	apiH, err := api.NewHandler(api.Config{Store: st, Auth: auth, Logger: quiet,
		Schedule: func() (string, time.Time, bool) { return testSchedule.spec, testSchedule.next, false }})
	if err != nil {
		t.Fatal(err)
	}
	webH, err := New(Config{Auth: auth, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(api.Prefix, apiH)
	mux.Handle("/figures/api", apiH)
	mux.Handle(Path, webH)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, token
}

// demoStore builds the demo installation's store, with an API token for
// the test, two recorded errors on the newest run and a site without data.
func demoStore(t *testing.T) (*store.Store, string) {
	ctx := context.Background()
	res, err := demo.Build(ctx, demo.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("demo: %v", err)
	}
	st, err := store.Open(ctx, res.StoreURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	token, _, err := st.CreateAPIToken(ctx, "browser-test", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// The demo's runs have no errors; give the newest two, as a failing
	// course and enrollment would, for the runs page to show.
	runs, err := st.Runs(ctx, 1)
	if err != nil || len(runs) == 0 {
		t.Fatalf("demo runs: %v %v", runs, err)
	}
	last := runs[0]
	for _, pe := range []store.PipelineError{
		{RunID: last.ID, ErrorType: store.ErrorCourse, CourseID: "course-v1:FiguresX+BROKEN+2026", SiteID: 1, Data: map[string]any{"error": "no course outline"}},
		{RunID: last.ID, ErrorType: store.ErrorGrades, CourseID: "course-v1:FiguresX+BROKEN+2026", UserID: 7, SiteID: 1, Data: map[string]any{"error": "grade read failed"}},
	} {
		if err := st.RecordError(ctx, pe); err != nil {
			t.Fatal(err)
		}
	}
	last.Errors, last.Status = 2, store.RunPartial
	if err := st.FinishRun(ctx, last); err != nil {
		t.Fatal(err)
	}
	// A site the pipeline has mirrored but has no data for yet (its
	// organization has no course).
	if _, err := st.DB().Exec(ctx, `INSERT INTO figures_site (id, domain, name, org_filter, modified) VALUES (?, ?, ?, ?, ?)`,
		emptySite, "empty.figures.example", "Empty Academy", `["NoSuchOrg"]`, st.DB().Time(time.Now())); err != nil {
		t.Fatal(err)
	}
	return st, token
}

func newBrowserEnv(t *testing.T) *browserEnv {
	chromium := findChromium(t)
	srv, token := newServer(t)
	e := &browserEnv{t: t, srv: srv, token: token, artifacts: artifactDir(t)}
	e.startBrowser(chromium)
	return e
}

// startBrowser starts a headless chromium for e, bounded by browserDeadline,
// and records every console error and uncaught exception in e.problems.
func (e *browserEnv) startBrowser(chromium string) {
	t := e.t

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	// Start the browser with no deadline (the first Run binds its life to
	// the context), then bound the session.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, browserDeadline)
	t.Cleanup(cancel)
	e.ctx = ctx

	// Every console error, uncaught exception and CSP violation is a
	// failure of the page.
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				e.mu.Lock()
				e.problems = append(e.problems, fmt.Sprintf("%s (%s:%d)", m.Text, m.URL, m.Line+1))
				e.mu.Unlock()
			}
		}
	}()
}

// do runs actions and fails the test on error.
func (e *browserEnv) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	e.t.Helper()
	if err := chromedp.Do(e.ctx, actions...); err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression and decodes its JSON value.
func eval[T any](e *browserEnv, js string) T {
	e.t.Helper()
	v, err := chromedp.Run(e.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		e.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitPage waits until the page of route at path is drawn and nothing is
// loading.
func (e *browserEnv) waitPage(route, path string) {
	e.t.Helper()
	sel := fmt.Sprintf(`main[data-route=%q][aria-busy="false"]`, route)
	if path != "" {
		sel = fmt.Sprintf(`main[data-route=%q][data-path=%q][aria-busy="false"]`, route, path)
	}
	e.do("wait for the "+route+" page", chromedp.WaitReady(chromedp.CSS(sel)))
}

// waitFor waits until a JavaScript condition holds.
func (e *browserEnv) waitFor(what, cond string) {
	e.t.Helper()
	if _, err := chromedp.Run(e.ctx, chromedp.Poll[bool]("!!("+cond+")", chromedp.WithPollingTimeout(0))); err != nil {
		e.t.Fatalf("wait for %s: %v", what, err)
	}
}

// open loads a dashboard URL as a fresh page load (a deep link).
func (e *browserEnv) open(path, route string) {
	e.t.Helper()
	e.do("open "+path, chromedp.Navigate(e.srv.URL+path))
	u, _ := url.Parse(path)
	e.waitPage(route, u.Path)
}

// apiGet fetches an API path with the test's token and decodes it.
func apiGet[T any](e *browserEnv, path string) T {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/figures/api/"+path, nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("API %s: %d %s", path, resp.StatusCode, body)
	}
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		e.t.Fatalf("API %s: %v", path, err)
	}
	return v
}

// download runs action, which must start a download, and returns the
// downloaded file's content.
func (e *browserEnv) download(what string, action chromedp.Action[chromedp.Void]) []byte {
	e.t.Helper()
	dir := e.t.TempDir()
	if _, err := chromedp.CallBrowser(e.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: new(true)}); err != nil {
		e.t.Fatal(err)
	}
	events := chromedp.BrowserEvents(e.ctx, browser.DownloadProgress)
	e.do(what, action)
	for ev, err := range events {
		if err != nil {
			e.t.Fatalf("%s: %v", what, err)
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			e.t.Fatalf("%s: download canceled", what)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			raw, err := os.ReadFile(filepath.Join(dir, ev.GUID))
			if err != nil {
				e.t.Fatal(err)
			}
			return raw
		}
	}
	e.t.Fatalf("%s: the browser ended before the download completed", what)
	return nil
}

// screenshot saves the whole page as <name>.png in the artifact folder.
func (e *browserEnv) screenshot(name string) {
	e.t.Helper()
	buf, err := chromedp.Run(e.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		e.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(e.artifacts, name+".png"), buf, 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// a11yProblems lists what the page gets wrong of the basics: a title,
// exactly one h1, text alternatives for images and charts (a canvas has
// role=img, an aria-label and a data table in its figure), labels for
// form controls, names for buttons and links.
const a11yProblems = `(() => {
  const p = [];
  if (!document.title.trim()) p.push('no <title>');
  const h1 = document.querySelectorAll('h1');
  if (h1.length !== 1) p.push(h1.length + ' h1 elements');
  if (!document.documentElement.lang) p.push('no lang on <html>');
  for (const img of document.querySelectorAll('img')) if (!img.hasAttribute('alt')) p.push('img without alt: ' + img.src);
  for (const c of document.querySelectorAll('canvas')) {
    if (c.getAttribute('role') !== 'img' || !(c.getAttribute('aria-label') || '').trim()) p.push('canvas without role=img and aria-label');
    const fig = c.closest('figure');
    if (!fig || !fig.querySelector('table')) p.push('chart without a data table: ' + c.getAttribute('aria-label'));
  }
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    const named = (el.id && document.querySelector('label[for="' + el.id + '"]')) || el.closest('label') ||
      el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    if (!named) p.push('form control without a label: ' + (el.name || el.id || el.tagName));
  }
  for (const el of document.querySelectorAll('button, a[href]')) {
    if (!(el.textContent.trim() || el.getAttribute('aria-label') || el.querySelector('img[alt]:not([alt=""])'))) p.push('unnamed ' + el.tagName + ': ' + el.outerHTML.slice(0, 80));
  }
  const ids = new Set();
  for (const el of document.querySelectorAll('[id]')) { if (ids.has(el.id)) p.push('duplicate id ' + el.id); ids.add(el.id); }
  return p;
})()`

// checkPage checks the accessibility basics, that the page reported no
// error, and saves its screenshot.
func (e *browserEnv) checkPage(name string) {
	e.t.Helper()
	if p := eval[[]string](e, a11yProblems); len(p) > 0 {
		e.t.Errorf("%s: accessibility: %s", name, strings.Join(p, "; "))
	}
	if n := eval[int](e, `document.querySelectorAll('main .state.error').length`); n > 0 {
		e.t.Errorf("%s: the page shows %d error(s): %s", name, n, eval[string](e, `[...document.querySelectorAll('main .state.error')].map(x => x.textContent).join(' | ')`))
	}
	e.screenshot(name)
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.problems) > 0 {
		e.t.Errorf("%s: browser console: %s", name, strings.Join(e.problems, "; "))
		e.problems = nil
	}
}

// digits reads a displayed count: "1,234" is 1234.
func digits(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return -1
	}, s))
	if err != nil {
		t.Fatalf("%q is not a count", s)
	}
	return n
}

// percent is how the page shows a fraction: 0.125 is "12.5%".
func percent(f float64) string {
	return strconv.FormatFloat(math.Round(f*1000)/10, 'f', -1, 64) + "%"
}

type series struct {
	CurrentMonth float64 `json:"current_month"`
	History      []struct {
		Period string  `json:"period"`
		Value  float64 `json:"value"`
	} `json:"history"`
}

type statShown struct {
	Metric, Value, Change, ChangeValue string
	Canvas                             bool
}

const readStats = `[...document.querySelectorAll('.stat')].map(s => ({
  Metric: s.dataset.metric,
  Value: s.querySelector('.stat-value').textContent,
  Change: (s.querySelector('.stat-diff') || {}).textContent || '',
  ChangeValue: (s.querySelector('.stat-change') || {dataset: {}}).dataset.value || '',
  Canvas: !!s.querySelector('canvas[role=img]'),
}))`

// checkStats compares the stat cards shown with the API's series under
// prefix (site-monthly-metrics/ or course-monthly-metrics/<id>/).
func (e *browserEnv) checkStats(prefix, suffix string, metrics []string, percentMetrics map[string]bool) {
	e.t.Helper()
	shown := eval[[]statShown](e, readStats)
	if len(shown) != len(metrics) {
		e.t.Fatalf("%d stat cards, want %d: %+v", len(shown), len(metrics), shown)
	}
	for i, m := range metrics {
		s := shown[i]
		if s.Metric != m {
			e.t.Errorf("card %d is %s, want %s", i, s.Metric, m)
			continue
		}
		body := apiGet[map[string]series](e, prefix+m+"/"+suffix)
		want := body[m]
		if percentMetrics[m] {
			if s.Value != percent(want.CurrentMonth) {
				e.t.Errorf("%s: shows %q, API %v", m, s.Value, want.CurrentMonth)
			}
		} else if digits(e.t, s.Value) != int(want.CurrentMonth) {
			e.t.Errorf("%s: shows %q, API %v", m, s.Value, want.CurrentMonth)
		}
		h := want.History
		if len(h) < 2 {
			e.t.Fatalf("%s: history %v", m, h)
		}
		diff := want.CurrentMonth - h[len(h)-2].Value
		got, err := strconv.ParseFloat(s.ChangeValue, 64)
		if err != nil || math.Abs(got-diff) > 1e-9 {
			e.t.Errorf("%s: change %q (%q), API %v", m, s.ChangeValue, s.Change, diff)
		}
		if !percentMetrics[m] {
			wantText := strconv.Itoa(int(diff))
			if diff > 0 {
				wantText = "+" + wantText
			}
			if strings.ReplaceAll(s.Change, ",", "") != wantText {
				e.t.Errorf("%s: change shown %q, want %q", m, s.Change, wantText)
			}
		}
		if !s.Canvas {
			e.t.Errorf("%s: no history chart", m)
		}
	}
}

type listPage[T any] struct {
	Count   int  `json:"count"`
	Results []T  `json:"results"`
	Next    *any `json:"next"`
}

type courseGeneral struct {
	CourseID   string `json:"course_id"`
	CourseName string `json:"course_name"`
	Metrics    *struct {
		EnrollmentCount      int `json:"enrollment_count"`
		NumLearnersCompleted int `json:"num_learners_completed"`
	} `json:"metrics"`
}

type userDetail struct {
	ID       int    `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
	Courses  []struct {
		CourseID     string `json:"course_id"`
		CourseName   string `json:"course_name"`
		ProgressData struct {
			CourseProgress        float64 `json:"course_progress"`
			CourseProgressHistory []any   `json:"course_progress_history"`
		} `json:"progress_data"`
	} `json:"courses"`
}

// shownName is how the pages name a learner: their full name, else their
// username (the LMS has no profile name for some).
func (u userDetail) shownName() string {
	if u.Name != "" {
		return u.Name
	}
	return u.Username
}

type learnerMetrics struct {
	ID                int   `json:"id"`
	EnrollmentDataSet []any `json:"enrollmentdata_set"`
}

// TestBrowser walks the dashboard in chromium.
func TestBrowser(t *testing.T) {
	e := newBrowserEnv(t)

	// The sign-in link `figures demo` prints signs in and opens the
	// overview at once.
	e.do("sign in", chromedp.Navigate(SignInURL(e.srv.URL, e.token)))
	e.waitPage("overview", "/figures/")
	if loc := eval[string](e, `location.href`); strings.Contains(loc, "token") {
		t.Errorf("the token stays in the address bar: %s", loc)
	}
	if js := eval[string](e, `document.cookie`); strings.Contains(js, "fgt_") {
		t.Errorf("the page's script can read the token: %s", js)
	}

	var courseID, courseName string
	var userID int

	t.Run("overview", func(t *testing.T) {
		e.t = t
		e.checkStats("site-monthly-metrics/", "", []string{"active_users", "registered_users", "new_users", "course_enrollments", "course_completions", "site_courses"}, nil)
		run := apiGet[listPage[struct {
			ID     int    `json:"id"`
			Status string `json:"status"`
		}]](e, "pipeline-runs/?limit=1")
		if last := eval[string](e, `document.querySelector('.last-run').textContent`); !strings.Contains(last, fmt.Sprintf("Run %d ", run.Results[0].ID)) {
			t.Errorf("last run shown %q, API's is %d", last, run.Results[0].ID)
		}
		e.checkPage("overview")
	})

	t.Run("mau-history", func(t *testing.T) {
		e.t = t
		e.open("/figures/mau-history", "mau")
		want := apiGet[map[string]series](e, "site-monthly-metrics/active_users/")["active_users"]
		rows := eval[[]map[string]string](e, `[...document.querySelectorAll('tr[data-period]')].map(r => ({period: r.dataset.period, value: r.querySelector('.mau-value').textContent}))`)
		if len(rows) != len(want.History) {
			t.Fatalf("%d rows, API %d months", len(rows), len(want.History))
		}
		for i, r := range rows {
			h := want.History[len(want.History)-1-i] // newest first
			if r["period"] != h.Period || digits(t, r["value"]) != int(h.Value) {
				t.Errorf("row %d: %v, API %+v", i, r, h)
			}
		}
		e.checkPage("mau-history")
	})

	t.Run("courses", func(t *testing.T) {
		e.t = t
		e.open("/figures/courses", "courses")
		want := apiGet[listPage[courseGeneral]](e, "courses-general/?ordering=display_name&limit=20")
		type row struct{ ID, Name, Enrolled, Completions string }
		read := `[...document.querySelectorAll('tr[data-course-id]')].map(r => ({ID: r.dataset.courseId, Name: r.querySelector('.course-link').textContent,
		  Enrolled: (r.querySelector('[data-metric=enrollment_count]') || {}).textContent || 'N/A',
		  Completions: (r.querySelector('[data-metric=num_learners_completed]') || {}).textContent || 'N/A'}))`
		rows := eval[[]row](e, read)
		if len(rows) != len(want.Results) || len(rows) == 0 {
			t.Fatalf("%d rows, API %d", len(rows), len(want.Results))
		}
		for i, r := range rows {
			c := want.Results[i]
			if r.ID != c.CourseID || r.Name != c.CourseName || c.Metrics == nil ||
				digits(t, r.Enrolled) != c.Metrics.EnrollmentCount || digits(t, r.Completions) != c.Metrics.NumLearnersCompleted {
				t.Errorf("row %d: %+v, API %+v", i, r, c)
			}
		}
		// Sorting by a header's button: descending course id.
		e.do("sort by course id", chromedp.Click(chromedp.CSS(`button[data-sort="course_id"]`)))
		e.waitFor("ascending course ids", `document.querySelector('th[aria-sort="ascending"] button[data-sort="course_id"]') && document.querySelector('main').getAttribute('aria-busy') === 'false'`)
		e.do("sort by course id, descending", chromedp.Click(chromedp.CSS(`button[data-sort="course_id"]`)))
		e.waitFor("descending course ids", `document.querySelector('th[aria-sort="descending"] button[data-sort="course_id"]') && document.querySelector('main').getAttribute('aria-busy') === 'false'`)
		desc := apiGet[listPage[courseGeneral]](e, "courses-general/?ordering=-course_id&limit=20")
		if rows := eval[[]row](e, read); rows[0].ID != desc.Results[0].CourseID {
			t.Errorf("sorted by -course_id: first %s, API %s", rows[0].ID, desc.Results[0].CourseID)
		}
		if loc := eval[string](e, `location.search`); !strings.Contains(loc, "ordering=-course_id") {
			t.Errorf("the sort order is not in the URL: %q", loc)
		}
		// Search: the count shown is the API's for the same term.
		term := strings.Fields(want.Results[0].CourseName)[0]
		e.do("search", chromedp.SendKeys(chromedp.CSS(`main input[type=search]`), term+kb.Enter))
		e.waitFor("the search's results", fmt.Sprintf(`document.querySelector('.results[data-query=%q]') && document.querySelector('main').getAttribute('aria-busy') === 'false'`, term))
		found := apiGet[listPage[courseGeneral]](e, "courses-general/?limit=20&search="+url.QueryEscape(term))
		if got := eval[string](e, `document.querySelector('.results').dataset.count`); got != strconv.Itoa(found.Count) || found.Count == 0 {
			t.Errorf("search %q: %s courses shown, API %d", term, got, found.Count)
		}
		if n := eval[int](e, `document.querySelectorAll('tr[data-course-id]').length`); n != len(found.Results) {
			t.Errorf("search %q: %d rows, API %d", term, n, len(found.Results))
		}
		e.checkPage("courses")
		courseID, courseName = found.Results[0].CourseID, found.Results[0].CourseName
	})

	t.Run("course", func(t *testing.T) {
		e.t = t
		if courseID == "" {
			t.Skip("no course from the courses page")
		}
		// Click through from the list.
		e.do("open the course", chromedp.Click(chromedp.CSS(fmt.Sprintf(`tr[data-course-id=%q] a.course-link`, courseID))))
		e.waitPage("course", "")
		e.waitFor("the course's learners", `document.querySelector('main').dataset.path.startsWith('/figures/course/') && document.querySelector('main').getAttribute('aria-busy') === 'false' && document.querySelector('.results[data-count]')`)
		if h1 := eval[string](e, `document.querySelector('h1').textContent`); h1 != courseName {
			t.Errorf("h1 %q, API course name %q", h1, courseName)
		}
		if title := eval[string](e, `document.title`); !strings.Contains(title, courseName) {
			t.Errorf("title %q", title)
		}
		e.checkStats("course-monthly-metrics/"+courseID+"/", "", []string{"active_users", "course_enrollments", "avg_progress", "num_learners_completed", "avg_days_to_complete"},
			map[string]bool{"avg_progress": true})
		if n := eval[int](e, `document.querySelectorAll('.chart-grid canvas[role=img]').length`); n != 4 {
			t.Errorf("%d daily charts, want 4", n)
		}
		learners := apiGet[listPage[userDetail]](e, "users-detail/?ordering=profile__name&limit=20&enrolled_in_course_id="+url.QueryEscape(courseID))
		if got := eval[string](e, `document.querySelector('.results').dataset.count`); got != strconv.Itoa(learners.Count) || learners.Count == 0 {
			t.Fatalf("%s learners shown, API %d", got, learners.Count)
		}
		type lrow struct{ ID, Name, Progress string }
		rows := eval[[]lrow](e, `[...document.querySelectorAll('tr[data-user-id]')].map(r => ({ID: r.dataset.userId, Name: r.querySelector('.user-link').textContent, Progress: r.querySelector('.progress-text').textContent}))`)
		if len(rows) != len(learners.Results) {
			t.Fatalf("%d learner rows, API %d", len(rows), len(learners.Results))
		}
		for i, r := range rows {
			u := learners.Results[i]
			var p float64
			for _, c := range u.Courses {
				if c.CourseID == courseID {
					p = c.ProgressData.CourseProgress
				}
			}
			if r.ID != strconv.Itoa(u.ID) || r.Name != u.shownName() || r.Progress != percent(p) {
				t.Errorf("learner row %d: %+v, API %d %q %v", i, r, u.ID, u.shownName(), p)
			}
		}
		e.checkPage("course")
		userID = learners.Results[0].ID
	})

	t.Run("learner", func(t *testing.T) {
		e.t = t
		if userID == 0 {
			t.Skip("no learner from the course page")
		}
		path := fmt.Sprintf("/figures/user/%d", userID)
		e.do("open the learner", chromedp.Click(chromedp.CSS(fmt.Sprintf(`tr[data-user-id="%d"] a.user-link`, userID))))
		e.waitPage("user", path)
		u := apiGet[userDetail](e, fmt.Sprintf("users-detail/%d/", userID))
		if h1 := eval[string](e, `document.querySelector('h1').textContent`); h1 != u.shownName() {
			t.Errorf("h1 %q, API %q", h1, u.shownName())
		}
		type crow struct{ ID, Progress string }
		rows := eval[[]crow](e, `[...document.querySelectorAll('tr[data-course-id]')].map(r => ({ID: r.dataset.courseId, Progress: r.querySelector('.progress-text').textContent}))`)
		if len(rows) != len(u.Courses) {
			t.Fatalf("%d course rows, API %d", len(rows), len(u.Courses))
		}
		for i, r := range rows {
			if r.ID != u.Courses[i].CourseID || r.Progress != percent(u.Courses[i].ProgressData.CourseProgress) {
				t.Errorf("course row %d: %+v, API %+v", i, r, u.Courses[i])
			}
		}
		withHistory := 0
		for _, c := range u.Courses {
			if len(c.ProgressData.CourseProgressHistory) > 0 {
				withHistory++
			}
		}
		if n := eval[int](e, `(() => { const c = document.querySelector('canvas'); return c ? Chart.getChart(c).data.datasets.length : 0 })()`); n != withHistory {
			t.Errorf("progress chart has %d lines, API %d courses with snapshots", n, withHistory)
		}
		e.checkPage("learner")

		// A reload of the deep link draws the same page.
		e.open(path, "user")
		if h1 := eval[string](e, `document.querySelector('h1').textContent`); h1 != u.shownName() {
			t.Errorf("after reload: h1 %q", h1)
		}
	})

	t.Run("learners", func(t *testing.T) {
		e.t = t
		e.open("/figures/users", "users")
		want := apiGet[listPage[struct {
			ID      int   `json:"id"`
			Courses []any `json:"courses"`
		}]](e, "users-general/?ordering=profile__name&limit=20")
		type row struct{ ID, Courses string }
		rows := eval[[]row](e, `[...document.querySelectorAll('tr[data-user-id]')].map(r => ({ID: r.dataset.userId, Courses: r.lastElementChild.textContent}))`)
		if len(rows) != len(want.Results) {
			t.Fatalf("%d rows, API %d", len(rows), len(want.Results))
		}
		for i, r := range rows {
			if r.ID != strconv.Itoa(want.Results[i].ID) || digits(t, r.Courses) != len(want.Results[i].Courses) {
				t.Errorf("row %d: %+v, API %+v", i, r, want.Results[i])
			}
		}
		if status := eval[string](e, `document.querySelector('.pager-status').textContent`); !strings.Contains(strings.ReplaceAll(status, ",", ""), fmt.Sprintf("of %d learners", want.Count)) {
			t.Errorf("pager says %q, API count %d", status, want.Count)
		}
		// Next page.
		e.do("next page", chromedp.Click(chromedp.CSS(`button[aria-label="Next page"]`)))
		e.waitFor("page 2", `location.search.includes('offset=20') && document.querySelector('main').getAttribute('aria-busy') === 'false'`)
		page2 := apiGet[listPage[struct {
			ID int `json:"id"`
		}]](e, "users-general/?ordering=profile__name&limit=20&offset=20")
		if first := eval[string](e, `document.querySelector('tr[data-user-id]').dataset.userId`); first != strconv.Itoa(page2.Results[0].ID) {
			t.Errorf("page 2 starts with %s, API %d", first, page2.Results[0].ID)
		}
		e.checkPage("learners")
	})

	t.Run("progress-overview", func(t *testing.T) {
		e.t = t
		e.open("/figures/learners-progress-overview", "progress")
		all := apiGet[listPage[learnerMetrics]](e, "learner-metrics/?ordering=profile__name&limit=20")
		if got := eval[string](e, `document.querySelector('.results').dataset.count`); got != strconv.Itoa(all.Count) {
			t.Errorf("%s learners shown, API %d", got, all.Count)
		}
		rowsWant := 0
		for _, l := range all.Results {
			rowsWant += max(1, len(l.EnrollmentDataSet))
		}
		if n := eval[int](e, `document.querySelectorAll('.progress-table tbody tr').length`); n != rowsWant {
			t.Errorf("%d learner × course rows, API %d", n, rowsWant)
		}
		// Filter by a course.
		e.do("filter by course", chromedp.SetValue(chromedp.CSS(`select[name=course]`), courseID),
			chromedp.Evaluate[chromedp.Void](`document.querySelector('select[name=course]').dispatchEvent(new Event('change'))`))
		e.waitFor("the course's learners", fmt.Sprintf(`document.querySelector('.results[data-course=%q]') && document.querySelector('main').getAttribute('aria-busy') === 'false'`, courseID))
		filtered := apiGet[listPage[learnerMetrics]](e, "learner-metrics/?ordering=profile__name&limit=1000&course="+url.QueryEscape(courseID))
		if got := eval[string](e, `document.querySelector('.results').dataset.count`); got != strconv.Itoa(filtered.Count) || filtered.Count == 0 {
			t.Errorf("filtered: %s learners shown, API %d", got, filtered.Count)
		}
		e.checkPage("progress-overview")

		// The CSV download is the current view, every page of it.
		raw := e.download("download the CSV", chromedp.Click(chromedp.CSS(`#csv-download`)))
		records, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
		if err != nil {
			t.Fatalf("the download is not CSV: %v", err)
		}
		wantHeader := "id,username,email,fullname,is_active,date_joined,enrollmentdata_id,course_id,date_enrolled,is_enrolled,is_completed,progress_percent,points_possible,points_earned,sections_worked,sections_possible"
		if len(records) == 0 || strings.Join(records[0], ",") != wantHeader {
			t.Fatalf("CSV header %v", records[:min(1, len(records))])
		}
		wantRows := 0
		for _, l := range filtered.Results {
			wantRows += max(1, len(l.EnrollmentDataSet))
		}
		if len(records)-1 != wantRows {
			t.Errorf("CSV has %d rows, the API's learners have %d learner × course rows", len(records)-1, wantRows)
		}
		for _, r := range records[1:] {
			if r[7] != courseID {
				t.Errorf("CSV row of another course: %v", r)
				break
			}
		}
	})

	t.Run("pipeline-runs", func(t *testing.T) {
		e.t = t
		e.open("/figures/pipeline-runs", "runs")
		want := apiGet[listPage[struct {
			ID int `json:"id"`
		}]](e, "pipeline-runs/?limit=20")
		ids := eval[[]string](e, `[...document.querySelectorAll('tr[data-run-id]')].map(r => r.dataset.runId)`)
		if len(ids) != len(want.Results) || len(ids) == 0 {
			t.Fatalf("%d runs shown, API %d", len(ids), len(want.Results))
		}
		for i, id := range ids {
			if id != strconv.Itoa(want.Results[i].ID) {
				t.Errorf("run row %d: %s, API %d", i, id, want.Results[i].ID)
			}
		}
		sched := apiGet[struct {
			Schedule string `json:"schedule"`
			NextRun  string `json:"next_run"`
		}](e, "pipeline-runs/schedule/")
		if got := eval[string](e, `document.querySelector('.schedule').dataset.schedule`); got != sched.Schedule || got != testSchedule.spec {
			t.Errorf("schedule shown %q, API %q", got, sched.Schedule)
		}
		if got := eval[string](e, `document.querySelector('time.next-run').getAttribute('datetime')`); got != sched.NextRun {
			t.Errorf("next run shown %q, API %q", got, sched.NextRun)
		}
		// A run's errors open below it.
		newest := want.Results[0].ID
		errs := apiGet[listPage[struct {
			ErrorType string `json:"error_type"`
			CourseID  string `json:"course_id"`
		}]](e, fmt.Sprintf("pipeline-runs/errors/?run=%d", newest))
		e.do("show the errors", chromedp.Click(chromedp.CSS(fmt.Sprintf(`tr[data-run-id="%d"] button[aria-expanded="false"]`, newest))))
		e.waitFor("the errors", `document.querySelector('.errors-row table') && document.querySelector('main').getAttribute('aria-busy') === 'false'`)
		type erow struct{ Type, Course string }
		rows := eval[[]erow](e, `[...document.querySelectorAll('.errors-row tbody tr')].map(r => ({Type: r.children[0].textContent, Course: r.children[1].textContent}))`)
		if len(rows) != errs.Count || errs.Count != 2 {
			t.Fatalf("%d error rows shown, API %d", len(rows), errs.Count)
		}
		for i, r := range rows {
			if r.Type != errs.Results[i].ErrorType || r.Course != errs.Results[i].CourseID {
				t.Errorf("error row %d: %+v, API %+v", i, r, errs.Results[i])
			}
		}
		e.checkPage("pipeline-runs")
	})

	t.Run("keyboard", func(t *testing.T) {
		e.t = t
		e.open("/figures/", "overview")
		// From the top of the page, Tab reaches the main navigation's
		// Courses link (after the skip link, the brand and the links before
		// it), and Enter opens it.
		reached := false
		for range 12 {
			e.do("tab", chromedp.KeyEvent(kb.Tab))
			if eval[bool](e, `document.activeElement.matches('.main-nav a[data-route~="courses"]')`) {
				reached = true
				break
			}
		}
		if !reached {
			t.Fatalf("Tab did not reach the Courses link; focus is on %s", eval[string](e, `document.activeElement.outerHTML.slice(0, 120)`))
		}
		e.do("enter", chromedp.KeyEvent(kb.Enter))
		e.waitPage("courses", "/figures/courses")
		if cur := eval[string](e, `document.querySelector('.main-nav a[aria-current=page]').textContent`); cur != "Courses" {
			t.Errorf("current navigation item %q", cur)
		}
		if focused := eval[string](e, `document.activeElement.tagName`); focused != "H1" {
			t.Errorf("after navigating, focus is on %s, want the page's h1", focused)
		}
	})

	t.Run("not-found", func(t *testing.T) {
		e.t = t
		e.open("/figures/no-such-page", "notfound")
		if h1 := eval[string](e, `document.querySelector('h1').textContent`); h1 != "Page not found" {
			t.Errorf("h1 %q", h1)
		}
		e.checkPage("not-found")
	})

	t.Run("site-picker", func(t *testing.T) {
		e.t = t
		e.open("/figures/", "overview")
		e.waitFor("the site picker", `!document.getElementById('site-picker').hidden && document.querySelector('#site-select option[value="2"]')`)
		e.do("choose site 2", chromedp.SetValue(chromedp.CSS(`#site-select`), "2"),
			chromedp.Evaluate[chromedp.Void](`document.getElementById('site-select').dispatchEvent(new Event('change'))`))
		e.waitFor("site 2's overview", `new URLSearchParams(location.search).get('site') === '2' && document.querySelector('main').getAttribute('aria-busy') === 'false' && document.querySelectorAll('.stat').length === 6`)
		e.checkStats("site-monthly-metrics/", "?site=2", []string{"active_users", "registered_users", "new_users", "course_enrollments", "course_completions", "site_courses"}, nil)
		daily := apiGet[listPage[struct {
			Site struct {
				Name string `json:"name"`
			} `json:"site"`
		}]](e, "site-daily-metrics/?limit=1&site=2")
		if lede := eval[string](e, `document.querySelector('.lede').textContent`); !strings.HasPrefix(lede, daily.Results[0].Site.Name) {
			t.Errorf("site 2's overview names %q, API %q", lede, daily.Results[0].Site.Name)
		}
		// Every link keeps the site.
		if link := eval[string](e, `document.querySelector('.main-nav a[data-route~="courses"]').getAttribute('href')`); link != "/figures/courses?site=2" {
			t.Errorf("navigation link %q loses the site", link)
		}
		e.checkPage("overview-site-2")
	})

	t.Run("empty-site", func(t *testing.T) {
		e.t = t
		for _, p := range []struct{ path, route string }{
			{fmt.Sprintf("/figures/?site=%d", emptySite), "overview"},
			{fmt.Sprintf("/figures/courses?site=%d", emptySite), "courses"},
			{fmt.Sprintf("/figures/learners-progress-overview?site=%d", emptySite), "progress"},
		} {
			e.open(p.path, p.route)
			if txt := eval[string](e, `[...document.querySelectorAll('main .state.empty')].map(x => x.textContent).join(' | ')`); !strings.Contains(txt, "the pipeline has not run for this site") {
				t.Errorf("%s: no empty state, shows %q", p.path, txt)
			}
			e.checkPage("empty-" + p.route)
		}
	})

	t.Run("sign-out-and-in", func(t *testing.T) {
		e.t = t
		e.open("/figures/", "overview")
		e.do("sign out", chromedp.Click(chromedp.CSS(`form.signout button`)))
		e.do("the sign-in page", chromedp.WaitReady(chromedp.CSS(`#signin-form`)))
		if notice := eval[string](e, `document.querySelector('.state.notice').textContent`); !strings.Contains(notice, "signed out") {
			t.Errorf("after signing out: %q", notice)
		}
		e.checkPage("signin")
		// A page now sends the browser to sign in, and back after.
		e.do("open a page", chromedp.Navigate(e.srv.URL+"/figures/courses?search=Demo"))
		e.do("the sign-in page", chromedp.WaitReady(chromedp.CSS(`#signin-form`)))
		if loc := eval[string](e, `location.pathname + location.search`); loc != "/figures/signin?next=%2Ffigures%2Fcourses%3Fsearch%3DDemo" {
			t.Errorf("redirected to %q", loc)
		}
		e.do("sign in with the form", chromedp.SendKeys(chromedp.CSS(`#token`), e.token), chromedp.Submit(chromedp.CSS(`#signin-form`)))
		e.waitPage("courses", "/figures/courses")
		if q := eval[string](e, `document.querySelector('main input[type=search]').value`); q != "Demo" {
			t.Errorf("back on the page with search %q", q)
		}
	})

	t.Run("phone", func(t *testing.T) {
		e.t = t
		e.do("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
		defer e.do("desktop viewport", chromedp.EmulateReset())
		for _, p := range []struct{ name, path, route string }{
			{"phone-overview", "/figures/", "overview"},
			{"phone-course", "/figures/course/" + courseID, "course"},
		} {
			e.open(p.path, p.route)
			// Nothing may be wider than the screen: wide tables scroll in
			// their own region.
			if w := eval[int](e, `document.documentElement.scrollWidth`); w > 390 {
				t.Errorf("%s: the page is %d px wide on a 390 px screen", p.name, w)
			}
			e.checkPage(p.name)
		}
	})
}
