package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/database"
)

// ActiveEnrollment records that a learner was active in a course of a site
// on a day; it becomes a figures_monthlyactiveenrollment row of the day's
// month.
type ActiveEnrollment struct {
	SiteID   int
	CourseID string
	UserID   int
	Day      calendar.Date
}

// SaveActiveEnrollments records activity. A learner already recorded for
// the month keeps the earliest day seen, so month-to-date counts as of any
// day can be read back whatever order days are processed in.
func (s *Store) SaveActiveEnrollments(ctx context.Context, rows []ActiveEnrollment) error {
	if len(rows) == 0 {
		return nil
	}
	cols := "site_id, course_id, user_id, month_for, first_active, created, modified"
	var conflict string
	switch s.db.Dialect() {
	case database.MySQL:
		conflict = " ON DUPLICATE KEY UPDATE modified = IF(VALUES(first_active) < first_active, VALUES(modified), modified), first_active = LEAST(first_active, VALUES(first_active))"
	case database.SQLite:
		conflict = " ON CONFLICT (site_id, course_id, user_id, month_for) DO UPDATE SET first_active = excluded.first_active, modified = excluded.modified WHERE excluded.first_active < figures_monthlyactiveenrollment.first_active"
	default:
		conflict = " ON CONFLICT (site_id, course_id, user_id, month_for) DO UPDATE SET first_active = excluded.first_active, modified = excluded.modified WHERE excluded.first_active < figures_monthlyactiveenrollment.first_active"
	}
	now := s.db.Time(time.Now())
	const per = maxArgs / 7
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		// A copy of the slice: InTx may run this again after a deadlock.
		rows := rows
		for len(rows) > 0 {
			n := min(len(rows), per)
			chunk := rows[:n]
			rows = rows[n:]
			var b strings.Builder
			args := make([]any, 0, n*7)
			b.WriteString("INSERT INTO figures_monthlyactiveenrollment (" + cols + ") VALUES ")
			for i, r := range chunk {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString("(?, ?, ?, ?, ?, ?, ?)")
				args = append(args, r.SiteID, r.CourseID, r.UserID, r.Day.MonthStart(), r.Day, now, now)
			}
			b.WriteString(conflict)
			if _, err := tx.Exec(ctx, b.String(), args...); err != nil {
				return fmt.Errorf("store: monthly active enrollments: %w", err)
			}
		}
		return nil
	})
}

// MonthToDate returns a site's distinct active learners of d's month up to
// and including d, overall and per course.
func (s *Store) MonthToDate(ctx context.Context, siteID int, d calendar.Date) (site int, byCourse map[string]int, err error) {
	m := d.MonthStart()
	if err := s.db.QueryRow(ctx, `SELECT COUNT(DISTINCT user_id) FROM figures_monthlyactiveenrollment
WHERE site_id = ? AND month_for = ? AND first_active <= ?`, siteID, m, d).Scan(&site); err != nil {
		return 0, nil, fmt.Errorf("store: site %d active learners of %s: %w", siteID, d, err)
	}
	rows, err := s.db.Query(ctx, `SELECT course_id, COUNT(DISTINCT user_id) FROM figures_monthlyactiveenrollment
WHERE site_id = ? AND month_for = ? AND first_active <= ? GROUP BY course_id`, siteID, m, d)
	if err != nil {
		return 0, nil, fmt.Errorf("store: course active learners of %s: %w", d, err)
	}
	defer rows.Close()
	byCourse = map[string]int{}
	for rows.Next() {
		var c string
		var n int
		if err := rows.Scan(&c, &n); err != nil {
			return 0, nil, fmt.Errorf("store: course active learners: %w", err)
		}
		byCourse[c] = n
	}
	return site, byCourse, rows.Err()
}

// SaveMonthly writes the month-to-date activity of a site as of d: the site
// monthly row of d's month, the site MAU row and the course MAU rows dated d.
func (s *Store) SaveMonthly(ctx context.Context, siteID int, d calendar.Date, site int, byCourse map[string]int, courses []string) error {
	now := time.Now()
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		smm := upsert{table: "figures_sitemonthlymetrics", key: []string{"month_for", "site_id"},
			cols: []string{"site_id", "month_for", "active_user_count"}, update: []string{"active_user_count"}}
		// The month's row counts every learner seen in the month so far,
		// whatever day is being processed, so re-running an earlier day
		// cannot lower it.
		month, err := s.monthCount(ctx, tx, siteID, d.MonthStart())
		if err != nil {
			return err
		}
		if err := smm.write(ctx, tx, now, [][]any{{siteID, d.MonthStart(), month}}); err != nil {
			return err
		}
		sm := upsert{table: "figures_sitemaumetrics", key: []string{"site_id", "date_for"},
			cols: []string{"site_id", "date_for", "mau"}, update: []string{"mau"}}
		if err := sm.write(ctx, tx, now, [][]any{{siteID, d, site}}); err != nil {
			return err
		}
		cm := upsert{table: "figures_coursemaumetrics", key: []string{"site_id", "course_id", "date_for"},
			cols: []string{"site_id", "course_id", "date_for", "mau"}, update: []string{"mau"}}
		rows := make([][]any, 0, len(courses))
		for _, c := range courses {
			rows = append(rows, []any{siteID, c, d, byCourse[c]})
		}
		return cm.write(ctx, tx, now, rows)
	})
}

func (s *Store) monthCount(ctx context.Context, q database.Querier, siteID int, month calendar.Date) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(DISTINCT user_id) FROM figures_monthlyactiveenrollment
WHERE site_id = ? AND month_for = ?`, siteID, month).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: site %d active learners of month %s: %w", siteID, month, err)
	}
	return n, nil
}
