package api

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestPagination checks limit/offset and page-number pagination at their
// edges, with DRF's links (absolute, other parameters kept, keys sorted).
func TestPagination(t *testing.T) {
	e := sqliteEnv(t)
	const ce = "/figures/api/course-enrollments/"
	for _, tc := range []struct{ path, want string }{
		// limit 0, negative or not a number: the default (20), as DRF.
		{ce + "?limit=0&fields=id", `{"count":5,"next":null,"previous":null,"ids":[100,101,102,104,106]}`},
		{ce + "?limit=-3", `{"count":5,"next":null,"previous":null,"ids":[100,101,102,104,106]}`},
		{ce + "?limit=abc&offset=-2", `{"count":5,"next":null,"previous":null,"ids":[100,101,102,104,106]}`},
		{ce + "?limit=2", `{"count":5,"next":"http://example.com/figures/api/course-enrollments/?limit=2&offset=2","previous":null,"ids":[100,101]}`},
		{ce + "?limit=2&offset=1", `{"count":5,"next":"http://example.com/figures/api/course-enrollments/?limit=2&offset=3","previous":"http://example.com/figures/api/course-enrollments/?limit=2","ids":[101,102]}`},
		{ce + "?offset=3&limit=2&mode=x", `{"count":5,"next":null,"previous":"http://example.com/figures/api/course-enrollments/?limit=2&mode=x&offset=1","ids":[104,106]}`},
		// Past the end: no rows, a previous link, no next.
		{ce + "?offset=10", `{"count":5,"next":null,"previous":"http://example.com/figures/api/course-enrollments/?limit=20","ids":[]}`},
		{ce + "?offset=30&limit=5", `{"count":5,"next":null,"previous":"http://example.com/figures/api/course-enrollments/?limit=5&offset=25","ids":[]}`},
		// An empty result.
		{ce + "?user_id=999", `{"count":0,"next":null,"previous":null,"ids":[]}`},
	} {
		code, body := e.get(t, e.tokAll, tc.path)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", tc.path, code, body)
		}
		assertJSON(t, tc.path, []byte(pageIDs(t, body)), tc.want)
	}

	const mau = "/figures/api/course-mau-metrics/"
	for _, tc := range []struct{ path, want string }{
		{mau + "?page_size=1", `{"next":"http://example.com/figures/api/course-mau-metrics/?page=2&page_size=1","previous":null,"count":2,"num_pages":2,"current_page":1,"start":0,"results":[{"mau":3,"date_for":"2023-11-16","domain":"alpha.example.com","course_id":"course-v1:AlphaX+A101+2023"}]}`},
		{mau + "?page_size=1&page=2", `{"next":null,"previous":"http://example.com/figures/api/course-mau-metrics/?page_size=1","count":2,"num_pages":2,"current_page":2,"start":1,"results":[{"mau":1,"date_for":"2023-11-16","domain":"alpha.example.com","course_id":"course-v1:AlphaX+A102+2023"}]}`},
		{mau + "?page_size=1&page=last", `{"next":null,"previous":"http://example.com/figures/api/course-mau-metrics/?page_size=1","count":2,"num_pages":2,"current_page":2,"start":1,"results":[{"mau":1,"date_for":"2023-11-16","domain":"alpha.example.com","course_id":"course-v1:AlphaX+A102+2023"}]}`},
		{mau + "?page_size=0&course_id=course-v1:AlphaX%2BA999%2B2023", `{"next":null,"previous":null,"count":0,"num_pages":1,"current_page":1,"start":0,"results":[]}`},
	} {
		e.getJSON(t, e.tokAll, tc.path, tc.want)
	}
	for _, p := range []string{"?page=3&page_size=1", "?page=0", "?page=x"} {
		code, body := e.get(t, e.tokAll, mau+p)
		if code != http.StatusNotFound || string(body) != `{"detail":"Invalid page."}` {
			t.Errorf("%s: got %d %s, want 404 Invalid page.", p, code, body)
		}
	}
	// page_size is capped at 100.
	if lim, off, err := mauPager.window(map[string][]string{"page_size": {"1000"}}, 500); err != nil || lim != 100 || off != 0 {
		t.Errorf("page_size=1000: got %d %d %v, want 100 0", lim, off, err)
	}
}

// pageIDs reduces a limit/offset page of items with an "id" to its
// envelope and the ids, to keep the expectations short.
func pageIDs(t *testing.T, body []byte) string {
	t.Helper()
	v, err := decodeJSON(body)
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	ids := []any{}
	for _, r := range m["results"].([]any) {
		ids = append(ids, r.(map[string]any)["id"])
	}
	out := map[string]any{"count": m["count"], "next": m["next"], "previous": m["previous"], "ids": ids}
	return mustJSON(t, out)
}

