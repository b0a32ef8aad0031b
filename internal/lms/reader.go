package lms

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/figures-analytics/figures/internal/database"
)

// MaxInList is the largest IN list a query sends. MariaDB switches from
// index dives to statistics at eq_range_index_dive_limit (200) and can then
// choose a full scan (DESIGN.md §9), so batches stay below it.
const MaxInList = 199

// Reader runs figures' queries against an LMS database. Its queries go
// through a database.Querier, so a Reader can read inside one consistent
// snapshot (see Snapshot) or straight from the pool.
type Reader struct {
	q  database.Querier
	db *database.DB
}

// Options say how to open the LMS.
type Options struct {
	// Timeout bounds every wait on the LMS (0: database.DefaultTimeout):
	// a query whose server sends nothing for that long fails, with an
	// error naming Setting (default "--lms-timeout").
	Timeout time.Duration
	Setting string
}

// Open opens the LMS at rawURL read-only and checks it has the tables
// figures reads.
func Open(ctx context.Context, rawURL string) (*Reader, error) {
	return OpenOptions(ctx, rawURL, Options{})
}

// OpenOptions is Open with options.
func OpenOptions(ctx context.Context, rawURL string, opt Options) (*Reader, error) {
	if opt.Setting == "" {
		opt.Setting = "--lms-timeout"
	}
	loc, err := database.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("LMS: %w", err)
	}
	if loc.Dialect == database.Postgres {
		return nil, fmt.Errorf("LMS: %s: the Open edX LMS runs on MySQL; use a mysql:// URL (or sqlite:/// for a synthetic LMS)", loc)
	}
	db, err := database.OpenLocation(ctx, loc, database.Options{ReadOnly: true, MustExist: true, Timeout: opt.Timeout, Setting: opt.Setting})
	if err != nil {
		return nil, fmt.Errorf("LMS: %w", err)
	}
	if err := CheckSchema(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return &Reader{q: db, db: db}, nil
}

// NewReader reads through an already open database.
func NewReader(db *database.DB) *Reader { return &Reader{q: db, db: db} }

// DB returns the reader's database.
func (r *Reader) DB() *database.DB { return r.db }

// Close closes the reader's database.
func (r *Reader) Close() error { return r.db.Close() }

// Snapshot returns a Reader whose queries all see one consistent state of
// the LMS (a REPEATABLE READ transaction started WITH CONSISTENT SNAPSHOT on
// MySQL, a read transaction on SQLite), and a function that ends it. Two
// workflows run through one snapshot read identical data, whatever the LMS
// is doing meanwhile.
func (r *Reader) Snapshot(ctx context.Context) (*Reader, func(), error) {
	tx, err := r.db.Begin(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("LMS snapshot: %w", err)
	}
	if r.db.Dialect() == database.MySQL {
		// BEGIN already happened; a consistent snapshot is taken at the first
		// read of a REPEATABLE READ transaction, which is what we want.
		if _, err := tx.Exec(ctx, "SELECT 1"); err != nil {
			tx.Rollback()
			return nil, nil, fmt.Errorf("LMS snapshot: %w", err)
		}
	}
	return &Reader{q: tx, db: r.db}, func() { tx.Rollback() }, nil
}

// Statements returns the number of statements sent to the LMS so far.
func (r *Reader) Statements() int64 { return r.db.Statements() }

// Now returns the LMS server's current UTC time (SQLite: this process's
// clock), the upper bound of an incremental run.
func (r *Reader) Now(ctx context.Context) (time.Time, error) {
	if r.db.Dialect() != database.MySQL {
		return time.Now().UTC(), nil
	}
	var t database.NullTime
	if err := r.q.QueryRow(ctx, "SELECT UTC_TIMESTAMP(6)").Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("LMS clock: %w", err)
	}
	return t.Time, nil
}

// Pair is one learner in one course.
type Pair struct {
	CourseID string
	UserID   int
}

// Activity is a learner's StudentModule activity in a course within a time
// window.
type Activity struct {
	Pair
	// Last is the newest modified among the rows that matched.
	Last time.Time
}

// ModifiedBetween returns, for every (course, learner) pair with a
// StudentModule row modified in [from, to), the newest such modification.
// It is one range scan of the modified index over all courses: a course
// filter here would let the optimizer prefer the course_id index and read
// whole courses (DESIGN.md §9), so callers filter courses in Go.
func (r *Reader) ModifiedBetween(ctx context.Context, from, to time.Time) ([]Activity, error) {
	return r.activity(ctx, "modified", from, to)
}

