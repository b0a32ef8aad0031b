package pipeline

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/lms"
	"github.com/figures-analytics/figures/internal/lms/lmstest"
	"github.com/figures-analytics/figures/internal/store"
	"github.com/figures-analytics/figures/internal/store/storetest"
)

// The directory sync compares the mirror with the LMS one page of ids at a
// time: on pages of two rows, a second sync writes exactly what changed —
// a deactivated enrollment, a deleted one, one deleted and re-created under
// a new id, a renamed learner, a new certificate status — and the mirror
// ends equal to the LMS.
func TestSyncDirectoryPages(t *testing.T) {
	defer func(n int) { pageSize = n }(pageSize)
	pageSize = 2
	dbtest.EachBackend(t, testSyncDirectoryPages)
}

func testSyncDirectoryPages(t *testing.T, b dbtest.Backend) {
	ctx := context.Background()
	l := lmstest.NewOf(t, b.LMS)
	url := l.URL
	at := lmstest.At("2026-10-01 09:00:00")
	l.Site(1, "lms.example.com", nil)
	courses := []string{"course-v1:Org+C1+R", "course-v1:Org+C2+R"}
	for _, c := range courses {
		l.Course(c, "Org", c)
	}
	for u := 1; u <= 5; u++ {
		l.User(u, "user"+string(rune('0'+u)), at, "User")
		for _, c := range courses {
			l.Enroll(u, c, at.Add(time.Duration(u)*time.Hour), true)
		}
	}
	l.Certificate(1, courses[0], "notpassing", at)
	l.Certificate(2, courses[0], "downloadable", at)
	st, err := store.Open(ctx, storetest.URL(t, b.Store))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r, err := lms.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sync := func() {
		t.Helper()
		cs, err := r.Courses(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sites, err := r.Sites(ctx)
		if err != nil {
			t.Fatal(err)
		}
		bySite, _ := lms.Membership(sites, cs, 1)
		if err := syncDirectory(ctx, r, st, cs, sites, bySite, true); err != nil {
			t.Fatal(err)
		}
	}
	sync()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := l.DB.Exec(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`UPDATE student_courseenrollment SET is_active = 0 WHERE user_id = 2 AND course_id = ?`, courses[1])
	exec(`DELETE FROM student_courseenrollment WHERE user_id = 3 AND course_id = ?`, courses[0])
	exec(`DELETE FROM student_courseenrollment WHERE user_id = 1 AND course_id = ?`, courses[0])
	l.Enroll(1, courses[0], at.Add(48*time.Hour), true)            // re-created: a new, higher id
	exec(`DELETE FROM student_courseenrollment WHERE user_id = 5`) // the last ids
	exec(`UPDATE auth_user SET username = 'renamed' WHERE id = 4`)
	exec(`UPDATE certificates_generatedcertificate SET status = 'downloadable' WHERE user_id = 1`)
	sync()

	want, err := r.EnrollmentsAfter(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.EnrollmentStates(ctx, 0, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("mirror holds %d enrollments, the LMS %d: %v", len(got), len(want), got)
	}
	for _, e := range want {
		m, ok := got[store.EnrollmentKey{UserID: e.UserID, CourseID: e.CourseID}]
		if !ok || m.ID != e.ID || m.IsActive != e.IsActive || !m.Created.Equal(*e.Created) {
			t.Errorf("enrollment %d (%d in %s): mirror %+v, ok %v", e.ID, e.UserID, e.CourseID, m, ok)
		}
	}
	digests, err := st.LearnerDigests(ctx, 0, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	users, err := r.UsersAfter(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		l := store.Learner{UserID: u.ID, Username: u.Username, Email: u.Email, FullName: u.Name, IsActive: u.IsActive,
			IsStaff: u.IsStaff, IsSuperuser: u.IsSuperuser, DateJoined: u.DateJoined, LastLogin: u.LastLogin, Country: u.Country,
			Gender: u.Gender, YearOfBirth: u.YearOfBirth, LevelOfEducation: u.LevelOfEducation, Language: u.Language, HasProfile: u.HasProfile}
		if digests[u.ID] != l.Digest() {
			t.Errorf("learner %d not mirrored as it is (username %s)", u.ID, u.Username)
		}
	}
	certs, err := st.CertificateDigests(ctx, 0, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) != 2 {
		t.Errorf("certificates mirrored: %v", certs)
	}
	for k, d := range certs {
		if k.UserID == 1 && !strings.Contains(d, "downloadable") {
			t.Errorf("user 1's certificate: %q, want downloadable", d)
		}
	}
}
