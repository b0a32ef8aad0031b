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

// EnrollmentData is a figures_enrollmentdata row: the latest progress of
// one enrollment in one site.
type EnrollmentData struct {
	SiteID           int
	UserID           int
	CourseID         string
	DateFor          calendar.Date
	DateEnrolled     calendar.Date // zero when the LMS has no enrollment date
	IsEnrolled       bool
	IsCompleted      bool
	ProgressPercent  float64
	PointsPossible   float64
	PointsEarned     float64
	SectionsWorked   int
	SectionsPossible int
	CollectElapsed   float64
	// Estimate names why the values are an estimate ("" when exact):
	// comma-separated reasons, see pipeline.Report.Estimated.
	Estimate string
}

// GradeMetrics is a figures_learnercoursegrademetrics row: one enrollment's
// progress snapshot for a day with activity.
type GradeMetrics struct {
	SiteID           int
	UserID           int
	CourseID         string
	DateFor          calendar.Date
	PointsPossible   float64
	PointsEarned     float64
	SectionsWorked   int
	SectionsPossible int
	CollectElapsed   float64
	// Estimate is as EnrollmentData's.
	Estimate string
}

// ProgressPercent is sections_worked / sections_possible, 0 without sections.
func (g GradeMetrics) ProgressPercent() float64 {
	if g.SectionsPossible == 0 {
		return 0
	}
	return float64(g.SectionsWorked) / float64(g.SectionsPossible)
}

// Completed reports worked > 0 and worked == possible.
func (g GradeMetrics) Completed() bool {
	return g.SectionsWorked > 0 && g.SectionsWorked == g.SectionsPossible
}

var enrollmentDataUpsert = upsert{
	table: "figures_enrollmentdata",
	key:   []string{"site_id", "user_id", "course_id"},
	cols: []string{"site_id", "user_id", "course_id", "date_for", "date_enrolled", "is_enrolled", "is_completed",
		"progress_percent", "points_possible", "points_earned", "sections_worked", "sections_possible", "collect_elapsed", "estimate"},
	update: []string{"date_for", "date_enrolled", "is_enrolled", "is_completed",
		"progress_percent", "points_possible", "points_earned", "sections_worked", "sections_possible", "collect_elapsed", "estimate"},
	// A snapshot for an earlier day never overwrites a later one, so
	// re-running an old day cannot roll the latest state back.
	guard: "date_for",
}

var gradeMetricsUpsert = upsert{
	table: "figures_learnercoursegrademetrics",
	key:   []string{"site_id", "user_id", "course_id", "date_for"},
	cols: []string{"site_id", "user_id", "course_id", "date_for", "points_possible", "points_earned",
		"sections_worked", "sections_possible", "collect_elapsed", "estimate"},
	update: []string{"points_possible", "points_earned", "sections_worked", "sections_possible", "collect_elapsed", "estimate"},
}

// SaveProgress writes enrollment snapshots and their day's grade metrics in
// one transaction: either both tables get a batch or neither does.
func (s *Store) SaveProgress(ctx context.Context, ed []EnrollmentData, gm []GradeMetrics) error {
	now := time.Now()
	edRows := make([][]any, len(ed))
	for i, e := range ed {
		edRows[i] = []any{e.SiteID, e.UserID, e.CourseID, e.DateFor, e.DateEnrolled, e.IsEnrolled, e.IsCompleted,
			e.ProgressPercent, e.PointsPossible, e.PointsEarned, e.SectionsWorked, e.SectionsPossible, e.CollectElapsed, nullString(e.Estimate)}
	}
	gmRows := make([][]any, len(gm))
	for i, g := range gm {
		gmRows[i] = []any{g.SiteID, g.UserID, g.CourseID, g.DateFor, g.PointsPossible, g.PointsEarned,
			g.SectionsWorked, g.SectionsPossible, g.CollectElapsed, nullString(g.Estimate)}
	}
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		if err := enrollmentDataUpsert.write(ctx, tx, now, edRows); err != nil {
			return err
		}
		return gradeMetricsUpsert.write(ctx, tx, now, gmRows)
	})
}

// LatestGradeMetrics returns an enrollment's newest grade-metrics row, or
// nil: the legacy workflow's per-enrollment lookup.
func (s *Store) LatestGradeMetrics(ctx context.Context, siteID, userID int, courseID string) (*GradeMetrics, error) {
	g := GradeMetrics{SiteID: siteID, UserID: userID, CourseID: courseID}
	var elapsed sql.NullFloat64
	err := s.db.QueryRow(ctx, `SELECT date_for, points_possible, points_earned, sections_worked, sections_possible, collect_elapsed
FROM figures_learnercoursegrademetrics WHERE site_id = ? AND user_id = ? AND course_id = ?
ORDER BY date_for DESC LIMIT 1`, siteID, userID, courseID).Scan(&g.DateFor, &g.PointsPossible, &g.PointsEarned,
		&g.SectionsWorked, &g.SectionsPossible, &elapsed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: latest grade metrics of learner %d in %s: %w", userID, courseID, err)
	}
	g.CollectElapsed = elapsed.Float64
	return &g, nil
}