// CreatedBetween returns the (course, learner) pairs with a StudentModule
// row created in [from, to), with the newest modified of those rows.
func (r *Reader) CreatedBetween(ctx context.Context, from, to time.Time) ([]Activity, error) {
	return r.activity(ctx, "created", from, to)
}

// ModifiedBetweenByDay is ModifiedBetween split by UTC day: for every
// (course, learner) pair and every day with a row of theirs modified in
// [from, to), the newest modification in that day. A window spanning days
// (an incremental run catching up) thus also yields each day's active
// learners. The day is only a grouping: the rows are still found by one
// range of the modified index.
func (r *Reader) ModifiedBetweenByDay(ctx context.Context, from, to time.Time) ([]Activity, error) {
	rows, err := r.q.Query(ctx, modifiedByDayQuery, r.q.Time(from), r.q.Time(to))
	if err != nil {
		return nil, fmt.Errorf("LMS: StudentModule rows modified in [%s, %s): %w", from.Format(time.RFC3339), to.Format(time.RFC3339), err)
	}
	return scanActivity(rows)
}

// modifiedByDayQuery groups by the row's UTC day (datetimes are stored in
// UTC); DATE() in the GROUP BY, not the WHERE, leaves the range intact.
const modifiedByDayQuery = `SELECT course_id, student_id, MAX(modified) FROM courseware_studentmodule
WHERE modified >= ? AND modified < ? GROUP BY course_id, student_id, DATE(modified)`

// CreatedModifiedLater returns the (course, learner) pairs with a
// StudentModule row created in [from, to) and modified at or after to, with
// the newest modified of those rows: together with ModifiedBetween for the
// same window, every pair with a row created or modified in it, since a
// row's modified is never before its created. It reads far less than a
// scan of the created range, whose rows ModifiedBetween mostly saw
// already: the optimizer takes the narrower of the two ranges — the
// modified range after the window (the hours since its end, for a daily
// run) or the created range (for an old day) — and checks the other
// condition on those rows only.
func (r *Reader) CreatedModifiedLater(ctx context.Context, from, to time.Time) ([]Activity, error) {
	rows, err := r.q.Query(ctx, createdModifiedLaterQuery, r.q.Time(from), r.q.Time(to), r.q.Time(to))
	if err != nil {
		return nil, fmt.Errorf("LMS: StudentModule rows created in [%s, %s) and modified later: %w", from.Format(time.RFC3339), to.Format(time.RFC3339), err)
	}
	return scanActivity(rows)
}

const createdModifiedLaterQuery = `SELECT course_id, student_id, MAX(modified) FROM courseware_studentmodule
WHERE created >= ? AND created < ? AND modified >= ? GROUP BY course_id, student_id`

// activityQuery is the day's (or window's) activity: a range on one
// indexed datetime column, grouped by course and learner.
func activityQuery(column string) string {
	return `SELECT course_id, student_id, MAX(modified) FROM courseware_studentmodule
WHERE ` + column + ` >= ? AND ` + column + ` < ? GROUP BY course_id, student_id`
}

func (r *Reader) activity(ctx context.Context, column string, from, to time.Time) ([]Activity, error) {
	rows, err := r.q.Query(ctx, activityQuery(column), r.q.Time(from), r.q.Time(to))
	if err != nil {
		return nil, fmt.Errorf("LMS: StudentModule rows %s in [%s, %s): %w", column, from.Format(time.RFC3339), to.Format(time.RFC3339), err)
	}
	return scanActivity(rows)
}

func scanActivity(rows *sql.Rows) ([]Activity, error) {
	defer rows.Close()
	var out []Activity
	for rows.Next() {
		var a Activity
		var last database.NullTime
		if err := rows.Scan(&a.CourseID, &a.UserID, &last); err != nil {
			return nil, fmt.Errorf("LMS: StudentModule activity: %w", err)
		}
		a.Last = last.Time
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("LMS: StudentModule activity: %w", err)
	}
	return out, nil
}

