package web

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"image"
	"image/png"
	"io"
	"log/slog"
	"math"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/golang-jwt/jwt/v5"

	"github.com/figures-analytics/figures/internal/api"
)

// The original Figures front end (appsembler/figures' React app, built,
// in ../shared/clients/figures-frontend) is a client of our API that
// nobody on this project wrote. These tests host it the way the LMS does
// (a page at /figures/ holding its bundle), sign in the way it signs in
// (the LMS's JWT cookie pair, verified through a JWKS; no Authorization
// header, no API token), open every page and check that the numbers it
// draws are our API's.

const (
	frontendIssuer = "https://lms.figures.example/oauth2"
	frontendKid    = "lms-signing-key"
)

// frontendBundle returns the folder of the built front end, skipping the
// test when it is not there (a checkout without ../shared).
func frontendBundle(t *testing.T) string {
	dir := os.Getenv("FIGURES_FRONTEND_DIR")
	if dir == "" {
		dir = filepath.Join(repoRoot(t), "..", "shared", "clients", "figures-frontend", "rb16")
	}
	if _, err := os.Stat(filepath.Join(dir, "webpack-stats.json")); err != nil {
		t.Skipf("original Figures front end not found at %s (FIGURES_FRONTEND_DIR): %v", dir, err)
	}
	return dir
}

// lmsPageTemplate is the page the LMS renders at /figures/ (the original's
// figures/templates/figures/index.html through django-webpack-loader).
var lmsPageTemplate = template.Must(template.New("lms").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Figures</title>
{{range .Styles}}<link type="text/css" href="/static/figures/rb16/{{.}}" rel="stylesheet" />
{{end}}</head><body>
<div id="view-context-values" data-cms-search-api-url="//studio.figures.example" style="display:none"></div>
<div id="edx-figures-app" class="edx-figures-app"></div>
{{range .Scripts}}<script type="text/javascript" src="/static/figures/rb16/{{.}}"></script>
{{end}}</body></html>`))

// lmsStandIn serves what the LMS serves around the front end: the page,
// the bundle's static files, figures' API, and the two LMS APIs it calls.
func lmsStandIn(t *testing.T, bundle string, apiH http.Handler) http.Handler {
	raw, err := os.ReadFile(filepath.Join(bundle, "webpack-stats.json"))
	if err != nil {
		t.Fatal(err)
	}
	var stats struct {
		Chunks map[string][]struct {
			Name string `json:"name"`
		} `json:"chunks"`
	}
	if err := json.Unmarshal(raw, &stats); err != nil {
		t.Fatalf("webpack-stats.json: %v", err)
	}
	var page struct{ Scripts, Styles []string }
	for _, f := range stats.Chunks["main"] {
		switch {
		case strings.HasSuffix(f.Name, ".js"):
			page.Scripts = append(page.Scripts, f.Name)
		case strings.HasSuffix(f.Name, ".css"):
			page.Styles = append(page.Styles, f.Name)
		}
	}
	if len(page.Scripts) == 0 {
		t.Fatalf("webpack-stats.json lists no script in its main chunk")
	}
	mux := http.NewServeMux()
	mux.Handle("/static/figures/rb16/", http.StripPrefix("/static/figures/rb16/", http.FileServer(http.Dir(bundle))))
	mux.Handle(api.Prefix, apiH)
	mux.HandleFunc("/favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(bundle, "favicon.ico"))
	})
	// The LMS's default profile images, which the API's profile_image
	// URLs name.
	mux.HandleFunc("/static/images/profiles/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		png.Encode(w, image.NewGray(image.Rect(0, 0, 1, 1)))
	})
	mux.HandleFunc("/figures/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		lmsPageTemplate.Execute(w, page)
	})
	// The LMS's own APIs, for the few optional details the front end asks
	// them: an empty course catalogue page and a bare account.
	mux.HandleFunc("/api/courses/v1/courses/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"results": [], "pagination": {"next": null, "previous": null, "count": 0, "num_pages": 1}}`)
	})
	mux.HandleFunc("/api/user/v1/accounts/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		username := strings.Trim(strings.TrimPrefix(r.URL.Path, "/api/user/v1/accounts/"), "/")
		json.NewEncoder(w).Encode(map[string]any{"username": username, "bio": nil,
			"profile_image": map[string]any{"has_image": false}})
	})
	return mux
}