// TestBadRequests checks that malformed input is a 400 (or 404 for a path
// that names nothing) with a message, never a 500.
func TestBadRequests(t *testing.T) {
	e := sqliteEnv(t)
	for _, tc := range []struct {
		path string
		code int
		want string
	}{
		{"/figures/api/users-general/?ordering=-profile__name,bogus", 400,
			`{"ordering":["Unknown ordering field \"bogus\": use one of date_joined, email, is_active, profile__name, username (prefix - for descending)."]}`},
		{"/figures/api/course-enrollments/?course_id=not-a-course", 400,
			`{"course_id":["malformed course id \"not-a-course\": unknown form (want course-v1:Org+Course+Run)"]}`},
		{"/figures/api/learner-metrics/?course=course-v1:AlphaX+A101&course=" + courseA1, 400,
			`{"course":["malformed course id \"course-v1:AlphaX+A101\": need three parts, org, course and run (want course-v1:Org+Course+Run)"]}`},
		{"/figures/api/enrollment-metrics/?course_ids=x,y&user=abc", 400,
			`{"course_ids":["malformed course id \"x\": unknown form (want course-v1:Org+Course+Run)","malformed course id \"y\": unknown form (want course-v1:Org+Course+Run)"],"user":["Enter a whole number."]}`},
		{"/figures/api/users-detail/?enrolled_in_course_id=nope", 400,
			`{"enrolled_in_course_id":["malformed course id \"nope\": unknown form (want course-v1:Org+Course+Run)"]}`},
		{"/figures/api/course-daily-metrics/?date_for=2023-13-01&date_after=yesterday", 400,
			`{"date_for":["Enter a valid date (YYYY-MM-DD)."],"date_after":["Enter a valid date (YYYY-MM-DD)."]}`},
		{"/figures/api/general-site-metrics/?date_for=soon", 400, `{"date_for":["Enter a valid date (YYYY-MM-DD)."]}`},
		{"/figures/api/users-general/?is_active=maybe", 400, `{"is_active":["\"maybe\" is not a valid boolean: use true or false."]}`},
		{"/figures/api/courses-index/?format=xml", 400, `{"format":["Unknown format \"xml\": use json or csv."]}`},
		{"/figures/api/course-mau-live-metrics/?ordering=count", 400,
			`{"ordering":["Unknown ordering field \"count\": use one of course_id (prefix - for descending)."]}`},
		{"/figures/api/courses-general/not-a-course/", 400,
			`{"detail":"malformed course id \"not-a-course\": unknown form (want course-v1:Org+Course+Run)"}`},
		{"/figures/api/course-mau-live-metrics/course-v1:x/", 400,
			`{"detail":"malformed course id \"course-v1:x\": need three parts, org, course and run (want course-v1:Org+Course+Run)"}`},
		{"/figures/api/course-monthly-metrics/course-v1:AlphaX+A101+2023/bogus/", 400,
			`{"detail":"malformed course id \"course-v1:AlphaX+A101+2023/bogus\": bad part \"2023/bogus\" (want course-v1:Org+Course+Run)"}`},
		{"/figures/api/learner-metrics/?site=two", 400, `{"detail":"site=\"two\": a site id (an integer) is required."}`},
		// Things that do not exist.
		{"/figures/api/site-monthly-metrics/bogus/", 404, `{"detail":"Not found."}`},
		{"/figures/api/users-general/abc/", 404, `{"detail":"Not found."}`},
		{"/figures/api/users-general/15/", 404, `{"detail":"Not found."}`},
		{"/figures/api/courses-general/course-v1:AlphaX+A999+2023/", 404, `{"detail":"Not found."}`},
		{"/figures/api/course-monthly-metrics/course-v1:AlphaX+A999+2023/avg_progress/", 404, `{"detail":"Not found."}`},
		{"/figures/api/learner-metrics-v1/", 404, `{"detail":"Not found."}`},
		{"/figures/api/admin/sites/9/", 404, `{"detail":"Not found."}`},
		{"/figures/api/learner-metrics/?site=9", 404, `{"detail":"Site 9 not found."}`},
	} {
		code, body := e.get(t, e.tokAll, tc.path)
		if code != tc.code {
			t.Errorf("%s: status %d, want %d: %s", tc.path, code, tc.code, body)
			continue
		}
		assertJSON(t, tc.path, body, tc.want)
	}
}

