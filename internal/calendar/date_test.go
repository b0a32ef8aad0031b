package calendar_test

import (
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/calendar"
)

func TestDate(t *testing.T) {
	d := calendar.MustParse("2026-12-31")
	if got := d.AddDays(1).String(); got != "2027-01-01" {
		t.Errorf("AddDays: %s", got)
	}
	if got := d.MonthStart().String(); got != "2026-12-01" {
		t.Errorf("MonthStart: %s", got)
	}
	if got := calendar.MustParse("2026-02-10").MonthEnd().String(); got != "2026-02-28" {
		t.Errorf("MonthEnd: %s", got)
	}
	if got := d.AddMonths(2).String(); got != "2027-02-01" {
		t.Errorf("AddMonths: %s", got)
	}
	if !d.End().Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) || !d.Start().Equal(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("bounds: %s %s", d.Start(), d.End())
	}
	// A time in another zone belongs to its UTC day.
	paris := time.FixedZone("CET", 3600)
	if got := calendar.Of(time.Date(2027, 1, 1, 0, 30, 0, 0, paris)).String(); got != "2026-12-31" {
		t.Errorf("Of: %s", got)
	}
	if n := len(calendar.Range(calendar.MustParse("2026-11-28"), calendar.MustParse("2026-12-02"))); n != 5 {
		t.Errorf("Range: %d days", n)
	}
	if _, err := calendar.Parse("2026-13-01"); err == nil {
		t.Error("Parse accepted month 13")
	}
	var s calendar.Date
	for _, src := range []any{"2026-11-20", []byte("2026-11-20"), time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), "2026-11-20 00:00:00"} {
		if err := s.Scan(src); err != nil || s.String() != "2026-11-20" {
			t.Errorf("Scan(%v) = %s, %v", src, s, err)
		}
	}
}
