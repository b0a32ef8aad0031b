package api

import (
	"context"
	"database/sql"
	"fmt"
	"math"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/database"
)

// The read-time aggregates of the original's figures/metrics.py
// (figures-pipeline.md §11), with its bugs fixed:
//   - datetime windows are the calendar month [first day 00:00, first day
//     of the next month 00:00), not from 00:00 of the day before the month;
//   - an average of days to complete over no values is 0 instead of a
//     crash (ceil(None));
//   - averages round exactly (integer arithmetic, half to even as Python's
//     Decimal.quantize), whatever the database returns for AVG;
//   - the current month's active users are this month's, never the newest
//     daily row of an earlier month.

// historyMonths is the length of every history series.
const historyMonths = 6

// lastMonths returns the first days of the n months ending with d's month,
// oldest first.
func lastMonths(d calendar.Date, n int) []calendar.Date {
	out := make([]calendar.Date, n)
	for i := range n {
		out[i] = d.MonthStart().AddMonths(i - n + 1)
	}
	return out
}

// period formats a month as the series do: YYYY/MM.
func period(m calendar.Date) string { return fmt.Sprintf("%04d/%02d", m.Year, int(m.Month)) }

// seriesPoint is one month of a history series.
type seriesPoint struct {
	Period string `json:"period"`
	Value  any    `json:"value"`
}

// series is the original's history series: the current (last) month's
// value and the months oldest first.
type series struct {
	CurrentMonth any           `json:"current_month"`
	History      []seriesPoint `json:"history"`
}

// makeSeries builds a series from one value per month.
func makeSeries(months []calendar.Date, value func(i int) any) series {
	s := series{History: make([]seriesPoint, len(months))}
	for i, m := range months {
		s.History[i] = seriesPoint{Period: period(m), Value: value(i)}
	}
	s.CurrentMonth = s.History[len(s.History)-1].Value
	return s
}

// cdmAgg aggregates a course's daily metrics rows over a month.
type cdmAgg struct {
	maxEnrolled, maxCompleted int64
	// progress in hundredths (the column is DECIMAL(3,2)), days as stored.
	progSum, progN, daysSum, daysN int64
}

func (a *cdmAgg) add(enrolled, completed int64, progress sql.NullFloat64, days sql.NullInt64) {
	a.maxEnrolled = max(a.maxEnrolled, enrolled)
	a.maxCompleted = max(a.maxCompleted, completed)
	if progress.Valid {
		a.progSum += int64(math.Round(progress.Float64 * 100))
		a.progN++
	}
	if days.Valid {
		a.daysSum += days.Int64
		a.daysN++
	}
}

// avgProgress is the month's mean average_progress (NULLs ignored), two
// decimals half to even; 0 when there is none.
func (a cdmAgg) avgProgress() float64 {
	if a.progN == 0 {
		return 0
	}
	return float64(roundHalfEven(a.progSum, a.progN)) / 100
}

// avgDays is the ceiling of the month's mean average_days_to_complete
// (NULLs ignored); 0 when there is none, where the original crashed.
func (a cdmAgg) avgDays() int64 {
	if a.daysN == 0 {
		return 0
	}
	return ceilDiv(a.daysSum, a.daysN)
}

