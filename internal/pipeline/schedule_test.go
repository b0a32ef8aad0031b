package pipeline_test

import (
	"testing"

	. "github.com/figures-analytics/figures/internal/lms/lmstest"
	"github.com/figures-analytics/figures/internal/pipeline"
)

func TestSchedule(t *testing.T) {
	for _, tc := range []struct{ spec, now, want string }{
		{"daily@02:00", "2026-11-21 01:59:59", "2026-11-21 02:00:00"},
		{"daily@02:00", "2026-11-21 02:00:00", "2026-11-22 02:00:00"},
		{"daily@23:30", "2026-12-31 23:45:00", "2027-01-01 23:30:00"},
		{"every 15m", "2026-11-21 10:07:00", "2026-11-21 10:15:00"},
		{"every 15m", "2026-11-21 10:15:00", "2026-11-21 10:30:00"},
		{"every 1h", "2026-11-21 23:10:00", "2026-11-22 00:00:00"},
		{"every 10m", "2026-11-21 23:10:00", "2026-11-21 23:20:00"},
		{"every 1h30m", "2026-11-21 00:10:00", "2026-11-21 01:30:00"},
	} {
		s, err := pipeline.ParseSchedule(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Next(At(tc.now)); !got.Equal(At(tc.want)) {
			t.Errorf("%s after %s: %s, want %s", tc.spec, tc.now, got, tc.want)
		}
		if s.String() != tc.spec {
			t.Errorf("String() = %q, want %q", s.String(), tc.spec)
		}
	}
	for _, bad := range []string{"", "daily@25:00", "daily@2", "every 10s", "hourly", "every x"} {
		if _, err := pipeline.ParseSchedule(bad); err == nil {
			t.Errorf("ParseSchedule(%q): want an error", bad)
		}
	}
}