// EnrollmentDataFor returns the figures_enrollmentdata rows of the given
// sites (all sites when none is given), for comparisons and tests.
func (s *Store) EnrollmentDataFor(ctx context.Context, siteIDs ...int) ([]EnrollmentData, error) {
	q := `SELECT site_id, user_id, course_id, date_for, date_enrolled, is_enrolled, is_completed, progress_percent,
 points_possible, points_earned, sections_worked, sections_possible, collect_elapsed, estimate FROM figures_enrollmentdata`
	var args []any
	if len(siteIDs) > 0 {
		q += " WHERE site_id IN (" + database.Placeholders(len(siteIDs)) + ")"
		for _, id := range siteIDs {
			args = append(args, id)
		}
	}
	rows, err := s.db.Query(ctx, q+" ORDER BY site_id, course_id, user_id", args...)
	if err != nil {
		return nil, fmt.Errorf("store: enrollment data: %w", err)
	}
	defer rows.Close()
	var out []EnrollmentData
	for rows.Next() {
		var e EnrollmentData
		var elapsed sql.NullFloat64
		var estimate sql.NullString
		if err := rows.Scan(&e.SiteID, &e.UserID, &e.CourseID, &e.DateFor, &e.DateEnrolled, &e.IsEnrolled, &e.IsCompleted,
			&e.ProgressPercent, &e.PointsPossible, &e.PointsEarned, &e.SectionsWorked, &e.SectionsPossible, &elapsed, &estimate); err != nil {
			return nil, fmt.Errorf("store: enrollment data: %w", err)
		}
		e.CollectElapsed, e.Estimate = elapsed.Float64, estimate.String
		out = append(out, e)
	}
	return out, rows.Err()
}

// GradeMetricsOn returns the figures_learnercoursegrademetrics rows dated d.
func (s *Store) GradeMetricsOn(ctx context.Context, d calendar.Date) ([]GradeMetrics, error) {
	rows, err := s.db.Query(ctx, `SELECT site_id, user_id, course_id, date_for, points_possible, points_earned,
 sections_worked, sections_possible, collect_elapsed, estimate FROM figures_learnercoursegrademetrics
WHERE date_for = ? ORDER BY site_id, course_id, user_id`, d)
	if err != nil {
		return nil, fmt.Errorf("store: grade metrics of %s: %w", d, err)
	}
	defer rows.Close()
	var out []GradeMetrics
	for rows.Next() {
		g, err := scanGradeMetrics(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// CopyProgressBefore copies into dst this store's per-enrollment rows dated
// before d (grade metrics, and enrollment data whose snapshot is older than
// d): the state a run for d starts from. compare seeds its scratch stores
// with it.
func (s *Store) CopyProgressBefore(ctx context.Context, dst *Store, d calendar.Date) error {
	ed, err := s.EnrollmentDataFor(ctx)
	if err != nil {
		return err
	}
	keep := ed[:0]
	for _, e := range ed {
		if e.DateFor.Before(d) {
			keep = append(keep, e)
		}
	}
	rows, err := s.db.Query(ctx, `SELECT site_id, user_id, course_id, date_for, points_possible, points_earned,
 sections_worked, sections_possible, collect_elapsed, estimate FROM figures_learnercoursegrademetrics WHERE date_for < ?`, d)
	if err != nil {
		return fmt.Errorf("store: grade metrics before %s: %w", d, err)
	}
	var gm []GradeMetrics
	for rows.Next() {
		g, err := scanGradeMetrics(rows)
		if err != nil {
			rows.Close()
			return err
		}
		gm = append(gm, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: grade metrics: %w", err)
	}
	return dst.SaveProgress(ctx, keep, gm)
}

// scanGradeMetrics reads one grade-metrics row of the columns site_id,
// user_id, course_id, date_for, points_possible, points_earned,
// sections_worked, sections_possible, collect_elapsed, estimate.
func scanGradeMetrics(rows *sql.Rows) (GradeMetrics, error) {
	var g GradeMetrics
	var elapsed sql.NullFloat64
	var estimate sql.NullString
	if err := rows.Scan(&g.SiteID, &g.UserID, &g.CourseID, &g.DateFor, &g.PointsPossible, &g.PointsEarned,
		&g.SectionsWorked, &g.SectionsPossible, &elapsed, &estimate); err != nil {
		return g, fmt.Errorf("store: grade metrics: %w", err)
	}
	g.CollectElapsed, g.Estimate = elapsed.Float64, estimate.String
	return g, nil
}

// nullString is s, or NULL when s is empty.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
