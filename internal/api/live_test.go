package api

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeLive answers from fixed counts and records its calls.
type fakeLive struct {
	mu       sync.Mutex
	calls    []string
	byCourse map[string]int
	total    int
	err      error
}

func (f *fakeLive) record(kind string, ids []string, from, to time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, kind+" "+from.Format(time.RFC3339)+" "+to.Format(time.RFC3339)+" "+joinIDs(ids))
}

func joinIDs(ids []string) string {
	s := slices.Clone(ids)
	slices.Sort(s)
	out := ""
	for i, id := range s {
		if i > 0 {
			out += ","
		}
		out += id
	}
	return out
}

func (f *fakeLive) ActiveUsers(ctx context.Context, ids []string, from, to time.Time) (int, error) {
	f.record("site", ids, from, to)
	return f.total, f.err
}

func (f *fakeLive) ActiveUsersByCourse(ctx context.Context, ids []string, from, to time.Time) (map[string]int, error) {
	f.record("course", ids, from, to)
	out := map[string]int{}
	for _, id := range ids {
		if n, ok := f.byCourse[id]; ok {
			out[id] = n
		}
	}
	return out, f.err
}

// TestLiveActivity checks that with an LMS the current month's active
// users come from it, over the site's courses and the month so far.
func TestLiveActivity(t *testing.T) {
	e := sqliteEnv(t)
	live := &fakeLive{total: 41, byCourse: map[string]int{courseA1: 40, courseB1: 99}}
	e = e.withConfig(t, func(c *Config) { c.Live = live })
	e.getJSON(t, e.tokAll, "/figures/api/site-mau-live-metrics/", `{"month_for":"2023-11-17","count":41,"domain":"alpha.example.com"}`)
	e.getJSON(t, e.tokAll, "/figures/api/course-mau-live-metrics/",
		`[{"month_for":"2023-11-17","count":40,"course_id":"course-v1:AlphaX+A101+2023","domain":"alpha.example.com"},
		  {"month_for":"2023-11-17","count":0,"course_id":"course-v1:AlphaX+A102+2023","domain":"alpha.example.com"}]`)
	// Past months stay the stored ones; the current one is live.
	e.getJSON(t, e.tokAll, "/figures/api/site-monthly-metrics/active_users/",
		`{"active_users":{"current_month":41,"history":[{"period":"2023/06","value":0},{"period":"2023/07","value":0},{"period":"2023/08","value":1},{"period":"2023/09","value":4},{"period":"2023/10","value":2},{"period":"2023/11","value":41}]}}`)
	e.getJSON(t, e.tokAll, "/figures/api/course-monthly-metrics/course-v1:AlphaX+A101+2023/active_users/",
		`{"active_users":{"current_month":40,"history":[{"period":"2023/06","value":0},{"period":"2023/07","value":0},{"period":"2023/08","value":1},{"period":"2023/09","value":0},{"period":"2023/10","value":0},{"period":"2023/11","value":40}]}}`)
	want := []string{
		"site 2023-11-01T00:00:00Z 2023-11-17T12:00:00Z " + courseA1 + "," + courseA2,
		"course 2023-11-01T00:00:00Z 2023-11-17T12:00:00Z " + courseA1 + "," + courseA2,
		"site 2023-11-01T00:00:00Z 2023-11-17T12:00:00Z " + courseA1 + "," + courseA2,
		"course 2023-11-01T00:00:00Z 2023-11-17T12:00:00Z " + courseA1,
	}
	if !slices.Equal(live.calls, want) {
		t.Errorf("calls:\n%q\nwant\n%q", live.calls, want)
	}
	// An LMS failure is a 500, logged, with no detail for the client.
	live.err = errors.New("connection refused")
	code, body := e.get(t, e.tokAll, "/figures/api/site-mau-live-metrics/")
	if code != 500 {
		t.Fatalf("status %d", code)
	}
	assertJSON(t, "lms down", body, `{"detail":"A server error occurred."}`)
}

func TestCachedLiveActivity(t *testing.T) {
	live := &fakeLive{total: 5, byCourse: map[string]int{"a": 1}}
	c := NewCachedLiveActivity(live, time.Minute)
	clock := time.Date(2023, 11, 17, 12, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return clock }
	ctx := context.Background()
	from := time.Date(2023, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		n, err := c.ActiveUsers(ctx, []string{"b", "a"}, from, clock.Add(time.Duration(i)*time.Second))
		if err != nil || n != 5 {
			t.Fatalf("ActiveUsers = %d, %v", n, err)
		}
	}
	if m, err := c.ActiveUsersByCourse(ctx, []string{"a", "b"}, from, clock); err != nil || m["a"] != 1 {
		t.Fatalf("ActiveUsersByCourse = %v, %v", m, err)
	}
	if len(live.calls) != 2 {
		t.Fatalf("%d LMS calls within the ttl, want 2 (one per question): %q", len(live.calls), live.calls)
	}
	clock = clock.Add(2 * time.Minute)
	live.total = 6
	if n, _ := c.ActiveUsers(ctx, []string{"a", "b"}, from, clock); n != 6 {
		t.Fatalf("after the ttl: %d, want 6", n)
	}
	// Failures are not remembered.
	live.err = errors.New("down")
	clock = clock.Add(2 * time.Minute)
	if _, err := c.ActiveUsers(ctx, []string{"a"}, from, clock); err == nil {
		t.Fatal("no error")
	}
	live.err = nil
	if n, err := c.ActiveUsers(ctx, []string{"a"}, from, clock); err != nil || n != 6 {
		t.Fatalf("after a failure: %d %v", n, err)
	}
	if len(live.calls) != 5 {
		t.Fatalf("%d LMS calls, want 5", len(live.calls))
	}
}
