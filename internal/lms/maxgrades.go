package lms

import (
	"context"
	"fmt"

	"github.com/figures-analytics/figures/internal/database"
)

// maxGradesQuery reads, per block of one course, the largest max_grade any
// learner's row recorded. It filters on course_id alone, which the
// platform's course_id index serves: the cost is reading the course's rows,
// acceptable for a structure fetch that runs once per course and publish,
// never per day.
const maxGradesQuery = `SELECT module_id, MAX(max_grade) FROM courseware_studentmodule
WHERE course_id = ? AND max_grade IS NOT NULL GROUP BY module_id`

// MaxGrades returns, keyed by usage key, the largest max_grade recorded in
// courseware_studentmodule for each block of courseID. The Course Blocks API
// has no max score, so this is where an unweighted problem's raw maximum
// comes from when the outline is fetched from the API. Blocks nobody has a
// scored row for are absent.
func MaxGrades(ctx context.Context, db *database.DB, courseID string) (map[string]float64, error) {
	rows, err := db.Query(ctx, maxGradesQuery, courseID)
	if err != nil {
		return nil, fmt.Errorf("LMS %s: max grades of %s: %w", db.Location(), courseID, err)
	}
	defer rows.Close()
	out := map[string]float64{}
	for rows.Next() {
		var (
			module string
			max    float64
		)
		if err := rows.Scan(&module, &max); err != nil {
			return nil, fmt.Errorf("LMS %s: max grades of %s: %w", db.Location(), courseID, err)
		}
		out[module] = max
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("LMS %s: max grades of %s: %w", db.Location(), courseID, err)
	}
	return out, nil
}

// MaxGradesSource reads max grades from an LMS database; it satisfies
// course.MaxGrades, so a Blocks API fetch can take its raw maxima from it.
type MaxGradesSource struct {
	DB *database.DB
}

// MaxGrades returns MaxGrades(ctx, s.DB, courseID).
func (s MaxGradesSource) MaxGrades(ctx context.Context, courseID string) (map[string]float64, error) {
	return MaxGrades(ctx, s.DB, courseID)
}