// TestRouting checks the trailing slash, methods and legacy course ids.
func TestRouting(t *testing.T) {
	e := sqliteEnv(t)
	for _, p := range []string{"/figures/api/site-mau-live-metrics", "/figures/api/site-mau-live-metrics/"} {
		e.getJSON(t, e.tokAll, p, `{"month_for":"2023-11-17","count":3,"domain":"alpha.example.com"}`)
	}
	for _, p := range []string{"/figures/api/users-general/11", "/figures/api/users-general/11/"} {
		code, body := e.get(t, e.tokAll, p)
		if code != http.StatusOK || !strings.Contains(string(body), `"username":"bob"`) {
			t.Errorf("%s: %d %s", p, code, body)
		}
	}
	// The API is read-only: every other method is a JSON 405.
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
		rec := e.do(t, e.tokAll, "/figures/api/course-daily-metrics/3/", func(r *http.Request) { r.Method = m })
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d, Allow %q", m, rec.Code, rec.Header().Get("Allow"))
		}
		assertJSON(t, m, rec.Body.Bytes(), `{"detail":"Method \"`+m+`\" not allowed."}`)
	}
	// Old-style course ids have slashes; they work in the course paths.
	exec(t, e.db, "INSERT INTO figures_course (course_id, display_name, org, number, start_date, end_date, self_paced, first_enrollment, modified) VALUES (?, 'Legacy', 'AlphaX', 'L1', NULL, NULL, ?, NULL, ?)",
		"AlphaX/L1/2019", false, e.db.Time(fixtureNow))
	exec(t, e.db, "INSERT INTO figures_sitecourse (site_id, course_id) VALUES (1, 'AlphaX/L1/2019')")
	e.getJSON(t, e.tokAll, "/figures/api/courses-index/AlphaX/L1/2019/", `{"id":"AlphaX/L1/2019","name":"Legacy","org":"AlphaX","number":"L1"}`)
	e.getJSON(t, e.tokAll, "/figures/api/course-monthly-metrics/AlphaX/L1/2019/course_enrollments",
		`{"course_enrollments":{"current_month":0,"history":[{"period":"2023/06","value":0},{"period":"2023/07","value":0},{"period":"2023/08","value":0},{"period":"2023/09","value":0},{"period":"2023/10","value":0},{"period":"2023/11","value":0}]}}`)
	// An encoded '+' in a path is the same course.
	e.getJSON(t, e.tokAll, "/figures/api/courses-index/course-v1:AlphaX%2BA101%2B2023/", `{"id":"course-v1:AlphaX+A101+2023","name":"Alpha Intro","org":"AlphaX","number":"A101"}`)
}

// TestFilters checks the filters whose results the endpoint table does not
// already pin down.
func TestFilters(t *testing.T) {
	e := sqliteEnv(t)
	for _, tc := range []struct{ path, want string }{
		{"/figures/api/users-general/?is_active=False", `[13]`},
		{"/figures/api/users-general/?is_staff=true", `[14]`},
		{"/figures/api/users-general/?username=LI", `[10]`},
		{"/figures/api/users-general/?email=.org", `[11]`},
		{"/figures/api/users-general/?name=diaz", `[13]`},
		{"/figures/api/users-general/?country=us&ordering=-date_joined", `[10,14]`},
		{"/figures/api/users-general/?user_ids=14,x,10,99", `[10,14]`},
		{"/figures/api/users-general/?user_ids=", `[]`},
		{"/figures/api/users-general/?date_joined=2023-10-31T23:30:00Z", `[11]`},
		// LIKE's wildcards in a search are literal characters.
		{"/figures/api/users-general/?search=a%25e", `[]`},
		{"/figures/api/users-general/?search=e_a", `[]`},
		{"/figures/api/users-general/?search=exa", `[10,11,13,14]`},
		{"/figures/api/users-general/?ordering=profile__name", `[10,11,13,14]`},
		{"/figures/api/users-general/?ordering=-is_active,username", `[10,11,14,13]`},
		// Active learners of the course, course staff (erin) left out.
		{"/figures/api/users-general/?enrolled_in_course_id=" + courseA1, `[10,11,13]`},
		{"/figures/api/users-general/?enrolled_in_course_id=course-v1:AlphaX%2BA102%2B2023", `[]`},
		{"/figures/api/learner-metrics/?search=dave", `[13]`},
		{"/figures/api/learner-metrics/?course=" + courseA1 + "&course=course-v1:AlphaX%2BA102%2B2023&ordering=-username", `[13,11,10]`},
		{"/figures/api/courses-index/?org=alphax&display_name=INTRO", `["course-v1:AlphaX+A101+2023"]`},
		{"/figures/api/courses-index/?number_contains=10", `["course-v1:AlphaX+A101+2023","course-v1:AlphaX+A102+2023"]`},
		{"/figures/api/courses-general/?search=a102", `["course-v1:AlphaX+A102+2023"]`},
		{"/figures/api/courses-general/?ordering=start_date", `["course-v1:AlphaX+A102+2023","course-v1:AlphaX+A101+2023"]`},
		{"/figures/api/courses-general/?ordering=-self_paced,display_name", `["course-v1:AlphaX+A102+2023","course-v1:AlphaX+A101+2023"]`},
		{"/figures/api/enrollment-metrics/?only_completed=True", `[2]`},
		{"/figures/api/enrollment-metrics/?user_ids=11,13&ordering=-date_for,course_id", `[3,6]`},
		{"/figures/api/enrollment-metrics/?course_id=course-v1:AlphaX%2BA102%2B2023", `[7]`},
		{"/figures/api/enrollment-metrics/?sections_worked=2&points_earned=4", `[1,3]`},
		{"/figures/api/enrollment-metrics/?date_for=2023-11-16&user=13", `[6]`},
		{"/figures/api/course-enrollments/?user_id=10&ordering=-created", `[101,100]`},
		{"/figures/api/course-daily-metrics/?course_id=course-v1:AlphaX%2BA102%2B2023", `[4]`},
		{"/figures/api/course-daily-metrics/?date_before=2023-10-31&ordering=date_for", `[6,1]`},
	} {
		code, body := e.get(t, e.tokAll, tc.path)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", tc.path, code, body)
		}
		assertJSON(t, tc.path, []byte(resultKeys(t, body)), tc.want)
	}
}

