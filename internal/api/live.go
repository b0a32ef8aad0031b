package api

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/database"
)

// LiveActivity counts active learners straight from the LMS, for the
// "live" monthly active users of the current month. Active means having a
// courseware_studentmodule row of the course modified in [from, to).
// Implementations must be safe for concurrent use.
type LiveActivity interface {
	// ActiveUsers counts the distinct learners active in any of courseIDs.
	ActiveUsers(ctx context.Context, courseIDs []string, from, to time.Time) (int, error)
	// ActiveUsersByCourse counts the distinct learners active in each of
	// courseIDs (a course with none may be missing from the map).
	ActiveUsersByCourse(ctx context.Context, courseIDs []string, from, to time.Time) (map[string]int, error)
}

// monthToDate returns the current UTC month's window so far.
func (s *Server) monthToDate() (calendar.Date, time.Time, time.Time) {
	now := s.now().UTC()
	m := calendar.Of(now).MonthStart()
	return m, m.Start(), now
}

// siteCourseIDs returns the ids of the site's courses.
func (s *Server) siteCourseIDs(ctx context.Context, siteID int) ([]string, error) {
	rows, err := s.db.Query(ctx, "SELECT course_id FROM figures_sitecourse WHERE site_id = ? ORDER BY course_id", siteID)
	if err != nil {
		return nil, fmt.Errorf("site courses: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("site courses: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// liveSiteMAU counts the site's active learners this month so far: from
// the LMS when the server has one (Config.Live), otherwise from the
// store's monthly active enrollments, which are as fresh as the pipeline's
// last run.
func (s *Server) liveSiteMAU(ctx context.Context, site Site) (int64, error) {
	m, from, to := s.monthToDate()
	if s.live != nil {
		ids, err := s.siteCourseIDs(ctx, site.ID)
		if err != nil {
			return 0, err
		}
		n, err := s.live.ActiveUsers(ctx, ids, from, to)
		if err != nil {
			return 0, fmt.Errorf("live site MAU: %w", err)
		}
		return int64(n), nil
	}
	var n int64
	if err := s.db.QueryRow(ctx, "SELECT COUNT(DISTINCT user_id) FROM figures_monthlyactiveenrollment WHERE site_id = ? AND month_for = ?",
		site.ID, m).Scan(&n); err != nil {
		return 0, fmt.Errorf("site MAU: %w", err)
	}
	return n, nil
}

// liveCourseMAU counts each course's active learners this month so far,
// from the LMS or the store as liveSiteMAU does.
func (s *Server) liveCourseMAU(ctx context.Context, site Site, courseIDs []string) (map[string]int64, error) {
	m, from, to := s.monthToDate()
	out := make(map[string]int64, len(courseIDs))
	if s.live != nil {
		counts, err := s.live.ActiveUsersByCourse(ctx, courseIDs, from, to)
		if err != nil {
			return nil, fmt.Errorf("live course MAU: %w", err)
		}
		for _, c := range courseIDs {
			out[c] = int64(counts[c])
		}
		return out, nil
	}
	err := inBatches(courseIDs, func(batch []any) error {
		rows, err := s.db.Query(ctx, `SELECT course_id, COUNT(*) FROM figures_monthlyactiveenrollment
WHERE site_id = ? AND month_for = ? AND course_id IN (`+database.Placeholders(len(batch))+`) GROUP BY course_id`,
			append([]any{site.ID, m}, batch...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				c string
				n int64
			)
			if err := rows.Scan(&c, &n); err != nil {
				return err
			}
			out[c] = n
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("course MAU: %w", err)
	}
	return out, nil
}

// CachedLiveActivity remembers a LiveActivity's answers for a while: the
// live counts scan a month of LMS activity, which dashboards polling every
// few seconds must not repeat. Concurrent callers asking the same question
// share one LMS query.
type CachedLiveActivity struct {
	inner LiveActivity
	ttl   time.Duration
	now   func() time.Time

	mu      sync.Mutex
	entries map[string]*liveEntry
}

type liveEntry struct {
	done    chan struct{}
	at      time.Time
	total   int
	byCours map[string]int
	err     error
}

// NewCachedLiveActivity wraps inner with a cache of ttl. Answers are keyed
// by the courses and the window's start: within ttl, a request whose window
// ends later gets the earlier answer, at most ttl old.
func NewCachedLiveActivity(inner LiveActivity, ttl time.Duration) *CachedLiveActivity {
	return &CachedLiveActivity{inner: inner, ttl: ttl, now: time.Now, entries: map[string]*liveEntry{}}
}

func liveKey(kind string, ids []string, from time.Time) string {
	sorted := append([]string(nil), ids...)
	sort.Strings(sorted)
	return kind + "|" + from.UTC().Format(time.RFC3339) + "|" + strings.Join(sorted, "\x00")
}

func (c *CachedLiveActivity) get(ctx context.Context, key string, fill func(ctx context.Context, e *liveEntry)) (*liveEntry, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[key]
	if ok && now.Sub(e.at) < c.ttl {
		c.mu.Unlock()
		select {
		case <-e.done:
			return e, e.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	// Expired entries are dropped as new ones are made, so the map holds
	// at most the questions asked within one ttl.
	for k, old := range c.entries {
		if now.Sub(old.at) >= c.ttl {
			delete(c.entries, k)
		}
	}
	e = &liveEntry{done: make(chan struct{}), at: now}
	c.entries[key] = e
	c.mu.Unlock()
	// The LMS query serves every caller waiting on it, so one caller going
	// away must not cancel it.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	fill(fctx, e)
	cancel()
	close(e.done)
	if e.err != nil {
		c.mu.Lock()
		if c.entries[key] == e {
			delete(c.entries, key) // do not remember failures
		}
		c.mu.Unlock()
	}
	return e, e.err
}

// ActiveUsers implements LiveActivity.
func (c *CachedLiveActivity) ActiveUsers(ctx context.Context, courseIDs []string, from, to time.Time) (int, error) {
	e, err := c.get(ctx, liveKey("site", courseIDs, from), func(ctx context.Context, e *liveEntry) {
		e.total, e.err = c.inner.ActiveUsers(ctx, courseIDs, from, to)
	})
	if err != nil {
		return 0, err
	}
	return e.total, nil
}

// ActiveUsersByCourse implements LiveActivity.
func (c *CachedLiveActivity) ActiveUsersByCourse(ctx context.Context, courseIDs []string, from, to time.Time) (map[string]int, error) {
	e, err := c.get(ctx, liveKey("course", courseIDs, from), func(ctx context.Context, e *liveEntry) {
		e.byCours, e.err = c.inner.ActiveUsersByCourse(ctx, courseIDs, from, to)
	})
	if err != nil {
		return nil, err
	}
	return e.byCours, nil
}
