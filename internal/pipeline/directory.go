package pipeline

import (
	"context"
	"time"

	"github.com/figures-analytics/figures/internal/lms"
	"github.com/figures-analytics/figures/internal/store"
)

// pageSize is how many rows a directory sync reads per primary-key page.
const pageSize = 5000

// syncDirectory mirrors into the store what the API shows and the daily
// counts are taken from: sites and their courses, courses, learners,
// enrollments (with whether the learner is course staff) and certificates.
// A full sync pages every table by its primary key and writes only the rows
// that changed; a partial sync (incremental runs between daily boundaries)
// only reads rows newer than those already mirrored.
func syncDirectory(ctx context.Context, r *lms.Reader, st *store.Store, courses []lms.Course, sites []lms.Site, bySite map[int][]string, full bool) error {
	var ss []store.Site
	for _, s := range sites {
		ss = append(ss, store.Site{ID: s.ID, Domain: s.Domain, Name: s.Name, Orgs: s.Orgs})
	}
	if err := st.SaveSites(ctx, ss, bySite); err != nil {
		return err
	}
	staffPairs, err := r.CourseStaff(ctx)
	if err != nil {
		return err
	}
	staff := map[lms.Pair]bool{}
	for _, p := range staffPairs {
		staff[p] = true
	}
	maxUser, maxEnrollment, maxCert, err := st.MaxIDs(ctx)
	if err != nil {
		return err
	}
	if full {
		maxUser, maxEnrollment, maxCert = 0, 0, 0
	}
	if err := syncUsers(ctx, r, st, maxUser, full); err != nil {
		return err
	}
	first, err := syncEnrollments(ctx, r, st, staff, maxEnrollment, full)
	if err != nil {
		return err
	}
	if err := syncCertificates(ctx, r, st, maxCert, full); err != nil {
		return err
	}
	var cs []store.Course
	for _, c := range courses {
		row := store.Course{CourseID: c.ID, DisplayName: c.DisplayName, Org: c.Org, Number: c.Number,
			Start: c.Start, End: c.End, SelfPaced: c.SelfPaced}
		if t, ok := first[c.ID]; ok {
			row.FirstEnrollment = &t
		}
		cs = append(cs, row)
	}
	if !full {
		// A partial sync has not seen every enrollment: keep the stored
		// first-enrollment dates by only writing courses it saw.
		return nil
	}
	return st.SaveCourses(ctx, cs)
}

func syncUsers(ctx context.Context, r *lms.Reader, st *store.Store, after int, full bool) error {
	have := map[int]string{}
	if full {
		var err error
		if have, err = st.LearnerDigests(ctx); err != nil {
			return err
		}
	}
	for {
		users, err := r.UsersAfter(ctx, after, pageSize)
		if err != nil {
			return err
		}
		if len(users) == 0 {
			return nil
		}
		var ls []store.Learner
		for _, u := range users {
			l := store.Learner{UserID: u.ID, Username: u.Username, Email: u.Email, FullName: u.Name,
				IsActive: u.IsActive, IsStaff: u.IsStaff, IsSuperuser: u.IsSuperuser, DateJoined: u.DateJoined,
				LastLogin: u.LastLogin, Country: u.Country, Gender: u.Gender, YearOfBirth: u.YearOfBirth,
				LevelOfEducation: u.LevelOfEducation, Language: u.Language, HasProfile: u.HasProfile}
			if d, ok := have[u.ID]; ok && d == l.Digest() {
				continue
			}
			ls = append(ls, l)
		}
		if err := st.SaveLearners(ctx, ls); err != nil {
			return err
		}
		after = users[len(users)-1].ID
	}
}

// syncEnrollments mirrors enrollments and returns each course's first
// enrollment time (any state, staff included; NULL created ignored).
func syncEnrollments(ctx context.Context, r *lms.Reader, st *store.Store, staff map[lms.Pair]bool, after int, full bool) (map[string]time.Time, error) {
	// Every enrollment after the highest mirrored id is new; only a full
	// sync needs the mirror's state to find the rows that changed.
	have := map[store.EnrollmentKey]store.EnrollmentState{}
	if full {
		var err error
		if have, err = st.EnrollmentStates(ctx); err != nil {
			return nil, err
		}
	}
	first := map[string]time.Time{}
	seen := map[store.EnrollmentKey]bool{}
	for {
		page, err := r.EnrollmentsAfter(ctx, after, pageSize)
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			break
		}
		var changed []store.Enrollment
		for _, e := range page {
			k := store.EnrollmentKey{UserID: e.UserID, CourseID: e.CourseID}
			seen[k] = true
			if e.Created != nil {
				if t, ok := first[e.CourseID]; !ok || e.Created.Before(t) {
					first[e.CourseID] = *e.Created
				}
			}
			now := store.EnrollmentState{ID: e.ID, Created: e.Created, IsActive: e.IsActive, Mode: e.Mode,
				IsCourseStaff: staff[lms.Pair{CourseID: e.CourseID, UserID: e.UserID}]}
			if old, ok := have[k]; ok && sameEnrollment(old, now) {
				continue
			}
			changed = append(changed, store.Enrollment{ID: e.ID, UserID: e.UserID, CourseID: e.CourseID, Created: e.Created,
				IsActive: e.IsActive, Mode: e.Mode, IsCourseStaff: now.IsCourseStaff})
		}
		if err := st.SaveEnrollments(ctx, changed); err != nil {
			return nil, err
		}
		after = page[len(page)-1].ID
	}
	if full {
		var gone []store.EnrollmentKey
		for k := range have {
			if !seen[k] {
				gone = append(gone, k)
			}
		}
		if err := st.DeleteEnrollments(ctx, gone); err != nil {
			return nil, err
		}
	}
	return first, nil
}

func sameEnrollment(a, b store.EnrollmentState) bool {
	if a.ID != b.ID || a.IsActive != b.IsActive || a.Mode != b.Mode || a.IsCourseStaff != b.IsCourseStaff {
		return false
	}
	if (a.Created == nil) != (b.Created == nil) {
		return false
	}
	return a.Created == nil || a.Created.Equal(*b.Created)
}

func syncCertificates(ctx context.Context, r *lms.Reader, st *store.Store, after int, full bool) error {
	have := map[store.EnrollmentKey]string{}
	if full {
		var err error
		if have, err = st.CertificateDigests(ctx); err != nil {
			return err
		}
	}
	for {
		page, err := r.CertificatesAfter(ctx, after, pageSize)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		var cs []store.Certificate
		for _, c := range page {
			sc := store.Certificate{ID: c.ID, UserID: c.UserID, CourseID: c.CourseID, Status: c.Status, CreatedDate: c.CreatedDate}
			if d, ok := have[store.EnrollmentKey{UserID: c.UserID, CourseID: c.CourseID}]; ok && d == sc.Digest() {
				continue
			}
			cs = append(cs, sc)
		}
		if err := st.SaveCertificates(ctx, cs); err != nil {
			return err
		}
		after = page[len(page)-1].ID
	}
}
