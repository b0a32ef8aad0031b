package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/database"
)

// CourseDaily is a figures_coursedailymetrics row.
type CourseDaily struct {
	SiteID              int
	CourseID            string
	DateFor             calendar.Date
	EnrollmentCount     int
	ActiveLearnersToday int
	// AverageProgress is nil when there is no value (NULL).
	AverageProgress *float64
	// AverageDaysToComplete is nil when no certificate counts (NULL).
	AverageDaysToComplete *int
	NumLearnersCompleted  int
}

// SiteDaily is a figures_sitedailymetrics row.
type SiteDaily struct {
	SiteID                    int
	DateFor                   calendar.Date
	CumulativeActiveUserCount *int
	TodaysActiveUserCount     *int
	TotalUserCount            int
	CourseCount               int
	TotalEnrollmentCount      int
	MAU                       *int
}

// SaveCourseDaily writes course daily rows. When keepProgress is set, an
// existing row's average_progress is left as it is (a backfill cannot
// recompute it and must not erase it).
func (s *Store) SaveCourseDaily(ctx context.Context, rows []CourseDaily, keepProgress bool) error {
	u := upsert{table: "figures_coursedailymetrics", key: []string{"site_id", "course_id", "date_for"},
		cols: []string{"site_id", "course_id", "date_for", "enrollment_count", "active_learners_today",
			"average_progress", "average_days_to_complete", "num_learners_completed"},
		update: []string{"enrollment_count", "active_learners_today", "average_progress",
			"average_days_to_complete", "num_learners_completed"}}
	if keepProgress {
		u.update = []string{"enrollment_count", "active_learners_today", "average_days_to_complete", "num_learners_completed"}
	}
	vals := make([][]any, len(rows))
	for i, r := range rows {
		vals[i] = []any{r.SiteID, r.CourseID, r.DateFor, r.EnrollmentCount, r.ActiveLearnersToday,
			floatPtr(r.AverageProgress), intPtr(r.AverageDaysToComplete), r.NumLearnersCompleted}
	}
	return u.write(ctx, s.db, time.Now(), vals)
}

// SaveSiteDaily writes a site daily row.
func (s *Store) SaveSiteDaily(ctx context.Context, r SiteDaily) error {
	u := upsert{table: "figures_sitedailymetrics", key: []string{"site_id", "date_for"},
		cols: []string{"site_id", "date_for", "cumulative_active_user_count", "todays_active_user_count",
			"total_user_count", "course_count", "total_enrollment_count", "mau"},
		update: []string{"cumulative_active_user_count", "todays_active_user_count",
			"total_user_count", "course_count", "total_enrollment_count", "mau"}}
	return u.write(ctx, s.db, time.Now(), [][]any{{r.SiteID, r.DateFor, intPtr(r.CumulativeActiveUserCount),
		intPtr(r.TodaysActiveUserCount), r.TotalUserCount, r.CourseCount, r.TotalEnrollmentCount, intPtr(r.MAU)}})
}