// lmsKeys is the LMS's signing key and the JWKS file that publishes it.
func lmsKeys(t *testing.T) (*rsa.PrivateKey, string) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	doc := map[string]any{"keys": []any{map[string]any{
		"kty": "RSA", "kid": frontendKid, "use": "sig", "alg": "RS512",
		"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
	}}}
	b, _ := json.Marshal(doc)
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return key, path
}

// lmsCookies are the two halves of the JWT cookie the LMS sets for a
// signed-in global staff user (edx-platform's oauth_dispatch claims).
func lmsCookies(t *testing.T, key *rsa.PrivateKey) (headerPayload, signature string) {
	now := time.Now().Unix()
	claims := jwt.MapClaims{
		"iss": frontendIssuer, "aud": "lms-key", "exp": now + 3600, "iat": now,
		"preferred_username": "staff", "sub": "anon-staff", "scopes": []string{"user_id", "email", "profile"},
		"version": "1.2.0", "filters": []string{}, "is_restricted": false, "email_verified": true,
		"user_id": 1, "email": "staff@example.com", "name": "Staff", "administrator": true, "superuser": false,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS512, claims)
	tok.Header["kid"] = frontendKid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndex(s, ".")
	return s[:i], s[i+1:]
}

// apiCall is one request the front end made to figures' API.
type apiCall struct {
	url    string
	status int64
}

type frontendEnv struct {
	*browserEnv
	mu         sync.Mutex
	calls      []apiCall
	authorized []string // requests that carried an Authorization header
}

