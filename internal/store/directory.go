package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/figures-analytics/figures/internal/database"
)

// Site is a figures_site row: a django_site as the pipeline resolved it.
type Site struct {
	ID     int
	Domain string
	Name   string
	// Orgs is the site's course_org_filter; empty for a standalone install,
	// where every course belongs to the site.
	Orgs []string
}

// Course is a figures_course row.
type Course struct {
	CourseID        string
	DisplayName     string
	Org             string
	Number          string
	Start, End      *time.Time
	SelfPaced       bool
	FirstEnrollment *time.Time
}

// Learner is a figures_learner row: an LMS user with their profile.
type Learner struct {
	UserID           int
	Username         string
	Email            string
	FullName         string
	IsActive         bool
	IsStaff          bool
	IsSuperuser      bool
	DateJoined       time.Time
	LastLogin        *time.Time
	Country          string
	Gender           string
	YearOfBirth      *int
	LevelOfEducation string
	Language         string
	HasProfile       bool
}

// Enrollment is a figures_courseenrollment row.
type Enrollment struct {
	ID            int
	UserID        int
	CourseID      string
	Created       *time.Time
	IsActive      bool
	Mode          string
	IsCourseStaff bool
}

// Certificate is a figures_certificate row.
type Certificate struct {
	ID          int
	UserID      int
	CourseID    string
	Status      string
	CreatedDate time.Time
}

func timeArg(q database.Querier, t *time.Time) any {
	if t == nil {
		return nil
	}
	return q.Time(*t)
}

// SaveSites replaces the sites and their course membership.
func (s *Store) SaveSites(ctx context.Context, sites []Site, courses map[int][]string) error {
	now := time.Now()
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM figures_sitecourse"); err != nil {
			return fmt.Errorf("store: site courses: %w", err)
		}
		var siteRows, scRows [][]any
		for _, st := range sites {
			orgs := st.Orgs
			if orgs == nil {
				orgs = []string{}
			}
			b, _ := json.Marshal(orgs)
			siteRows = append(siteRows, []any{st.ID, st.Domain, st.Name, string(b)})
			for _, c := range courses[st.ID] {
				scRows = append(scRows, []any{st.ID, c})
			}
		}
		u := upsert{table: "figures_site", key: []string{"id"}, cols: []string{"id", "domain", "name", "org_filter"},
			update: []string{"domain", "name", "org_filter"}, modifiedOnly: true}
		if err := u.write(ctx, tx, now, siteRows); err != nil {
			return err
		}
		sc := upsert{table: "figures_sitecourse", key: []string{"site_id", "course_id"}, cols: []string{"site_id", "course_id"}, noTimestamps: true}
		return sc.write(ctx, tx, now, scRows)
	})
}

