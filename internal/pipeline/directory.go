package pipeline

import (
	"context"
	"math"
	"time"

	"github.com/figures-analytics/figures/internal/lms"
	"github.com/figures-analytics/figures/internal/store"
)

// pageSize is how many rows a directory sync reads per primary-key page (a
// variable so that tests can make pages small).
var pageSize = 5000

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

// pagesAhead is how many pages the LMS reader may fetch ahead of the
// comparison with the mirror: enough to overlap the two, few enough to
// keep memory to a few pages whatever the installation's size.
const pagesAhead = 2

// pageStream fetches pages of LMS rows by primary key in a goroutine, ahead
// of their consumer, so that reading the LMS overlaps with the store's
// reads and writes of the previous page.
type pageStream[T any] struct {
	pages  chan []T
	err    error
	cancel context.CancelFunc
}

// fetchPages starts fetching pages after id after; fetch returns the page
// after an id, id a row's id.
func fetchPages[T any](ctx context.Context, after int, fetch func(ctx context.Context, after int) ([]T, error), id func(T) int) *pageStream[T] {
	ctx, cancel := context.WithCancel(ctx)
	ps := &pageStream[T]{pages: make(chan []T, pagesAhead), cancel: cancel}
	go func() {
		defer close(ps.pages)
		for {
			page, err := fetch(ctx, after)
			if err != nil {
				ps.err = err
				return
			}
			if len(page) == 0 {
				return
			}
			select {
			case ps.pages <- page:
			case <-ctx.Done():
				ps.err = ctx.Err()
				return
			}
			after = id(page[len(page)-1])
		}
	}()
	return ps
}

// stop ends the fetching early and waits for the fetcher to finish.
func (ps *pageStream[T]) stop() {
	ps.cancel()
	for range ps.pages {
	}
}

// done returns the fetcher's error once every page has been consumed.
func (ps *pageStream[T]) done() error {
	ps.cancel()
	return ps.err
}

// syncUsers mirrors learners, page by page of user ids: a full sync
// compares each page with the mirror's learners of the same id range and
// writes only those that changed.
func syncUsers(ctx context.Context, r *lms.Reader, st *store.Store, after int, full bool) error {
	ps := fetchPages(ctx, after, func(ctx context.Context, after int) ([]lms.User, error) { return r.UsersAfter(ctx, after, pageSize) },
		func(u lms.User) int { return u.ID })
	defer ps.stop()
	for users := range ps.pages {
		last := users[len(users)-1].ID
		have := map[int]string{}
		if full {
			var err error
			if have, err = st.LearnerDigests(ctx, after, last); err != nil {
				return err
			}
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
		after = last
	}
	return ps.done()
}

// syncEnrollments mirrors enrollments, page by page of enrollment ids, and
// returns each course's first enrollment time (any state, staff included;
// NULL created ignored). A full sync compares each page with the mirror's
// enrollments of the same id range, writes those that changed, and deletes
// the mirrored enrollments the LMS no longer has.
func syncEnrollments(ctx context.Context, r *lms.Reader, st *store.Store, staff map[lms.Pair]bool, after int, full bool) (map[string]time.Time, error) {
	ps := fetchPages(ctx, after, func(ctx context.Context, after int) ([]lms.Enrollment, error) {
		return r.EnrollmentsAfter(ctx, after, pageSize)
	}, func(e lms.Enrollment) int { return e.ID })
	defer ps.stop()
	first := map[string]time.Time{}
	// gone holds mirrored enrollments whose id the LMS no longer has; one
	// the LMS shows again under another id (deleted and re-created) is
	// updated instead.
	gone := map[store.EnrollmentKey]bool{}
	for page := range ps.pages {
		last := page[len(page)-1].ID
		have := map[store.EnrollmentKey]store.EnrollmentState{}
		if full {
			var err error
			if have, err = st.EnrollmentStates(ctx, after, last); err != nil {
				return nil, err
			}
		}
		inPage := make(map[store.EnrollmentKey]bool, len(page))
		var changed []store.Enrollment
		for _, e := range page {
			k := store.EnrollmentKey{UserID: e.UserID, CourseID: e.CourseID}
			inPage[k] = true
			delete(gone, k)
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
		// A mirrored enrollment of this id range the page does not show is
		// gone, unless a later page shows it under a new id. (Under an
		// older id, an earlier page already moved it out of this range.)
		for k := range have {
			if !inPage[k] {
				gone[k] = true
			}
		}
		if err := st.SaveEnrollments(ctx, changed); err != nil {
			return nil, err
		}
		after = last
	}
	if err := ps.done(); err != nil {
		return nil, err
	}
	if !full {
		return first, nil
	}
	// Mirrored enrollments past the LMS's last id are gone too.
	tail, err := st.EnrollmentStates(ctx, after, math.MaxInt64)
	if err != nil {
		return nil, err
	}
	for k := range tail {
		gone[k] = true
	}
	keys := make([]store.EnrollmentKey, 0, len(gone))
	for k := range gone {
		keys = append(keys, k)
	}
	if err := st.DeleteEnrollments(ctx, keys); err != nil {
		return nil, err
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

// syncCertificates mirrors certificates, page by page of certificate ids;
// a full sync writes only those that changed.
func syncCertificates(ctx context.Context, r *lms.Reader, st *store.Store, after int, full bool) error {
	ps := fetchPages(ctx, after, func(ctx context.Context, after int) ([]lms.Certificate, error) {
		return r.CertificatesAfter(ctx, after, pageSize)
	}, func(c lms.Certificate) int { return c.ID })
	defer ps.stop()
	for page := range ps.pages {
		last := page[len(page)-1].ID
		have := map[store.EnrollmentKey]string{}
		if full {
			var err error
			if have, err = st.CertificateDigests(ctx, after, last); err != nil {
				return err
			}
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
		after = last
	}
	return ps.done()
}