// GradesChangedBetween returns the (course, learner) pairs whose persisted
// subsection grade, subsection grade override or course grade was modified
// in [from, to), with the newest such modification: regrades and overrides
// change progress without touching StudentModule. Each query is a range on
// an index that leads with modified.
func (r *Reader) GradesChangedBetween(ctx context.Context, from, to time.Time) ([]Activity, error) {
	newest := map[Pair]time.Time{}
	for _, q := range gradesChangedQueries {
		rows, err := r.q.Query(ctx, q, r.q.Time(from), r.q.Time(to))
		if err != nil {
			return nil, fmt.Errorf("LMS: grades modified in [%s, %s): %w", from.Format(time.RFC3339), to.Format(time.RFC3339), err)
		}
		for rows.Next() {
			var p Pair
			var last database.NullTime
			if err := rows.Scan(&p.CourseID, &p.UserID, &last); err != nil {
				rows.Close()
				return nil, fmt.Errorf("LMS: grades modified: %w", err)
			}
			if last.Time.After(newest[p]) {
				newest[p] = last.Time
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("LMS: grades modified: %w", err)
		}
	}
	out := make([]Activity, 0, len(newest))
	for p, t := range newest {
		out = append(out, Activity{Pair: p, Last: t})
	}
	sort.Slice(out, func(i, j int) bool { return lessPair(out[i].Pair, out[j].Pair) })
	return out, nil
}

// gradesChangedQueries find grade changes in a time window, each a range on
// an index that leads with modified.
var gradesChangedQueries = []string{
	`SELECT course_id, user_id, MAX(modified) FROM grades_persistentsubsectiongrade
WHERE modified >= ? AND modified < ? GROUP BY course_id, user_id`,
	`SELECT course_id, user_id, MAX(modified) FROM grades_persistentcoursegrade
WHERE modified >= ? AND modified < ? GROUP BY course_id, user_id`,
	`SELECT g.course_id, g.user_id, MAX(o.modified) FROM grades_persistentsubsectiongradeoverride o
JOIN grades_persistentsubsectiongrade g ON g.id = o.grade_id
WHERE o.modified >= ? AND o.modified < ? GROUP BY g.course_id, g.user_id`,
}

func lessPair(a, b Pair) bool {
	if a.CourseID != b.CourseID {
		return a.CourseID < b.CourseID
	}
	return a.UserID < b.UserID
}

// Enrollment is a student_courseenrollment row.
type Enrollment struct {
	ID       int
	UserID   int
	CourseID string
	Created  *time.Time
	IsActive bool
	Mode     string
}

// EnrollmentsOf returns the enrollments of the given learners (in every
// course), in batches served by the (user_id, course_id) unique key.
func (r *Reader) EnrollmentsOf(ctx context.Context, userIDs []int) ([]Enrollment, error) {
	var out []Enrollment
	for _, batch := range database.Batches(userIDs, MaxInList) {
		rows, err := r.q.Query(ctx, fmt.Sprintf(enrollmentsOfQuery, database.Placeholders(len(batch))), database.Args(batch)...)
		if err != nil {
			return nil, fmt.Errorf("LMS: enrollments of %d learners: %w", len(batch), err)
		}
		out, err = scanEnrollments(rows, out)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CourseEnrollments returns every enrollment of a course (the legacy
// workflow's per-course sweep).
func (r *Reader) CourseEnrollments(ctx context.Context, courseID string) ([]Enrollment, error) {
	rows, err := r.q.Query(ctx, courseEnrollmentsQuery, courseID)
	if err != nil {
		return nil, fmt.Errorf("LMS: enrollments of course %s: %w", courseID, err)
	}
	out, err := scanEnrollments(rows, nil)
	// Sorted here: ORDER BY id makes MariaDB walk the primary key instead
	// of the course_id index.
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

// EnrollmentsAfter returns up to limit enrollments with id > afterID, in id
// order: the directory sync pages the table by its primary key.
func (r *Reader) EnrollmentsAfter(ctx context.Context, afterID, limit int) ([]Enrollment, error) {
	rows, err := r.q.Query(ctx, enrollmentsPageQuery, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("LMS: enrollments after id %d: %w", afterID, err)
	}
	return scanEnrollments(rows, nil)
}

func scanEnrollments(rows interface {
	Next() bool
	Scan(...any) error
	Err() error
	Close() error
}, out []Enrollment) ([]Enrollment, error) {
	defer rows.Close()
	for rows.Next() {
		var e Enrollment
		var created database.NullTime
		if err := rows.Scan(&e.ID, &e.UserID, &e.CourseID, &created, &e.IsActive, &e.Mode); err != nil {
			return nil, fmt.Errorf("LMS: enrollment: %w", err)
		}
		e.Created = created.Ptr()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("LMS: enrollments: %w", err)
	}
	return out, nil
}

const (
	enrollmentsOfQuery = `SELECT id, user_id, course_id, created, is_active, mode
FROM student_courseenrollment WHERE user_id IN (%s)`
	courseEnrollmentsQuery = `SELECT id, user_id, course_id, created, is_active, mode
FROM student_courseenrollment WHERE course_id = ?`
	enrollmentsPageQuery = `SELECT id, user_id, course_id, created, is_active, mode
FROM student_courseenrollment WHERE id > ? ORDER BY id LIMIT ?`
)