// Sites returns the stored sites, in id order.
func (s *Store) Sites(ctx context.Context) ([]Site, error) {
	rows, err := s.db.Query(ctx, `SELECT id, domain, name, org_filter FROM figures_site ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: sites: %w", err)
	}
	defer rows.Close()
	var out []Site
	for rows.Next() {
		var st Site
		var orgs string
		if err := rows.Scan(&st.ID, &st.Domain, &st.Name, &orgs); err != nil {
			return nil, fmt.Errorf("store: sites: %w", err)
		}
		if err := json.Unmarshal([]byte(orgs), &st.Orgs); err != nil {
			return nil, fmt.Errorf("store: site %d org filter: %w", st.ID, err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// SaveCourses writes course rows.
func (s *Store) SaveCourses(ctx context.Context, courses []Course) error {
	rows := make([][]any, len(courses))
	for i, c := range courses {
		rows[i] = []any{c.CourseID, truncate(c.DisplayName, 255), truncate(c.Org, 255), truncate(c.Number, 255),
			timeArg(s.db, c.Start), timeArg(s.db, c.End), c.SelfPaced, timeArg(s.db, c.FirstEnrollment)}
	}
	u := upsert{table: "figures_course", key: []string{"course_id"},
		cols:         []string{"course_id", "display_name", "org", "number", "start_date", "end_date", "self_paced", "first_enrollment"},
		update:       []string{"display_name", "org", "number", "start_date", "end_date", "self_paced", "first_enrollment"},
		modifiedOnly: true}
	return u.write(ctx, s.db, time.Now(), rows)
}

var learnerUpsert = upsert{table: "figures_learner", key: []string{"user_id"},
	cols: []string{"user_id", "username", "email", "fullname", "is_active", "is_staff", "is_superuser", "date_joined",
		"last_login", "country", "gender", "year_of_birth", "level_of_education", "language", "has_profile"},
	update: []string{"username", "email", "fullname", "is_active", "is_staff", "is_superuser", "date_joined",
		"last_login", "country", "gender", "year_of_birth", "level_of_education", "language", "has_profile"},
	noTimestamps: true}

// SaveLearners writes learner rows.
func (s *Store) SaveLearners(ctx context.Context, learners []Learner) error {
	rows := make([][]any, len(learners))
	for i, l := range learners {
		var yob any
		if l.YearOfBirth != nil {
			yob = *l.YearOfBirth
		}
		rows[i] = []any{l.UserID, l.Username, l.Email, truncate(l.FullName, 255), l.IsActive, l.IsStaff, l.IsSuperuser,
			s.db.Time(l.DateJoined), timeArg(s.db, l.LastLogin), truncate(l.Country, 2), truncate(l.Gender, 6), yob,
			truncate(l.LevelOfEducation, 6), truncate(l.Language, 255), l.HasProfile}
	}
	return learnerUpsert.write(ctx, s.db, time.Now(), rows)
}

var enrollmentUpsert = upsert{table: "figures_courseenrollment", key: []string{"user_id", "course_id"},
	cols:         []string{"user_id", "course_id", "id", "created", "is_active", "mode", "is_course_staff"},
	update:       []string{"id", "created", "is_active", "mode", "is_course_staff"},
	noTimestamps: true}

// SaveEnrollments writes enrollment rows.
func (s *Store) SaveEnrollments(ctx context.Context, enrollments []Enrollment) error {
	rows := make([][]any, len(enrollments))
	for i, e := range enrollments {
		rows[i] = []any{e.UserID, e.CourseID, e.ID, timeArg(s.db, e.Created), e.IsActive, truncate(e.Mode, 100), e.IsCourseStaff}
	}
	return enrollmentUpsert.write(ctx, s.db, time.Now(), rows)
}

var certificateUpsert = upsert{table: "figures_certificate", key: []string{"user_id", "course_id"},
	cols:         []string{"user_id", "course_id", "id", "status", "created_date"},
	update:       []string{"id", "status", "created_date"},
	noTimestamps: true}

// SaveCertificates writes certificate rows.
func (s *Store) SaveCertificates(ctx context.Context, certs []Certificate) error {
	rows := make([][]any, len(certs))
	for i, c := range certs {
		rows[i] = []any{c.UserID, c.CourseID, c.ID, truncate(c.Status, 32), s.db.Time(c.CreatedDate)}
	}
	return certificateUpsert.write(ctx, s.db, time.Now(), rows)
}

// EnrollmentKey identifies an enrollment in the mirror.
type EnrollmentKey struct {
	UserID   int
	CourseID string
}

// EnrollmentState is what the directory sync compares to decide whether an
// enrollment row changed.
type EnrollmentState struct {
	ID            int
	Created       *time.Time
	IsActive      bool
	Mode          string
	IsCourseStaff bool
}

// EnrollmentStates returns the mirrored enrollments whose LMS id is in
// (afterID, lastID], keyed by (user, course): the directory sync compares
// the mirror with the LMS one page of ids at a time, so neither side is
// ever held whole in memory.
func (s *Store) EnrollmentStates(ctx context.Context, afterID, lastID int) (map[EnrollmentKey]EnrollmentState, error) {
	rows, err := s.db.Query(ctx, `SELECT user_id, course_id, id, created, is_active, mode, is_course_staff FROM figures_courseenrollment
WHERE id > ? AND id <= ?`, idBound(afterID), idBound(lastID))
	if err != nil {
		return nil, fmt.Errorf("store: enrollments: %w", err)
	}
	defer rows.Close()
	out := map[EnrollmentKey]EnrollmentState{}
	for rows.Next() {
		var k EnrollmentKey
		var st EnrollmentState
		var created database.NullTime
		if err := rows.Scan(&k.UserID, &k.CourseID, &st.ID, &created, &st.IsActive, &st.Mode, &st.IsCourseStaff); err != nil {
			return nil, fmt.Errorf("store: enrollments: %w", err)
		}
		st.Created = created.Ptr()
		out[k] = st
	}
	return out, rows.Err()
}

// idBound clamps an id bound to the range of the mirrored id columns (int
// in MySQL, integer in PostgreSQL: 32 bits, as the LMS's own ids), so a
// caller may pass math.MaxInt64 for "no upper bound": PostgreSQL refuses
// to compare an int4 column with a larger parameter.
func idBound(id int) int { return max(min(id, math.MaxInt32), math.MinInt32) }

// DeleteEnrollments removes mirrored enrollments the LMS no longer has.
func (s *Store) DeleteEnrollments(ctx context.Context, keys []EnrollmentKey) error {
	for _, k := range keys {
		if _, err := s.db.Exec(ctx, `DELETE FROM figures_courseenrollment WHERE user_id = ? AND course_id = ?`, k.UserID, k.CourseID); err != nil {
			return fmt.Errorf("store: delete enrollment %d/%s: %w", k.UserID, k.CourseID, err)
		}
	}
	return nil
}

// MaxIDs returns the largest LMS ids mirrored so far for users, enrollments
// and certificates: where a sync of new rows starts.
func (s *Store) MaxIDs(ctx context.Context) (users, enrollments, certificates int, err error) {
	for _, x := range []struct {
		q   string
		dst *int
	}{
		{"SELECT COALESCE(MAX(user_id), 0) FROM figures_learner", &users},
		{"SELECT COALESCE(MAX(id), 0) FROM figures_courseenrollment", &enrollments},
		{"SELECT COALESCE(MAX(id), 0) FROM figures_certificate", &certificates},
	} {
		if err = s.db.QueryRow(ctx, x.q).Scan(x.dst); err != nil {
			return 0, 0, 0, fmt.Errorf("store: mirrored ids: %w", err)
		}
	}
	return users, enrollments, certificates, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// Digest returns a string that changes whenever a mirrored field changes,
// so a sync can skip unchanged learners. It is only ever compared with
// another Digest computed by the same program, never stored. Built by hand
// rather than with fmt: a full sync computes one per learner on each side,
// hundreds of thousands of them.
func (l Learner) Digest() string {
	b := make([]byte, 0, 160)
	for _, f := range []string{l.Username, l.Email, truncate(l.FullName, 255), truncate(l.Country, 2), truncate(l.Gender, 6),
		truncate(l.LevelOfEducation, 6), truncate(l.Language, 255)} {
		b = append(b, f...)
		b = append(b, 0)
	}
	for _, f := range []bool{l.IsActive, l.IsStaff, l.IsSuperuser, l.HasProfile} {
		b = strconv.AppendBool(b, f)
	}
	b = append(b, 0)
	b = strconv.AppendInt(b, l.DateJoined.UnixNano(), 10)
	b = append(b, 0)
	if l.LastLogin != nil {
		b = strconv.AppendInt(b, l.LastLogin.UnixNano(), 10)
	}
	b = append(b, 0)
	if l.YearOfBirth != nil {
		b = strconv.AppendInt(b, int64(*l.YearOfBirth), 10)
	}
	return string(b)
}

// LearnerDigests returns the Digest of every mirrored learner whose id is
// in (afterID, lastID].
func (s *Store) LearnerDigests(ctx context.Context, afterID, lastID int) (map[int]string, error) {
	rows, err := s.db.Query(ctx, `SELECT user_id, username, email, fullname, is_active, is_staff, is_superuser, date_joined,
 last_login, country, gender, year_of_birth, level_of_education, language, has_profile FROM figures_learner
WHERE user_id > ? AND user_id <= ?`, idBound(afterID), idBound(lastID))
	if err != nil {
		return nil, fmt.Errorf("store: learners: %w", err)
	}
	defer rows.Close()
	out := map[int]string{}
	for rows.Next() {
		var l Learner
		var joined, login database.NullTime
		var yob sql.NullInt64
		if err := rows.Scan(&l.UserID, &l.Username, &l.Email, &l.FullName, &l.IsActive, &l.IsStaff, &l.IsSuperuser, &joined,
			&login, &l.Country, &l.Gender, &yob, &l.LevelOfEducation, &l.Language, &l.HasProfile); err != nil {
			return nil, fmt.Errorf("store: learners: %w", err)
		}
		l.DateJoined, l.LastLogin = joined.Time, login.Ptr()
		if yob.Valid {
			y := int(yob.Int64)
			l.YearOfBirth = &y
		}
		out[l.UserID] = l.Digest()
	}
	return out, rows.Err()
}

// CertificateDigests returns, for every mirrored certificate whose LMS id
// is in (afterID, lastID], a string that changes when the certificate
// does.
func (s *Store) CertificateDigests(ctx context.Context, afterID, lastID int) (map[EnrollmentKey]string, error) {
	rows, err := s.db.Query(ctx, `SELECT user_id, course_id, id, status, created_date FROM figures_certificate
WHERE id > ? AND id <= ?`, idBound(afterID), idBound(lastID))
	if err != nil {
		return nil, fmt.Errorf("store: certificates: %w", err)
	}
	defer rows.Close()
	out := map[EnrollmentKey]string{}
	for rows.Next() {
		var c Certificate
		var created database.NullTime
		if err := rows.Scan(&c.UserID, &c.CourseID, &c.ID, &c.Status, &created); err != nil {
			return nil, fmt.Errorf("store: certificates: %w", err)
		}
		c.CreatedDate = created.Time
		out[EnrollmentKey{c.UserID, c.CourseID}] = c.Digest()
	}
	return out, rows.Err()
}

// Digest returns a string that changes whenever the certificate does (see
// Learner.Digest).
func (c Certificate) Digest() string {
	b := make([]byte, 0, 64)
	b = strconv.AppendInt(b, int64(c.ID), 10)
	b = append(b, 0)
	b = append(b, truncate(c.Status, 32)...)
	b = append(b, 0)
	b = strconv.AppendInt(b, c.CreatedDate.UnixNano(), 10)
	return string(b)
}