// resultKeys returns the ids (or course ids) of a page's results.
func resultKeys(t *testing.T, body []byte) string {
	t.Helper()
	v, err := decodeJSON(body)
	if err != nil {
		t.Fatal(err)
	}
	keys := []any{}
	for _, r := range v.(map[string]any)["results"].([]any) {
		m := r.(map[string]any)
		switch {
		case m["id"] != nil:
			keys = append(keys, m["id"])
		default:
			keys = append(keys, m["course_id"])
		}
	}
	return mustJSON(t, keys)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := jsonMarshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHelpers(t *testing.T) {
	for _, tc := range []struct {
		num, den, want int64
	}{{125, 100, 1}, {135, 100, 1}, {150, 100, 2}, {250, 100, 2}, {251, 100, 3}, {69, 2, 34}, {71, 2, 36}, {-150, 100, -2}, {-250, 100, -2}} {
		if got := roundHalfEven(tc.num, tc.den); got != tc.want {
			t.Errorf("roundHalfEven(%d, %d) = %d, want %d", tc.num, tc.den, got, tc.want)
		}
	}
	for _, tc := range []struct {
		worked, possible int64
		want             string
	}{{1, 8, "0.12"}, {3, 8, "0.38"}, {1, 3, "0.33"}, {2, 3, "0.67"}, {0, 0, "0.00"}, {5, 5, "1.00"}, {1, 40, "0.02"}} {
		if got := progressDecimal(tc.worked, tc.possible); got != tc.want {
			t.Errorf("progressDecimal(%d, %d) = %s, want %s", tc.worked, tc.possible, got, tc.want)
		}
	}
	for _, tc := range []struct{ num, den, want int64 }{{23, 2, 12}, {24, 2, 12}, {-3, 2, -1}, {0, 5, 0}} {
		if got := ceilDiv(tc.num, tc.den); got != tc.want {
			t.Errorf("ceilDiv(%d, %d) = %d, want %d", tc.num, tc.den, got, tc.want)
		}
	}
}

// TestCountCache checks that list counts are reused for the configured
// time, per site and filter, then recounted.
func TestCountCache(t *testing.T) {
	e := sqliteEnv(t)
	clock := fixtureNow
	e = e.withConfig(t, func(c *Config) { c.Now = func() time.Time { return clock }; c.CountCacheTTL = 10 * time.Second })
	count := func(token, path string) float64 {
		t.Helper()
		code, body := e.get(t, token, path)
		if code != 200 {
			t.Fatal(code, string(body))
		}
		v, _ := decodeJSON(body)
		return v.(map[string]any)["count"].(float64)
	}
	const p = "/figures/api/course-enrollments/"
	if n := count(e.tokAll, p); n != 5 {
		t.Fatalf("count %v", n)
	}
	exec(t, e.db, "INSERT INTO figures_courseenrollment (id, user_id, course_id, created, is_active, mode, is_course_staff) VALUES (107, 15, ?, NULL, ?, 'audit', ?)", courseA1, true, false)
	clock = clock.Add(9 * time.Second)
	if n := count(e.tokAll, p); n != 5 {
		t.Fatalf("within the ttl: count %v, want the cached 5", n)
	}
	if n := count(e.tokAll, p+"?is_active=true"); n != 5 {
		t.Fatalf("another filter: count %v, want 5 (4 active before, and the new one)", n)
	}
	if n := count(e.tokB, p); n != 2 {
		t.Fatalf("another site: count %v, want 2", n)
	}
	clock = clock.Add(2 * time.Second)
	if n := count(e.tokAll, p); n != 6 {
		t.Fatalf("after the ttl: count %v, want 6", n)
	}
}
