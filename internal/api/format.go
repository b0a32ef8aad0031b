package api

import (
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/database"
)

// isoTime formats a datetime as DRF does: UTC, "Z", and microseconds only
// when there are some ("2018-05-07T18:40:29.482095Z", "2017-07-15T16:59:45Z").
func isoTime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02T15:04:05Z")
	}
	return t.Format("2006-01-02T15:04:05.000000Z")
}

// isoTimePtr formats a nullable datetime; NULL is nil (JSON null).
func isoTimePtr(t database.NullTime) *string {
	if !t.Valid {
		return nil
	}
	s := isoTime(t.Time)
	return &s
}

// dateOf formats the date part of a datetime, as the fields the original
// declared with format "%Y-%m-%d".
func dateOf(t database.NullTime) string {
	if !t.Valid {
		return ""
	}
	return calendar.Of(t.Time).String()
}

// intPtr turns a nullable integer into *int64 (JSON null when NULL).
func intPtr(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	n := v.Int64
	return &n
}

// strOrNull turns "" into JSON null, for profile fields stored as empty
// strings when the LMS has none.
func strOrNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// decimalString renders a DECIMAL(3,2) value as DRF's DecimalField does:
// a string with two decimals ("0.35"), or null.
func decimalString(v sql.NullFloat64) *string {
	if !v.Valid {
		return nil
	}
	s := strconv.FormatFloat(v.Float64, 'f', 2, 64)
	return &s
}

// roundHalfEven returns num/den rounded to the nearest integer, ties to
// even (Python's Decimal.quantize default), computed exactly on integers.
// den must be positive.
func roundHalfEven(num, den int64) int64 {
	q, r := num/den, num%den
	if r < 0 { // Go truncates toward zero; make r non-negative
		q, r = q-1, r+den
	}
	switch {
	case 2*r > den:
		q++
	case 2*r == den && q%2 != 0:
		q++
	}
	return q
}

// hundredths formats n/100 with two decimals ("0.50").
func hundredths(n int64) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	return fmt.Sprintf("%s%d.%02d", sign, n/100, n%100)
}

// progressDecimal is worked/possible as a two-decimal string rounded half
// to even ("0.00" when nothing is possible): the enrollment-metrics
// progress_percent, exact rather than through a float.
func progressDecimal(worked, possible int64) string {
	if possible <= 0 {
		return "0.00"
	}
	return hundredths(roundHalfEven(worked*100, possible))
}

// progressFloat is worked/possible (0 when nothing is possible).
func progressFloat(worked, possible int64) float64 {
	if possible <= 0 {
		return 0
	}
	return float64(worked) / float64(possible)
}

// ceilDiv returns the ceiling of num/den for a positive den.
func ceilDiv(num, den int64) int64 {
	q := num / den
	if num%den > 0 {
		q++
	}
	return q
}

// csvBool, csvInt and friends render CSV cells: booleans as true/false,
// NULL as the empty cell.
func csvBool(b bool) string { return strconv.FormatBool(b) }

func csvInt(n int64) string { return strconv.FormatInt(n, 10) }

func csvFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func csvPtr[T any](p *T, f func(T) string) string {
	if p == nil {
		return ""
	}
	return f(*p)
}

func csvStr(s string) string { return s }
