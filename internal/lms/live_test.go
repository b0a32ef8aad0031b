package lms_test

import (
	"context"
	"testing"

	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/lms"
	. "github.com/figures-analytics/figures/internal/lms/lmstest"
)

func TestActiveUsers(t *testing.T) {
	url := dbtest.SQLiteURL(t, "lms.db")
	l := New(t, url)
	const a, b, c = "course-v1:O+A+R", "course-v1:O+B+R", "course-v1:O+C+R"
	at := At("2026-11-10 12:00:00")
	l.Module(1, a, "block-v1:O+A+R+type@problem+block@p", 1.0, 1.0, at, at)
	l.Module(1, b, "block-v1:O+B+R+type@problem+block@p", 1.0, 1.0, at, at)
	l.Module(2, b, "block-v1:O+B+R+type@problem+block@p", 1.0, 1.0, at, At("2026-11-30 23:59:59.999999"))
	l.Module(3, c, "block-v1:O+C+R+type@problem+block@p", 1.0, 1.0, at, at)
	l.Module(4, a, "block-v1:O+A+R+type@problem+block@p", 1.0, 1.0, at, At("2026-12-01 00:00:00"))
	r, err := lms.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	from, to := At("2026-11-01 00:00:00"), At("2026-12-01 00:00:00")
	n, err := r.ActiveUsers(context.Background(), []string{a, b}, from, to)
	if err != nil || n != 2 {
		t.Errorf("ActiveUsers = %d, %v; want 2 (u1 in two courses once, u2; not u3's course, not u4 in December)", n, err)
	}
	by, err := r.ActiveUsersByCourse(context.Background(), []string{a, b}, from, to)
	if err != nil || len(by) != 2 || by[a] != 1 || by[b] != 2 {
		t.Errorf("ActiveUsersByCourse = %v, %v; want %s:1 %s:2", by, err, a, b)
	}
}
