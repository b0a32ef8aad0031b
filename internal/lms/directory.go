package lms

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/figures-analytics/figures/internal/database"
)

// User is an auth_user row with the profile fields figures shows.
type User struct {
	ID               int
	Username         string
	Email            string
	Name             string
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

// UsersAfter returns up to limit users with id > afterID, in id order, with
// their profiles (users without a profile included): the directory sync
// pages auth_user by its primary key.
func (r *Reader) UsersAfter(ctx context.Context, afterID, limit int) ([]User, error) {
	rows, err := r.q.Query(ctx, usersPageQuery, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("LMS: users after id %d: %w", afterID, err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var (
			u                                  User
			joined, login                      database.NullTime
			pid, yob                           sql.NullInt64
			name, country, gender, edu, langue sql.NullString
		)
		if err := rows.Scan(&u.ID, &u.Username, &u.Email, &u.IsActive, &u.IsStaff, &u.IsSuperuser,
			&joined, &login, &pid, &name, &country, &gender, &yob, &edu, &langue); err != nil {
			return nil, fmt.Errorf("LMS: user: %w", err)
		}
		u.DateJoined, u.LastLogin = joined.Time, login.Ptr()
		u.HasProfile = pid.Valid
		u.Name, u.Country, u.Gender, u.LevelOfEducation, u.Language = name.String, country.String, gender.String, edu.String, langue.String
		if yob.Valid {
			y := int(yob.Int64)
			u.YearOfBirth = &y
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("LMS: users: %w", err)
	}
	return out, nil
}

const usersPageQuery = `SELECT u.id, u.username, u.email, u.is_active, u.is_staff, u.is_superuser,
 u.date_joined, u.last_login, p.id, p.name, p.country, p.gender, p.year_of_birth, p.level_of_education, p.language
FROM auth_user u LEFT JOIN auth_userprofile p ON p.user_id = u.id
WHERE u.id > ? ORDER BY u.id LIMIT ?`

const certificatesPageQuery = `SELECT id, user_id, course_id, status, created_date
FROM certificates_generatedcertificate WHERE id > ? ORDER BY id LIMIT ?`

// courseStaffQuery reads the roles by role only: the few rows come from the
// role index, and course-level ones are picked in Go.
const courseStaffQuery = `SELECT course_id, user_id FROM student_courseaccessrole WHERE role IN (?, ?, ?)`

// Certificate is a certificates_generatedcertificate row.
type Certificate struct {
	ID          int
	UserID      int
	CourseID    string
	Status      string
	CreatedDate time.Time
}

// CertificatesAfter returns up to limit certificates with id > afterID, in
// id order.
func (r *Reader) CertificatesAfter(ctx context.Context, afterID, limit int) ([]Certificate, error) {
	rows, err := r.q.Query(ctx, certificatesPageQuery, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("LMS: certificates after id %d: %w", afterID, err)
	}
	defer rows.Close()
	var out []Certificate
	for rows.Next() {
		var c Certificate
		var created database.NullTime
		if err := rows.Scan(&c.ID, &c.UserID, &c.CourseID, &c.Status, &created); err != nil {
			return nil, fmt.Errorf("LMS: certificate: %w", err)
		}
		c.CreatedDate = created.Time
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("LMS: certificates: %w", err)
	}
	return out, nil
}

// ExcludedRoles are the course access roles whose holders are left out of a
// course's enrollment count, as the original Figures does.
var ExcludedRoles = []string{"staff", "instructor", "ccx_coach"}

// CourseStaff returns the (course, user) pairs holding one of ExcludedRoles
// on a specific course. Org-wide roles (course_id ”) and global staff are
// not course staff here.
func (r *Reader) CourseStaff(ctx context.Context) ([]Pair, error) {
	rows, err := r.q.Query(ctx, courseStaffQuery, ExcludedRoles[0], ExcludedRoles[1], ExcludedRoles[2])
	if err != nil {
		return nil, fmt.Errorf("LMS: course staff roles: %w", err)
	}
	defer rows.Close()
	var out []Pair
	seen := map[Pair]bool{}
	for rows.Next() {
		var p Pair
		if err := rows.Scan(&p.CourseID, &p.UserID); err != nil {
			return nil, fmt.Errorf("LMS: course staff roles: %w", err)
		}
		if p.CourseID == "" || seen[p] {
			continue // an org-wide role, or the same user with two roles
		}
		seen[p] = true
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("LMS: course staff roles: %w", err)
	}
	return out, nil
}
