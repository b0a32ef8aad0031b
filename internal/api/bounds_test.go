package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestParamBounds checks that no parameter can be large enough to reach
// the database or a log line: an oversized free-text parameter is a 400
// naming it (a 60 KB one was a 500 on SQLite, "LIKE pattern too complex").
func TestParamBounds(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		long := strings.Repeat("a%_!", 15000) // 60 KB
		for _, tc := range []struct{ path, param string }{
			{"/figures/api/users-general/", "search"},
			{"/figures/api/users-general/", "username"},
			{"/figures/api/users-detail/", "email"},
			{"/figures/api/learner-metrics/", "name"},
			{"/figures/api/user-index/", "country"},
			{"/figures/api/courses-general/", "display_name"},
			{"/figures/api/courses-index/", "number_contains"},
			{"/figures/api/courses-detail/", "org"},
			{"/figures/api/courses-index/", "search"},
			{"/figures/api/course-enrollments/", "ordering"},
			{"/figures/api/pipeline-runs/errors/", "error_type"},
			{"/figures/api/pipeline-runs/", "status"},
			{"/figures/api/enrollment-metrics/", "date_for"},
			{"/figures/api/site-daily-metrics/", "site"},
			{"/figures/api/learner-metrics/", "enrolled_in_course_id"},
		} {
			code, body := e.get(t, e.tokAll, tc.path+"?"+url.Values{tc.param: {long}}.Encode())
			if code != http.StatusBadRequest || !strings.Contains(string(body), `"`+tc.param+`":["Ensure this value has at most 255 characters (it has 60000)."]`) {
				t.Errorf("%s?%s=<60 KB>: %d %.300s", tc.path, tc.param, code, body)
			}
		}
		// At the bound, a value is a filter like any other.
		code, body := e.get(t, e.tokAll, "/figures/api/users-general/?"+url.Values{"search": {strings.Repeat("é", 255)}}.Encode())
		if code != http.StatusOK || !strings.Contains(string(body), `"count":0`) {
			t.Errorf("255 characters: %d %s", code, body)
		}
		code, body = e.get(t, e.tokAll, "/figures/api/users-general/?search=a+b+c+d+e+f+g+h+i+j+k")
		if code != http.StatusBadRequest || !strings.Contains(string(body), "at most 10 search terms") {
			t.Errorf("11 search terms: %d %s", code, body)
		}
		// A course id in the path is bounded too, and not echoed whole.
		code, body = e.get(t, e.tokAll, "/figures/api/courses-general/course-v1:"+strings.Repeat("A", 60000)+"+B+C/")
		if code != http.StatusBadRequest || len(body) > 300 {
			t.Errorf("60 KB course id: %d %.300s", code, body)
		}

		// Numbers that are no number (MariaDB answered 500).
		for _, v := range []string{"NaN", "nan", "Inf", "-Inf", "+Infinity", "1e999"} {
			for _, f := range []string{"points_possible", "points_earned"} {
				code, body := e.get(t, e.tokAll, "/figures/api/enrollment-metrics/?"+url.Values{f: {v}}.Encode())
				if code != http.StatusBadRequest || !strings.Contains(string(body), `"`+f+`":["Enter a number."]`) {
					t.Errorf("%s=%s: %d %s", f, v, code, body)
				}
			}
		}

		// user_ids: more than SQLite's 32,766 placeholders was a 500; a
		// list is bounded at 10,000 values.
		ids := func(n int) string {
			var b strings.Builder
			for i := range n {
				if i > 0 {
					b.WriteByte(',')
				}
				fmt.Fprint(&b, 10+i)
			}
			return b.String()
		}
		code, body = e.get(t, e.tokAll, "/figures/api/users-general/?user_ids="+ids(32767))
		if code != http.StatusBadRequest || !strings.Contains(string(body), `"user_ids":["Ensure this list has at most 10000 values (it has 32767)."]`) {
			t.Errorf("32,767 user_ids: %d %.300s", code, body)
		}
		for _, p := range []string{"/figures/api/users-general/", "/figures/api/enrollment-metrics/", "/figures/api/learner-metrics/"} {
			code, body = e.get(t, e.tokAll, p+"?format=csv&user_ids="+ids(10000))
			if code != http.StatusOK {
				t.Errorf("%s with 10,000 user_ids: %d %.300s", p, code, body)
			}
		}
	})
}

// TestLimitBounds checks limit and offset at the edges of the integers:
// the limit is cut to its documented maximum, and next/previous never
// carry a negative or overflowed offset.
func TestLimitBounds(t *testing.T) {
	e := sqliteEnv(t)
	page := func(q string) (next, prev string, n int) {
		t.Helper()
		code, body := e.get(t, e.tokAll, "/figures/api/course-enrollments/?"+q)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", q, code, body)
		}
		var v struct {
			Next, Previous *string
			Results        []any
		}
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		if v.Next != nil {
			next = *v.Next
		}
		if v.Previous != nil {
			prev = *v.Previous
		}
		return next, prev, len(v.Results)
	}
	const maxInt = "9223372036854775807"
	for _, tc := range []struct{ q, next, prev string }{
		{"limit=" + maxInt + "&offset=1", "", "http://example.com/figures/api/course-enrollments/?limit=1000"},
		{"limit=" + maxInt, "", ""},
		{"limit=2&offset=" + maxInt, "", "http://example.com/figures/api/course-enrollments/?limit=2&offset=9223372036854775805"},
		{"limit=1000&offset=" + maxInt, "", "http://example.com/figures/api/course-enrollments/?limit=1000&offset=9223372036854774807"},
		{"limit=5000&offset=1", "", "http://example.com/figures/api/course-enrollments/?limit=1000"},
		{"limit=99999999999999999999", "", ""},
		{"limit=2&offset=1", "http://example.com/figures/api/course-enrollments/?limit=2&offset=3", "http://example.com/figures/api/course-enrollments/?limit=2"},
	} {
		next, prev, _ := page(tc.q)
		if next != tc.next || prev != tc.prev {
			t.Errorf("%s: next %q previous %q, want %q and %q", tc.q, next, prev, tc.next, tc.prev)
		}
	}
	// CSV exports are not pages: limit and offset cut them, at any size.
	for _, q := range []string{"limit=" + maxInt + "&offset=1", "offset=" + maxInt, "limit=1&offset=" + maxInt} {
		if code, body := e.get(t, e.tokAll, "/figures/api/course-enrollments/?format=csv&"+q); code != http.StatusOK {
			t.Errorf("CSV %s: %d %s", q, code, body)
		}
	}
}

// TestLogsBounded checks that a failing request's log line quotes a
// bounded part of a huge query string.
func TestLogsBounded(t *testing.T) {
	var logs bytes.Buffer
	e := sqliteEnv(t).withConfig(t, func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	exec(t, e.db, "DROP TABLE figures_learner")
	q := url.Values{}
	for i := range 2000 {
		q.Set(fmt.Sprintf("x%d", i), strings.Repeat("y", 250))
	}
	code, _ := e.get(t, e.tokAll, "/figures/api/users-general/?"+q.Encode())
	if code != http.StatusInternalServerError {
		t.Fatalf("status %d", code)
	}
	if !strings.Contains(logs.String(), "api request failed") || logs.Len() > 4000 {
		t.Errorf("%d bytes of log for one failed request:\n%.2000s", logs.Len(), logs.String())
	}
}
