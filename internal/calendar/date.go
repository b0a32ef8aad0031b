// Package calendar holds the one notion of time the metrics are built on: the
// UTC day. A Date is a civil date; the day it names is the half-open range
// [Date 00:00 UTC, Date+1 00:00 UTC), which is how every query compares
// datetimes to it (a range the indexes serve, never a date function).
package calendar

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// Date is a civil date (no time, no zone). The zero Date is invalid.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// Layout is the text form of a Date, as Django stores DateFields.
const Layout = "2006-01-02"

// Parse parses YYYY-MM-DD.
func Parse(s string) (Date, error) {
	t, err := time.Parse(Layout, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return Of(t), nil
}

// MustParse is Parse for constants in tests and tables; it panics on bad input.
func MustParse(s string) Date {
	d, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// Of returns the UTC date of t.
func Of(t time.Time) Date {
	y, m, d := t.UTC().Date()
	return Date{y, m, d}
}

// Today returns the current UTC date.
func Today() Date { return Of(time.Now()) }

// Yesterday returns the UTC date before today, the default day of a run.
func Yesterday() Date { return Today().AddDays(-1) }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Start returns 00:00:00 UTC of d, the inclusive lower bound of the day.
func (d Date) Start() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// End returns 00:00:00 UTC of the next day, the exclusive upper bound of the day.
func (d Date) End() time.Time { return d.Start().AddDate(0, 0, 1) }

// AddDays returns d plus n days (n may be negative).
func (d Date) AddDays(n int) Date { return Of(d.Start().AddDate(0, 0, n)) }

// MonthStart returns the first day of d's month.
func (d Date) MonthStart() Date { return Date{d.Year, d.Month, 1} }

// MonthEnd returns the last day of d's month.
func (d Date) MonthEnd() Date { return d.MonthStart().AddMonths(1).AddDays(-1) }

// AddMonths returns the first day of the month n months after d's month.
func (d Date) AddMonths(n int) Date {
	return Of(time.Date(d.Year, d.Month+time.Month(n), 1, 0, 0, 0, 0, time.UTC))
}

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.Start().Before(e.Start()) }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.Start().After(e.Start()) }

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int { return d.Start().Compare(e.Start()) }

// DaysUntil returns the number of days from d to e (negative when e is earlier).
func (d Date) DaysUntil(e Date) int { return int(e.Start().Sub(d.Start()).Hours() / 24) }

// String returns YYYY-MM-DD.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// MarshalText implements encoding.TextMarshaler (JSON, YAML, CSV).
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Value implements driver.Valuer: dates travel as YYYY-MM-DD text, which
// every supported database compares and stores as a date.
func (d Date) Value() (driver.Value, error) {
	if d.IsZero() {
		return nil, nil
	}
	return d.String(), nil
}

// Scan implements sql.Scanner for DATE columns in any of the supported
// databases (a time.Time from MySQL and PostgreSQL, text from SQLite).
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = Date{}
		return nil
	case time.Time:
		*d = Date{v.Year(), v.Month(), v.Day()}
		return nil
	case string:
		return d.scanText(v)
	case []byte:
		return d.scanText(string(v))
	}
	return fmt.Errorf("calendar: cannot scan %T into a Date", src)
}

func (d *Date) scanText(s string) error {
	if len(s) >= 10 {
		s = s[:10]
	}
	v, err := Parse(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Range returns the dates from..to inclusive, in order.
func Range(from, to Date) []Date {
	var out []Date
	for d := from; !d.After(to); d = d.AddDays(1) {
		out = append(out, d)
	}
	return out
}