func floatPtr(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func intPtr(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// CourseDailyOn returns the course daily rows dated d, by site and course.
func (s *Store) CourseDailyOn(ctx context.Context, d calendar.Date) ([]CourseDaily, error) {
	rows, err := s.db.Query(ctx, `SELECT site_id, course_id, date_for, enrollment_count, active_learners_today,
 average_progress, average_days_to_complete, num_learners_completed
FROM figures_coursedailymetrics WHERE date_for = ? ORDER BY site_id, course_id`, d)
	if err != nil {
		return nil, fmt.Errorf("store: course daily metrics of %s: %w", d, err)
	}
	defer rows.Close()
	var out []CourseDaily
	for rows.Next() {
		var c CourseDaily
		var avg sql.NullFloat64
		var days sql.NullInt64
		if err := rows.Scan(&c.SiteID, &c.CourseID, &c.DateFor, &c.EnrollmentCount, &c.ActiveLearnersToday,
			&avg, &days, &c.NumLearnersCompleted); err != nil {
			return nil, fmt.Errorf("store: course daily metrics: %w", err)
		}
		if avg.Valid {
			v := avg.Float64
			c.AverageProgress = &v
		}
		if days.Valid {
			v := int(days.Int64)
			c.AverageDaysToComplete = &v
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SiteDailyOn returns a site's daily row for d, or nil.
func (s *Store) SiteDailyOn(ctx context.Context, siteID int, d calendar.Date) (*SiteDaily, error) {
	r := SiteDaily{SiteID: siteID}
	var cum, today, mau sql.NullInt64
	err := s.db.QueryRow(ctx, `SELECT date_for, cumulative_active_user_count, todays_active_user_count,
 total_user_count, course_count, total_enrollment_count, mau FROM figures_sitedailymetrics
WHERE site_id = ? AND date_for = ?`, siteID, d).Scan(&r.DateFor, &cum, &today, &r.TotalUserCount, &r.CourseCount, &r.TotalEnrollmentCount, &mau)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: site %d daily metrics of %s: %w", siteID, d, err)
	}
	r.CumulativeActiveUserCount = nullInt(cum)
	r.TodaysActiveUserCount = nullInt(today)
	r.MAU = nullInt(mau)
	return &r, nil
}

func nullInt(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	v := int(n.Int64)
	return &v
}

// PreviousCumulative returns the cumulative_active_user_count of the site's
// latest daily row before d (0 when there is none or it is NULL).
func (s *Store) PreviousCumulative(ctx context.Context, siteID int, d calendar.Date) (int, error) {
	var v sql.NullInt64
	err := s.db.QueryRow(ctx, `SELECT cumulative_active_user_count FROM figures_sitedailymetrics
WHERE site_id = ? AND date_for < ? ORDER BY date_for DESC LIMIT 1`, siteID, d).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: site %d cumulative active users before %s: %w", siteID, d, err)
	}
	return int(v.Int64), nil
}

// CourseCounts are the per-course counts of a day taken from the mirrored
// directory.
type CourseCounts struct {
	// Enrollments are active, non-staff enrollments created before the end
	// of the day.
	Enrollments int
	// Completions are certificates with a completion status created before
	// the end of the day.
	Completions int
	// DaysToComplete are, for those certificates, the whole days from
	// enrollment to certificate (floor), certificates whose enrollment is
	// missing or later than the certificate left out.
	DaysToComplete []int
	// FirstEnrollment is the earliest enrollment (any state, staff included).
	FirstEnrollment *time.Time
}

// CourseCountsOn computes, from the mirrored enrollments and certificates,
// the counts of day d for the given courses.
func (s *Store) CourseCountsOn(ctx context.Context, courseIDs []string, d calendar.Date, completion []string) (map[string]*CourseCounts, error) {
	out := map[string]*CourseCounts{}
	for _, c := range courseIDs {
		out[c] = &CourseCounts{}
	}
	end := s.db.Time(d.End())
	for _, batch := range database.Batches(courseIDs, 500) {
		in := database.Placeholders(len(batch))
		args := append([]any{end}, database.Args(batch)...)
		rows, err := s.db.Query(ctx, `SELECT course_id,
 SUM(CASE WHEN is_active = ? AND is_course_staff = ? AND created < ? THEN 1 ELSE 0 END), MIN(created)
FROM figures_courseenrollment WHERE course_id IN (`+in+`) GROUP BY course_id`, append([]any{true, false}, args...)...)
		if err != nil {
			return nil, fmt.Errorf("store: enrollment counts of %s: %w", d, err)
		}
		for rows.Next() {
			var id string
			var n sql.NullInt64
			var first database.NullTime
			if err := rows.Scan(&id, &n, &first); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: enrollment counts: %w", err)
			}
			if c := out[id]; c != nil {
				c.Enrollments = int(n.Int64)
				c.FirstEnrollment = first.Ptr()
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: enrollment counts: %w", err)
		}
		if len(completion) == 0 {
			continue
		}
		cargs := append(append([]any{}, database.Args(batch)...), database.Args(completion)...)
		cargs = append(cargs, end)
		rows, err = s.db.Query(ctx, `SELECT c.course_id, c.created_date, e.created
FROM figures_certificate c LEFT JOIN figures_courseenrollment e ON e.user_id = c.user_id AND e.course_id = c.course_id
WHERE c.course_id IN (`+in+`) AND c.status IN (`+database.Placeholders(len(completion))+`) AND c.created_date < ?`, cargs...)
		if err != nil {
			return nil, fmt.Errorf("store: certificates of %s: %w", d, err)
		}
		for rows.Next() {
			var id string
			var certAt, enrolledAt database.NullTime
			if err := rows.Scan(&id, &certAt, &enrolledAt); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: certificates: %w", err)
			}
			c := out[id]
			if c == nil {
				continue
			}
			c.Completions++
			if enrolledAt.Valid && !certAt.Time.Before(enrolledAt.Time) {
				c.DaysToComplete = append(c.DaysToComplete, int(certAt.Time.Sub(enrolledAt.Time)/(24*time.Hour)))
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: certificates: %w", err)
		}
	}
	return out, nil
}

// AverageProgress returns, per course of a site, the average
// progress_percent of the site's enrollment data rows (courses without rows
// are absent): one aggregate query.
func (s *Store) AverageProgress(ctx context.Context, siteID int) (map[string]float64, error) {
	rows, err := s.db.Query(ctx, `SELECT course_id, AVG(progress_percent) FROM figures_enrollmentdata
WHERE site_id = ? GROUP BY course_id`, siteID)
	if err != nil {
		return nil, fmt.Errorf("store: average progress of site %d: %w", siteID, err)
	}
	defer rows.Close()
	out := map[string]float64{}
	for rows.Next() {
		var id string
		var avg float64
		if err := rows.Scan(&id, &avg); err != nil {
			return nil, fmt.Errorf("store: average progress: %w", err)
		}
		out[id] = avg
	}
	return out, rows.Err()
}

// SiteUserCount counts a site's users who joined before the end of d:
// every learner for a standalone site (no org filter), otherwise the
// learners enrolled (in any state) in one of the site's courses.
func (s *Store) SiteUserCount(ctx context.Context, site Site, d calendar.Date) (int, error) {
	var n int
	var err error
	if len(site.Orgs) == 0 {
		err = s.db.QueryRow(ctx, `SELECT COUNT(*) FROM figures_learner WHERE date_joined < ?`, s.db.Time(d.End())).Scan(&n)
	} else {
		err = s.db.QueryRow(ctx, `SELECT COUNT(*) FROM figures_learner l WHERE l.date_joined < ? AND EXISTS (
 SELECT 1 FROM figures_courseenrollment e JOIN figures_sitecourse sc ON sc.course_id = e.course_id
 WHERE e.user_id = l.user_id AND sc.site_id = ?)`, s.db.Time(d.End()), site.ID).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("store: users of site %d on %s: %w", site.ID, d, err)
	}
	return n, nil
}
