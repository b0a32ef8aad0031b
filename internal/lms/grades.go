package lms

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/figures-analytics/figures/internal/course"
	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/progress"
)

// Grades is what the progress formula needs of a set of learners in one
// course, keyed by user id.
type Grades struct {
	// CourseGrade holds the learners with a grades_persistentcoursegrade row.
	CourseGrade map[int]bool
	// Subsections are the persisted subsection grades, overrides applied.
	Subsections map[int][]progress.SubsectionGrade
	// Scores are the StudentModule scores (rows with a max_grade).
	Scores map[int][]progress.Score
	// Selections are the library_content selections.
	Selections map[int]map[string][]string
}

// Learner assembles the progress input of one learner.
func (g *Grades) Learner(userID int) *progress.Learner {
	return &progress.Learner{
		HasCourseGrade: g.CourseGrade[userID],
		Subsections:    g.Subsections[userID],
		Scores:         g.Scores[userID],
		Selections:     g.Selections[userID],
	}
}

func newGrades() *Grades {
	return &Grades{
		CourseGrade: map[int]bool{},
		Subsections: map[int][]progress.SubsectionGrade{},
		Scores:      map[int][]progress.Score{},
		Selections:  map[int]map[string][]string{},
	}
}

// ReadGrades reads, for learners of one course, the rows the grade source
// needs: persisted course and subsection grades (with overrides) for
// progress.Persisted, StudentModule scores for progress.StudentModule, and
// the library_content selections the formula will look at. One query per
// table per batch of fewer than 200 learners, each served by a unique key:
// (course_id, user_id, …) for the grade tables, (student_id, module_id,
// course_id) for StudentModule.
//
// Under progress.StudentModule every library's selection counts. Under
// progress.Persisted a selection only counts where the outline supplies a
// subsection's possible points — a library subsection without a persisted
// grade row, or every subsection of a learner without a course grade — so
// only those are read: the selections are StudentModule rows whose state
// text lives in the clustered index, one random page read each, and the
// learners a day's run sees have mostly been graded on the libraries they
// opened.
func (r *Reader) ReadGrades(ctx context.Context, src progress.Source, o *course.Outline, userIDs []int) (*Grades, error) {
	g := newGrades()
	libs := libraryKeys(o)
	for _, batch := range database.Batches(userIDs, MaxInList) {
		var err error
		if src == progress.StudentModule {
			err = r.readScores(ctx, g, o.CourseID, batch)
			if err == nil && len(libs) > 0 {
				err = r.readSelections(ctx, g, o.CourseID, batch, libs)
			}
		} else {
			err = r.readPersisted(ctx, g, o.CourseID, batch)
			if err == nil && len(libs) > 0 {
				err = r.readNeededSelections(ctx, g, o, batch)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("course %s: %w", o.CourseID, err)
		}
	}
	return g, nil
}

// readNeededSelections reads, for each subsection with libraries, the
// selections of the batch's learners whose progress takes that
// subsection's possible points from the outline (see ReadGrades).
func (r *Reader) readNeededSelections(ctx context.Context, g *Grades, o *course.Outline, batch []int) error {
	for _, s := range o.Subsections() {
		if len(s.Libraries) == 0 {
			continue
		}
		var need []int
		for _, u := range batch {
			if !g.CourseGrade[u] || !hasSubsectionGrade(g.Subsections[u], s.UsageKey) {
				need = append(need, u)
			}
		}
		if len(need) == 0 {
			continue
		}
		keys := make([]string, len(s.Libraries))
		for i, l := range s.Libraries {
			keys[i] = l.UsageKey
		}
		if err := r.readSelections(ctx, g, o.CourseID, need, keys); err != nil {
			return err
		}
	}
	return nil
}

func hasSubsectionGrade(gs []progress.SubsectionGrade, usageKey string) bool {
	for _, sg := range gs {
		if sg.UsageKey == usageKey {
			return true
		}
	}
	return false
}

const courseGradeQuery = `SELECT user_id FROM grades_persistentcoursegrade WHERE course_id = ? AND user_id IN (%s)`

const subsectionGradeQuery = `SELECT g.user_id, g.usage_key, g.earned_all, g.possible_all,
 o.earned_all_override, o.possible_all_override
FROM grades_persistentsubsectiongrade g
LEFT JOIN grades_persistentsubsectiongradeoverride o ON o.grade_id = g.id
WHERE g.course_id = ? AND g.user_id IN (%s)`

func (r *Reader) readPersisted(ctx context.Context, g *Grades, courseID string, batch []int) error {
	args := append([]any{courseID}, database.Args(batch)...)
	rows, err := r.q.Query(ctx, fmt.Sprintf(courseGradeQuery, database.Placeholders(len(batch))), args...)
	if err != nil {
		return fmt.Errorf("read course grades: %w", err)
	}
	for rows.Next() {
		var u int
		if err := rows.Scan(&u); err != nil {
			rows.Close()
			return fmt.Errorf("read course grades: %w", err)
		}
		g.CourseGrade[u] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read course grades: %w", err)
	}
	rows, err = r.q.Query(ctx, fmt.Sprintf(subsectionGradeQuery, database.Placeholders(len(batch))), args...)
	if err != nil {
		return fmt.Errorf("read subsection grades: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			u      int
			sg     progress.SubsectionGrade
			oe, op sql.NullFloat64
		)
		if err := rows.Scan(&u, &sg.UsageKey, &sg.Earned, &sg.Possible, &oe, &op); err != nil {
			return fmt.Errorf("read subsection grades: %w", err)
		}
		// A non-NULL override value replaces the matching persisted value.
		if oe.Valid {
			sg.Earned = oe.Float64
		}
		if op.Valid {
			sg.Possible = op.Float64
		}
		g.Subsections[u] = append(g.Subsections[u], sg)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read subsection grades: %w", err)
	}
	return nil
}

const scoresQuery = `SELECT student_id, module_id, grade, max_grade FROM courseware_studentmodule
WHERE student_id IN (%s) AND course_id = ? AND max_grade IS NOT NULL`

func (r *Reader) readScores(ctx context.Context, g *Grades, courseID string, batch []int) error {
	args := append(database.Args(batch), courseID)
	rows, err := r.q.Query(ctx, fmt.Sprintf(scoresQuery, database.Placeholders(len(batch))), args...)
	if err != nil {
		return fmt.Errorf("read StudentModule scores: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			u         int
			s         progress.Score
			grade, mx sql.NullFloat64
		)
		if err := rows.Scan(&u, &s.ModuleID, &grade, &mx); err != nil {
			return fmt.Errorf("read StudentModule scores: %w", err)
		}
		s.Grade, s.HasGrade = grade.Float64, grade.Valid
		s.MaxGrade, s.HasMax = mx.Float64, mx.Valid
		g.Scores[u] = append(g.Scores[u], s)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read StudentModule scores: %w", err)
	}
	return nil
}

const selectionsQuery = `SELECT student_id, module_id, state FROM courseware_studentmodule
WHERE student_id IN (%s) AND module_id IN (%s) AND course_id = ?`

func (r *Reader) readSelections(ctx context.Context, g *Grades, courseID string, batch []int, libs []string) error {
	// The IN lists multiply into point lookups on the unique key; keep their
	// product small.
	for _, part := range database.Batches(libs, 20) {
		args := append(database.Args(batch), database.Args(part)...)
		args = append(args, courseID)
		rows, err := r.q.Query(ctx, fmt.Sprintf(selectionsQuery, database.Placeholders(len(batch)), database.Placeholders(len(part))), args...)
		if err != nil {
			return fmt.Errorf("read library selections: %w", err)
		}
		for rows.Next() {
			var (
				u     int
				key   string
				state sql.NullString
			)
			if err := rows.Scan(&u, &key, &state); err != nil {
				rows.Close()
				return fmt.Errorf("read library selections: %w", err)
			}
			sel, ok := ParseSelection(courseID, key, state.String)
			if !ok {
				continue
			}
			if g.Selections[u] == nil {
				g.Selections[u] = map[string][]string{}
			}
			g.Selections[u][key] = sel
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read library selections: %w", err)
		}
	}
	return nil
}

// ParseSelection reads a library_content block's StudentModule state,
// {"selected": [["problem", "<block id>"], ...]}, and returns the selected
// children's usage keys. ok is false when the state records no selection.
func ParseSelection(courseID, libraryKey, state string) ([]string, bool) {
	if state == "" {
		return nil, false
	}
	var s struct {
		Selected [][]string `json:"selected"`
	}
	if err := json.Unmarshal([]byte(state), &s); err != nil || s.Selected == nil {
		return nil, false
	}
	k, err := course.ParseKey(courseID)
	if err != nil {
		return nil, false
	}
	out := make([]string, 0, len(s.Selected))
	for _, pair := range s.Selected {
		if len(pair) == 2 {
			out = append(out, k.UsageKey(pair[0], pair[1]))
		}
	}
	return out, true
}

func libraryKeys(o *course.Outline) []string {
	var out []string
	for _, s := range o.Subsections() {
		for _, l := range s.Libraries {
			out = append(out, l.UsageKey)
		}
	}
	return out
}

// ModuleRow is a StudentModule row as the legacy workflow reads it.
type ModuleRow struct {
	ID         int64
	ModuleType string
	ModuleID   string
	State      string
	Grade      sql.NullFloat64
	MaxGrade   sql.NullFloat64
	Created    time.Time
	Modified   time.Time
}

// legacyProbeQuery is the original's per-enrollment probe: every column of
// the learner's rows in the course, newest first. It reads all of them (and
// their state text) because the original replaced LIMIT 1 with a full fetch
// after MySQL picked the modified index for the LIMIT 1 form.
const legacyProbeQuery = `SELECT id, module_type, module_id, state, grade, max_grade, created, modified
FROM courseware_studentmodule WHERE student_id = ? AND course_id = ? ORDER BY modified DESC`

// EnrollmentModules is the legacy workflow's per-enrollment query.
func (r *Reader) EnrollmentModules(ctx context.Context, userID int, courseID string) ([]ModuleRow, error) {
	rows, err := r.q.Query(ctx, legacyProbeQuery, userID, courseID)
	if err != nil {
		return nil, fmt.Errorf("LMS: StudentModule rows of learner %d in %s: %w", userID, courseID, err)
	}
	defer rows.Close()
	var out []ModuleRow
	for rows.Next() {
		var m ModuleRow
		var state sql.NullString
		var created, modified database.NullTime
		if err := rows.Scan(&m.ID, &m.ModuleType, &m.ModuleID, &state, &m.Grade, &m.MaxGrade, &created, &modified); err != nil {
			return nil, fmt.Errorf("LMS: StudentModule row: %w", err)
		}
		m.State, m.Created, m.Modified = state.String, created.Time, modified.Time
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("LMS: StudentModule rows: %w", err)
	}
	return out, nil
}

// LearnerGrades reads one learner's grade rows for the legacy workflow, the
// original's per-enrollment grade read. For the StudentModule source the
// legacy probe already holds the learner's rows, so modules are used
// instead of another query.
func (r *Reader) LearnerGrades(ctx context.Context, src progress.Source, o *course.Outline, userID int, modules []ModuleRow) (*progress.Learner, error) {
	l := &progress.Learner{}
	if src == progress.StudentModule {
		for _, m := range modules {
			if m.MaxGrade.Valid {
				l.Scores = append(l.Scores, progress.Score{ModuleID: m.ModuleID, Grade: m.Grade.Float64, HasGrade: m.Grade.Valid, MaxGrade: m.MaxGrade.Float64, HasMax: true})
			}
		}
	} else {
		g := newGrades()
		if err := r.readPersisted(ctx, g, o.CourseID, []int{userID}); err != nil {
			return nil, fmt.Errorf("course %s: learner %d: %w", o.CourseID, userID, err)
		}
		l.HasCourseGrade = g.CourseGrade[userID]
		l.Subsections = g.Subsections[userID]
	}
	libs := map[string]bool{}
	for _, k := range libraryKeys(o) {
		libs[k] = true
	}
	for _, m := range modules {
		if libs[m.ModuleID] {
			if sel, ok := ParseSelection(o.CourseID, m.ModuleID, m.State); ok {
				if l.Selections == nil {
					l.Selections = map[string][]string{}
				}
				l.Selections[m.ModuleID] = sel
			}
		}
	}
	return l, nil
}