func newFrontendEnv(t *testing.T) *frontendEnv {
	chromium := findChromium(t)
	bundle := frontendBundle(t)
	st, token := demoStore(t)
	key, jwksPath := lmsKeys(t)
	keys, err := api.NewJWKSSource(context.Background(), jwksPath, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := api.NewAuthenticator(api.AuthConfig{Store: st, Keys: keys, Issuers: []string{frontendIssuer}})
	if err != nil {
		t.Fatal(err)
	}
	apiH, err := api.NewHandler(api.Config{Store: st, Auth: auth, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(lmsStandIn(t, bundle, apiH))
	t.Cleanup(srv.Close)
	e := &frontendEnv{browserEnv: &browserEnv{t: t, srv: srv, token: token, artifacts: artifactDir(t)}}
	e.startBrowser(chromium)

	if err := chromedp.Listen(e.ctx, func(ev any) {
		switch ev := ev.(type) {
		case *network.EventResponseReceived:
			if ev.Type == network.ResourceTypeFetch || ev.Type == network.ResourceTypeXHR || strings.Contains(ev.Response.URL, "/api/") {
				e.mu.Lock()
				e.calls = append(e.calls, apiCall{ev.Response.URL, ev.Response.Status})
				e.mu.Unlock()
			}
		case *network.EventRequestWillBeSent:
			for k := range ev.Request.Headers {
				if strings.EqualFold(k, "Authorization") {
					e.mu.Lock()
					e.authorized = append(e.authorized, ev.Request.URL)
					e.mu.Unlock()
				}
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(e.ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	hp, sig := lmsCookies(t, key)
	for name, value := range map[string]string{api.JWTHeaderPayloadCookie: hp, api.JWTSignatureCookie: sig} {
		if _, err := chromedp.Call(e.ctx, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: srv.URL + "/"}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// monthly is a site- or course-monthly-metrics answer for one metric.
type monthly struct {
	Current float64 `json:"current_month"`
	History []struct {
		Period string  `json:"period"`
		Value  float64 `json:"value"`
	} `json:"history"`
}

// sinceLastMonth is the comparison the front end draws under a metric: the
// current month's value less the previous month's.
func (m monthly) sinceLastMonth() float64 {
	if len(m.History) < 2 {
		return m.Current
	}
	return m.Current - m.History[len(m.History)-2].Value
}

// statCards reads the page's metric cards: title → [current, comparison].
const statCards = `Object.fromEntries([...document.querySelectorAll('[class^="stat-card"]')]
  .filter(c => c.querySelector('[class^="card-title"]'))
  .map(c => [c.querySelector('[class^="card-title"]').textContent.trim(),
             [(c.querySelector('[class^="current-data"]') || {}).textContent || '',
              (c.querySelector('[class^="comparison-value"]') || {}).textContent || '']]))`

// pageLines are the page's visible lines of text, trimmed, without blanks.
func (e *frontendEnv) pageLines() []string {
	var out []string
	for _, l := range strings.Split(eval[string](e.browserEnv, `document.body.innerText`), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// frontendWait bounds each wait on the front end, so that a page that
// never draws what is expected fails with its text rather than at the
// session's deadline.
const frontendWait = 60 * time.Second

// waitFor waits until a JavaScript condition holds, failing with the
// page's text after frontendWait.
func (e *frontendEnv) waitFor(what, cond string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, frontendWait)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!("+cond+")", chromedp.WithPollingTimeout(0))); err != nil {
		e.t.Fatalf("wait for %s (%s): %v; the page shows:\n%s", what, cond, err, strings.Join(e.pageLines(), "\n"))
	}
}

// do runs actions within frontendWait.
func (e *frontendEnv) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, frontendWait)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		e.t.Fatalf("%s: %v; the page shows:\n%s", what, err, strings.Join(e.pageLines(), "\n"))
	}
}

// visit opens a page of the front end as a fresh load and waits until the
// JavaScript condition ready holds.
func (e *frontendEnv) visit(path, what, ready string) {
	e.t.Helper()
	e.do("open "+path, chromedp.Navigate(e.srv.URL+path))
	e.waitFor(what, ready)
}

// inOrder reports the first of want that does not appear in lines after
// the previous one.
func inOrder(lines, want []string) error {
	i := 0
	for _, w := range want {
		for i < len(lines) && lines[i] != w {
			i++
		}
		if i == len(lines) {
			return fmt.Errorf("%q not found (in order) on the page", w)
		}
		i++
	}
	return nil
}

// fixed formats like JavaScript's Number.prototype.toFixed for the values
// the pages show.
func fixed(f float64, digits int) string { return strconv.FormatFloat(f, 'f', digits, 64) }

type frontendUser struct {
	ID       int     `json:"id"`
	Username string  `json:"username"`
	Fullname *string `json:"fullname"`
	Name     *string `json:"name"`
	Email    string  `json:"email"`
	Courses  []struct {
		CourseID     string `json:"course_id"`
		CourseName   string `json:"course_name"`
		ProgressData struct {
			CourseProgress float64 `json:"course_progress"`
			Details        struct {
				PointsEarned   float64 `json:"points_earned"`
				PointsPossible float64 `json:"points_possible"`
			} `json:"course_progress_details"`
		} `json:"progress_data"`
	} `json:"courses"`
}

// allPages follows an API list's next links and returns every result.
func allPages[T any](e *frontendEnv, path string) []T {
	e.t.Helper()
	var out []T
	for path != "" {
		page := apiGet[struct {
			Next    *string `json:"next"`
			Results []T     `json:"results"`
		}](e.browserEnv, path)
		out = append(out, page.Results...)
		path = ""
		if page.Next != nil {
			// Links are path-absolute unless the server has a public URL.
			path = strings.TrimPrefix(strings.TrimPrefix(*page.Next, e.srv.URL), api.Prefix)
		}
	}
	return out
}

func TestOriginalFrontend(t *testing.T) {
	e := newFrontendEnv(t)
	const course = "course-v1:edX+DemoX+Demo_Course"
	const courseName = "Demonstration Course"

	t.Run("overview", func(t *testing.T) {
		e.t = t
		e.visit("/figures/", "the overview's cards", `document.querySelectorAll('[class^="stat-card"] [class^="current-data"]').length >= 4`)
		cards := eval[map[string][2]string](e.browserEnv, statCards)
		for title, metric := range map[string]string{
			"Registered learners": "registered_users", "New learners": "new_users",
			"Course enrollments": "course_enrollments", "Course completions": "course_completions",
		} {
			m := apiGet[map[string]monthly](e.browserEnv, "site-monthly-metrics/"+metric+"/")[metric]
			want := [2]string{fixed(m.Current, 0), fixed(m.sinceLastMonth(), 0)}
			if cards[title] != want {
				t.Errorf("%s: page shows %q, API %q", title, cards[title], want)
			}
		}
		mau := apiGet[map[string]monthly](e.browserEnv, "site-monthly-metrics/active_users/")["active_users"]
		if err := inOrder(e.pageLines(), []string{fixed(mau.Current, 0), "active users (MAUs) this month",
			fmt.Sprintf("%s %s compared to last month", map[bool]string{true: "down", false: "up"}[mau.sinceLastMonth() < 0], fixed(math.Abs(mau.sinceLastMonth()), 0))}); err != nil {
			t.Errorf("MAU: %v", err)
		}
		e.screenshot("frontend-overview")
	})

	t.Run("mau-history", func(t *testing.T) {
		e.t = t
		e.visit("/figures/mau-history", "the MAU history", `document.body.innerText.includes('Monthly active users')`)
		mau := apiGet[map[string]monthly](e.browserEnv, "site-monthly-metrics/active_users/")["active_users"]
		var want []string
		for i := len(mau.History) - 1; i >= 0; i-- {
			want = append(want, mau.History[i].Period, fixed(mau.History[i].Value, 0))
		}
		e.waitFor("the history rows", fmt.Sprintf(`document.body.innerText.includes(%q)`, mau.History[0].Period))
		if err := inOrder(e.pageLines(), want); err != nil {
			t.Errorf("MAU history: %v", err)
		}
		e.screenshot("frontend-mau-history")
	})

	t.Run("users", func(t *testing.T) {
		e.t = t
		page := apiGet[struct {
			Count   int            `json:"count"`
			Results []frontendUser `json:"results"`
		}](e.browserEnv, "users-general/?search=&ordering=profile__name&limit=20&offset=0")
		e.visit("/figures/users", "the users list", fmt.Sprintf(`document.body.innerText.includes(%q)`, page.Results[len(page.Results)-1].Username))
		lines := e.pageLines()
		if err := inOrder(lines, []string{fmt.Sprintf("This view allows you to browse your sites users. Total number of results: %d.", page.Count)}); err != nil {
			t.Error(err)
		}
		var names []string
		for _, u := range page.Results {
			names = append(names, u.Username)
		}
		if err := inOrder(lines, names); err != nil {
			t.Errorf("users: %v", err)
		}
		e.screenshot("frontend-users")
	})

	t.Run("courses", func(t *testing.T) {
		e.t = t
		type courseGeneral struct {
			CourseID   string `json:"course_id"`
			CourseName string `json:"course_name"`
			Metrics    struct {
				Enrollments int `json:"enrollment_count"`
				Completed   int `json:"num_learners_completed"`
			} `json:"metrics"`
		}
		page := apiGet[struct {
			Count   int             `json:"count"`
			Results []courseGeneral `json:"results"`
		}](e.browserEnv, "courses-general/?search=&ordering=display_name&limit=20&offset=0")
		e.visit("/figures/courses", "the courses list", fmt.Sprintf(`document.body.innerText.includes(%q)`, page.Results[len(page.Results)-1].CourseID))
		lines := e.pageLines()
		if err := inOrder(lines, []string{fmt.Sprintf("This view allows you to browse your sites courses. Total number of results: %d.", page.Count)}); err != nil {
			t.Error(err)
		}
		for _, c := range page.Results {
			// name, id, start date, [self-paced "-"], enrolments, completions
			if err := inOrder(lines, []string{c.CourseName, c.CourseID}); err != nil {
				t.Errorf("courses: %v", err)
				continue
			}
			at := slices.Index(lines, c.CourseID)
			rest := lines[at+1 : min(len(lines), at+6)]
			if err := inOrder(rest, []string{strconv.Itoa(c.Metrics.Enrollments), strconv.Itoa(c.Metrics.Completed), "Details"}); err != nil {
				t.Errorf("course %s: %v in %q", c.CourseID, err, rest)
			}
		}
		e.screenshot("frontend-courses")
	})

	t.Run("course", func(t *testing.T) {
		e.t = t
		learners := allPages[frontendUser](e, "users-detail/?enrolled_in_course_id="+url.QueryEscape(course))
		e.visit("/figures/course/"+course, "the course's learners", `document.querySelectorAll('[class^="learner-row"]').length > 0 && document.querySelectorAll('[class^="stat-card"] [class^="current-data"]').length >= 5`)
		cards := eval[map[string][2]string](e.browserEnv, statCards)
		for title, metric := range map[string]string{
			"Active users": "active_users", "Number of enrolled learners": "course_enrollments",
			"Average course progress": "avg_progress", "Average days to complete": "avg_days_to_complete",
			"User course completions": "num_learners_completed",
		} {
			m := apiGet[map[string]monthly](e.browserEnv, "course-monthly-metrics/"+course+"/"+metric+"/")[metric]
			want := [2]string{fixed(m.Current, 0), fixed(m.sinceLastMonth(), 0)}
			if metric == "avg_progress" {
				want = [2]string{fixed(m.Current*100, 2) + "%", fixed(m.sinceLastMonth()*100, 2) + "%"}
			}
			if cards[title] != want {
				t.Errorf("%s: page shows %q, API %q", title, cards[title], want)
			}
		}
		// "Load more" until every learner is listed.
		for eval[bool](e.browserEnv, `!!document.querySelector('button[class^="load-more-button"]')`) {
			n := eval[int](e.browserEnv, `document.querySelectorAll('[class^="learner-row"]').length`)
			e.do("load more", chromedp.Click(`button[class^="load-more-button"]`))
			e.waitFor("more learners", fmt.Sprintf(`document.querySelectorAll('[class^="learner-row"]').length > %d || !document.querySelector('button[class^="load-more-button"]')`, n))
		}
		rows := eval[[][2]string](e.browserEnv, `[...document.querySelectorAll('[class^="learner-row"]')].map(r =>
		  [(r.querySelector('[class^="name"] a') || {}).pathname || '', (r.querySelector('[class^="course-progress"]') || {}).textContent || ''])`)
		if len(rows) != len(learners) {
			t.Fatalf("%d learners listed after Load more, API %d", len(rows), len(learners))
		}
		for i, l := range learners {
			progress := ""
			for _, c := range l.Courses {
				if c.CourseID == course {
					progress = fixed(c.ProgressData.CourseProgress*100, 2) + "%"
				}
			}
			if want := [2]string{fmt.Sprintf("/figures/user/%d", l.ID), progress}; rows[i] != want {
				t.Errorf("learner row %d: %q, API %q", i, rows[i], want)
			}
		}
		e.screenshot("frontend-course")
	})

	t.Run("user", func(t *testing.T) {
		e.t = t
		learners := apiGet[struct {
			Results []frontendUser `json:"results"`
		}](e.browserEnv, "users-detail/?enrolled_in_course_id="+url.QueryEscape(course)).Results
		u := apiGet[frontendUser](e.browserEnv, fmt.Sprintf("users-detail/%d/", learners[0].ID))
		e.visit(fmt.Sprintf("/figures/user/%d", u.ID), "the user's page", fmt.Sprintf(`document.body.innerText.includes(%q)`, u.Email))
		want := []string{"Username:", u.Username, "Email address:", u.Email}
		for _, c := range u.Courses {
			d := c.ProgressData
			want = append(want, c.CourseName, "Points earned:",
				fmt.Sprintf("%s (of %s)", fixed(d.Details.PointsEarned, 0), fixed(d.Details.PointsPossible, 0)),
				"Overall progress:", fixed(d.CourseProgress*100, 2)+"%")
		}
		if err := inOrder(e.pageLines(), want); err != nil {
			t.Errorf("user %d: %v", u.ID, err)
		}
		e.screenshot("frontend-user")
	})

	t.Run("learners-progress-overview", func(t *testing.T) {
		e.t = t
		type enrollment struct {
			CourseID        string  `json:"course_id"`
			ProgressPercent float64 `json:"progress_percent"`
			Details         struct {
				PointsEarned     float64 `json:"points_earned"`
				PointsPossible   float64 `json:"points_possible"`
				SectionsWorked   float64 `json:"sections_worked"`
				SectionsPossible float64 `json:"sections_possible"`
			} `json:"progress_details"`
		}
		type learner struct {
			Username    string       `json:"username"`
			Email       string       `json:"email"`
			Enrollments []enrollment `json:"enrollmentdata_set"`
		}
		all := allPages[learner](e, "learner-metrics/?search=&course="+url.QueryEscape(course)+"&ordering=profile__name&limit=20&offset=0")
		e.visit("/figures/learners-progress-overview", "the course filter", `document.querySelectorAll('#multiselectContainerReact li.option').length > 0`)
		e.do("filter by course", chromedp.Click(`#search_input`),
			chromedp.Click(fmt.Sprintf(`//li[contains(@class, "option") and contains(., %q)]`, course)))
		e.waitFor("the course's learners", fmt.Sprintf(`document.body.innerText.includes(%q) && document.body.innerText.includes('Total number of results in current view is: %d.')`, all[min(20, len(all))-1].Email, len(all)))
		lines := e.pageLines()
		if err := inOrder(lines, []string{fmt.Sprintf("This view allows you to view a snapshot of your sites learners progress. Total number of results in current view is: %d. You can also filter down the results in the view, then export the data in the view as a CSV file on-the-fly.", len(all))}); err != nil {
			t.Error(err)
		}
		var first []string
		for _, l := range all[:min(20, len(all))] {
			first = append(first, l.Username)
		}
		if err := inOrder(lines, first); err != nil {
			t.Errorf("first page: %v\n%s", err, strings.Join(lines, "\n"))
		}
		e.screenshot("frontend-learners-progress-overview")

		// The CSV export fetches every page of the view and downloads it.
		raw := e.download("export the CSV", chromedp.Click(`button[class^="export-the-csv-button"]`))
		// export-to-csv writes a BOM, the title line, then the records.
		body := strings.TrimPrefix(string(raw), "\ufeff")
		_, body, _ = strings.Cut(body, "\n")
		records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatalf("the export is not CSV: %v", err)
		}
		if len(records) == 0 || strings.Join(records[0], ",") != "name,email,username,date_joined,"+course {
			t.Fatalf("CSV header %q", records[:min(1, len(records))])
		}
		if len(records)-1 != len(all) {
			t.Fatalf("CSV has %d learners, the API %d", len(records)-1, len(all))
		}
		dash := func(f float64, d int) string {
			if f == 0 {
				return "-"
			}
			return fixed(f, d)
		}
		for i, l := range all {
			r := records[i+1]
			want := "-"
			for _, en := range l.Enrollments {
				if en.CourseID == course {
					d := en.Details
					want = fmt.Sprintf("Progress: %s/1 | Sections: %s/%s |\u00a0Points: %s/%s", dash(en.ProgressPercent, 2),
						dash(d.SectionsWorked, 1), dash(d.SectionsPossible, 1), dash(d.PointsEarned, 1), dash(d.PointsPossible, 1))
				}
			}
			if r[1] != l.Email || r[2] != l.Username || r[4] != want {
				t.Errorf("CSV row %d: %q, API %s %s %q", i, r, l.Email, l.Username, want)
			}
		}
		e.do("close the exporter", chromedp.Click(`button[class^="close-csv-button"]`))
	})

	t.Run("jump-to-a-course", func(t *testing.T) {
		e.t = t
		e.visit("/figures/courses", "the courses list", `document.querySelectorAll('[class^="selector-trigger-button"]').length == 2`)
		e.do("open the course selector", chromedp.Click(`div[class^="ac-course-selector"] button[class^="selector-trigger-button"]`),
			chromedp.SendKeys(`div[class^="ac-course-selector"] input`, "Demonstration"))
		e.waitFor("the suggestion", fmt.Sprintf(`document.querySelector('div[class^="ac-course-selector"] a[href=%q]')`, "/figures/course/"+course))
		e.screenshot("frontend-jump-to-a-course")
		e.do("pick the course", chromedp.Click(fmt.Sprintf(`div[class^="ac-course-selector"] a[href=%q]`, "/figures/course/"+course)))
		e.waitFor("the course page", fmt.Sprintf(`location.pathname === %q && document.querySelectorAll('[class^="learner-row"]').length > 0`, "/figures/course/"+course))
		if err := inOrder(e.pageLines(), []string{courseName}); err != nil {
			t.Error(err)
		}
	})

	t.Run("select-a-user", func(t *testing.T) {
		e.t = t
		const search = "Ines"
		found := apiGet[struct {
			Results []frontendUser `json:"results"`
		}](e.browserEnv, "users-general/?search="+search).Results
		if len(found) == 0 {
			t.Fatalf("no user matches %q in the demo", search)
		}
		e.visit("/figures/users", "the users list", `document.querySelectorAll('[class^="selector-trigger-button"]').length == 2 && document.body.innerText.includes('Total number of results')`)
		e.do("open the user selector", chromedp.Click(`div[class^="ac-user-selector"] button[class^="selector-trigger-button"]`),
			chromedp.SendKeys(`div[class^="ac-user-selector"] input`, search))
		e.waitFor("the suggestions", `document.querySelectorAll('div[class^="ac-user-selector"] li[role=option]').length > 0`)
		got := eval[[]string](e.browserEnv, `[...document.querySelectorAll('div[class^="ac-user-selector"] li[role=option] a')].map(a => a.pathname)`)
		var want []string
		for _, u := range found {
			want = append(want, fmt.Sprintf("/figures/user/%d", u.ID))
		}
		if !slices.Equal(got, want) {
			t.Errorf("suggestions %q, API %q", got, want)
		}
		e.screenshot("frontend-select-a-user")
		u := found[0]
		e.do("pick the user", chromedp.Click(`div[class^="ac-user-selector"] li[role=option] a`))
		e.waitFor("the user page", fmt.Sprintf(`location.pathname === %q && document.body.innerText.includes(%q)`, want[0], u.Email))
	})

	e.t = t
	e.checkCalls()
}

// checkCalls fails the test on any page error and on any failed call to
// figures' API or the LMS stand-in, and on any request that carried an
// Authorization header: the front end signs in with cookies only.
func (e *frontendEnv) checkCalls() {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	api := 0
	for _, c := range e.calls {
		if strings.Contains(c.url, "/figures/api/") {
			api++
		}
		if c.status != http.StatusOK {
			e.t.Errorf("failed call: %d %s", c.status, c.url)
		}
	}
	if api == 0 {
		e.t.Error("the front end made no API call")
	}
	for _, h := range e.authorized {
		e.t.Errorf("request with an Authorization header: %s", h)
	}
	e.browserEnv.mu.Lock()
	defer e.browserEnv.mu.Unlock()
	for _, p := range e.problems {
		e.t.Errorf("page error: %s", p)
	}
}
