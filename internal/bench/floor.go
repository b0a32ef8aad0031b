package bench

import (
	"context"
	"database/sql"
	"fmt"
	"sort"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/lms"
)

// The floor's queries are written here, apart from internal/lms, so that
// the yardstick does not move when the code it measures changes. They are
// the plainest form of the reads no workflow for one day can avoid: which
// (course, learner) pairs had StudentModule rows modified or created in the
// day — one range scan of each datetime index over all courses — and those
// pairs' persisted grades — whether a course grade exists, and the
// subsection grades with their overrides — per course in batches of fewer
// than 200 learners (DESIGN.md §9: a longer IN list can flip MariaDB to a
// full scan).
const (
	floorScanQuery        = `SELECT DISTINCT course_id, student_id FROM courseware_studentmodule WHERE %[1]s >= ? AND %[1]s < ?`
	floorCourseGrades     = `SELECT user_id FROM grades_persistentcoursegrade WHERE course_id = ? AND user_id IN (%s)`
	floorSubsectionGrades = `SELECT g.user_id, g.usage_key, g.earned_all, g.possible_all, o.earned_all_override, o.possible_all_override
FROM grades_persistentsubsectiongrade g LEFT JOIN grades_persistentsubsectiongradeoverride o ON o.grade_id = g.id
WHERE g.course_id = ? AND g.user_id IN (%s)`
)

// floorBatch is the floor's IN-list size: the largest under 200.
const floorBatch = lms.MaxInList

// measureFloor performs the floor's reads for day d and returns what they
// cost; Examined and Updated are the pairs whose grades were read.
func measureFloor(ctx context.Context, m *meter, r *lms.Reader, d calendar.Date) (*Result, error) {
	start, err := m.mark(ctx)
	if err != nil {
		return nil, err
	}
	n, err := floorReads(ctx, r.DB(), d)
	if err != nil {
		return nil, err
	}
	end, err := m.mark(ctx)
	if err != nil {
		return nil, err
	}
	if err := m.sameSession(ctx); err != nil {
		return nil, err
	}
	return &Result{Counters: m.between(start, end), Examined: n, Updated: n}, nil
}

// floorReads reads the day's active pairs and their grades, keeping only
// counts (the floor computes nothing), and returns the number of pairs.
func floorReads(ctx context.Context, db *database.DB, d calendar.Date) (int, error) {
	pairs := map[string]map[int]bool{}
	for _, col := range []string{"modified", "created"} {
		rows, err := db.Query(ctx, fmt.Sprintf(floorScanQuery, col), db.Time(d.Start()), db.Time(d.End()))
		if err != nil {
			return 0, fmt.Errorf("floor: StudentModule %s in %s: %w", col, d, err)
		}
		for rows.Next() {
			var c string
			var u int
			if err := rows.Scan(&c, &u); err != nil {
				rows.Close()
				return 0, fmt.Errorf("floor: StudentModule %s: %w", col, err)
			}
			if pairs[c] == nil {
				pairs[c] = map[int]bool{}
			}
			pairs[c][u] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return 0, fmt.Errorf("floor: StudentModule %s: %w", col, err)
		}
	}
	courses := make([]string, 0, len(pairs))
	for c := range pairs {
		courses = append(courses, c)
	}
	sort.Strings(courses)
	n := 0
	for _, c := range courses {
		users := make([]int, 0, len(pairs[c]))
		for u := range pairs[c] {
			users = append(users, u)
		}
		sort.Ints(users)
		n += len(users)
		for _, batch := range database.Batches(users, floorBatch) {
			if err := floorGrades(ctx, db, c, batch); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func floorGrades(ctx context.Context, db *database.DB, courseID string, users []int) error {
	args := append([]any{courseID}, database.Args(users)...)
	in := database.Placeholders(len(users))
	rows, err := db.Query(ctx, fmt.Sprintf(floorCourseGrades, in), args...)
	if err != nil {
		return fmt.Errorf("floor: course grades of %s: %w", courseID, err)
	}
	for rows.Next() {
		var u int
		if err := rows.Scan(&u); err != nil {
			rows.Close()
			return fmt.Errorf("floor: course grades: %w", err)
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return fmt.Errorf("floor: course grades: %w", err)
	}
	rows, err = db.Query(ctx, fmt.Sprintf(floorSubsectionGrades, in), args...)
	if err != nil {
		return fmt.Errorf("floor: subsection grades of %s: %w", courseID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			u      int
			key    string
			e, p   float64
			oe, op sql.NullFloat64
		)
		if err := rows.Scan(&u, &key, &e, &p, &oe, &op); err != nil {
			return fmt.Errorf("floor: subsection grades: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("floor: subsection grades: %w", err)
	}
	return nil
}