// courseMonths reads the daily metrics of courses in site over the months
// and aggregates them: result[course][month index].
func (s *Server) courseMonths(ctx context.Context, siteID int, courses []string, months []calendar.Date) (map[string][]cdmAgg, error) {
	out := map[string][]cdmAgg{}
	for _, c := range courses {
		out[c] = make([]cdmAgg, len(months))
	}
	from, to := months[0], months[len(months)-1].MonthEnd()
	err := inBatches(courses, func(batch []any) error {
		args := append([]any{siteID, from, to}, batch...)
		rows, err := s.db.Query(ctx, `SELECT course_id, date_for, enrollment_count, num_learners_completed, average_progress, average_days_to_complete
FROM figures_coursedailymetrics WHERE site_id = ? AND date_for >= ? AND date_for <= ? AND course_id IN (`+database.Placeholders(len(batch))+`)`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				cid                 string
				d                   calendar.Date
				enrolled, completed int64
				prog                sql.NullFloat64
				days                sql.NullInt64
			)
			if err := rows.Scan(&cid, &d, &enrolled, &completed, &prog, &days); err != nil {
				return err
			}
			aggs, ok := out[cid]
			if !ok {
				continue
			}
			if i := monthIndex(months, d); i >= 0 {
				aggs[i].add(enrolled, completed, prog, days)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("course monthly metrics: %w", err)
	}
	return out, nil
}

// monthIndex returns the index of d's month in months, or -1.
func monthIndex(months []calendar.Date, d calendar.Date) int {
	m := d.MonthStart()
	for i, x := range months {
		if x == m {
			return i
		}
	}
	return -1
}

// batchSize bounds IN lists: MariaDB may give up its index plan for an IN
// list of 200 values or more (DESIGN.md §9).
const batchSize = 150

// inBatches calls fn with the values in batches of at most batchSize.
func inBatches[T any](vals []T, fn func(batch []any) error) error {
	for _, batch := range database.Batches(vals, batchSize) {
		if err := fn(database.Args(batch)); err != nil {
			return err
		}
	}
	return nil
}

// indexBy returns the items' keys, in order, and the items by key: an
// expand queries its nested rows for the keys in batches, then attaches
// each row to its item by key.
func indexBy[K comparable, T any](items []T, key func(T) K) ([]K, map[K]T) {
	keys := make([]K, len(items))
	byKey := make(map[K]T, len(items))
	for i, it := range items {
		k := key(it)
		keys[i], byKey[k] = k, it
	}
	return keys, byKey
}

// siteMonth holds a site's month aggregates of its daily metrics.
type siteMonth struct {
	registered, courses, enrollments int64
}

// siteMonths reads the site daily metrics over the months: for each month
// the maxima of total_user_count, course_count and total_enrollment_count
// (0 for a month without rows), as the original's series do.
func (s *Server) siteMonths(ctx context.Context, siteID int, months []calendar.Date) ([]siteMonth, error) {
	out := make([]siteMonth, len(months))
	rows, err := s.db.Query(ctx, `SELECT date_for, total_user_count, course_count, total_enrollment_count
FROM figures_sitedailymetrics WHERE site_id = ? AND date_for >= ? AND date_for <= ?`,
		siteID, months[0], months[len(months)-1].MonthEnd())
	if err != nil {
		return nil, fmt.Errorf("site monthly metrics: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			d       calendar.Date
			u, c, e int64
		)
		if err := rows.Scan(&d, &u, &c, &e); err != nil {
			return nil, fmt.Errorf("site monthly metrics: %w", err)
		}
		if i := monthIndex(months, d); i >= 0 {
			m := &out[i]
			m.registered, m.courses, m.enrollments = max(m.registered, u), max(m.courses, c), max(m.enrollments, e)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("site monthly metrics: %w", err)
	}
	return out, nil
}

// newUsers counts the site's users who joined in month m: date_joined in
// [first day 00:00, next month's first day 00:00) UTC. (The original's
// window began at 00:00 of the previous month's last day.)
func (s *Server) newUsers(ctx context.Context, site Site, m calendar.Date) (int64, error) {
	var w where
	w.add("l.date_joined >= ?", s.db.Time(m.Start()))
	w.add("l.date_joined < ?", s.db.Time(m.AddMonths(1).Start()))
	s.siteUsers(&w, site)
	var n int64
	if err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM figures_learner l"+w.sql(), w.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("new users: %w", err)
	}
	return n, nil
}

// completions sums, over the site's courses, the newest num_learners_completed
// dated on or before day d. (The original summed only the courses that had
// a row on the site's newest date, so a course the pipeline skipped that
// day vanished from the total.)
func (s *Server) completions(ctx context.Context, siteID int, d calendar.Date) (int64, error) {
	var n sql.NullInt64
	err := s.db.QueryRow(ctx, `SELECT SUM((SELECT m.num_learners_completed FROM figures_coursedailymetrics m
  WHERE m.site_id = sc.site_id AND m.course_id = sc.course_id AND m.date_for <= ?
  ORDER BY m.date_for DESC LIMIT 1))
FROM figures_sitecourse sc WHERE sc.site_id = ?`, d, siteID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("course completions: %w", err)
	}
	return n.Int64, nil
}

// siteMAUHistory returns the site's monthly active users for each month:
// past months from the stored site monthly metrics, or, where the pipeline
// stored none, from the monthly active enrollments; the current month live
// (see liveSiteMAU).
func (s *Server) siteMAUHistory(ctx context.Context, site Site, months []calendar.Date) ([]int64, error) {
	last := months[len(months)-1]
	stored, have, err := s.monthCounts(ctx, months, `SELECT month_for, active_user_count FROM figures_sitemonthlymetrics
WHERE site_id = ? AND month_for >= ? AND month_for <= ?`, site.ID, months[0], last)
	if err != nil {
		return nil, fmt.Errorf("site MAU history: %w", err)
	}
	active, _, err := s.monthCounts(ctx, months, `SELECT month_for, COUNT(DISTINCT user_id) FROM figures_monthlyactiveenrollment
WHERE site_id = ? AND month_for >= ? AND month_for <= ? GROUP BY month_for`, site.ID, months[0], last)
	if err != nil {
		return nil, fmt.Errorf("site MAU history: %w", err)
	}
	cur := calendar.Of(s.now()).MonthStart()
	out := make([]int64, len(months))
	for i, m := range months {
		switch {
		case m == cur:
			n, err := s.liveSiteMAU(ctx, site)
			if err != nil {
				return nil, err
			}
			out[i] = n
		case have[i]:
			out[i] = stored[i]
		default:
			out[i] = active[i]
		}
	}
	return out, nil
}

// monthCounts reads a statement's (month, count) rows into one count per
// month of months, and whether a row gave it: the MAU histories combine
// several such statements, each closed before the next opens (a SQLite
// writer's pool has one connection).
func (s *Server) monthCounts(ctx context.Context, months []calendar.Date, q string, args ...any) ([]int64, []bool, error) {
	out := make([]int64, len(months))
	have := make([]bool, len(months))
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			m calendar.Date
			n int64
		)
		if err := rows.Scan(&m, &n); err != nil {
			return nil, nil, err
		}
		if i := monthIndex(months, m); i >= 0 {
			out[i], have[i] = n, true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	return out, have, nil
}

// courseMAUHistory returns a course's monthly active users for each month:
// the distinct learners of its monthly active enrollments, the current
// month live (see liveCourseMAU).
func (s *Server) courseMAUHistory(ctx context.Context, site Site, courseID string, months []calendar.Date) ([]int64, error) {
	out, _, err := s.monthCounts(ctx, months, `SELECT month_for, COUNT(*) FROM figures_monthlyactiveenrollment
WHERE site_id = ? AND course_id = ? AND month_for >= ? AND month_for <= ? GROUP BY month_for`,
		site.ID, courseID, months[0], months[len(months)-1])
	if err != nil {
		return nil, fmt.Errorf("course MAU history: %w", err)
	}
	cur := calendar.Of(s.now()).MonthStart()
	if i := monthIndex(months, cur); i >= 0 {
		live, err := s.liveCourseMAU(ctx, site, []string{courseID})
		if err != nil {
			return nil, err
		}
		out[i] = live[courseID]
	}
	return out, nil
}
