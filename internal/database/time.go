package database

import (
	"fmt"
	"strings"
	"time"
)

// NullTime scans a datetime column of any supported database: a time.Time
// from MySQL and PostgreSQL, or Django's text from SQLite, with or without
// microseconds. The value is always UTC. Valid is false for NULL.
type NullTime struct {
	Time  time.Time
	Valid bool
}

var textLayouts = []string{
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02",
}

// ParseTime parses a datetime written as text by Django or by a database.
// A value without a zone is UTC, as Django writes them with USE_TZ=True.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range textLayouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("datetime %q: want YYYY-MM-DD HH:MM:SS[.ffffff]", s)
}

// Scan implements sql.Scanner.
func (n *NullTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*n = NullTime{}
		return nil
	case time.Time:
		*n = NullTime{v.UTC(), true}
		return nil
	case string:
		return n.scanText(v)
	case []byte:
		return n.scanText(string(v))
	}
	return fmt.Errorf("cannot scan %T into a datetime", src)
}

func (n *NullTime) scanText(s string) error {
	if s == "" {
		*n = NullTime{}
		return nil
	}
	t, err := ParseTime(s)
	if err != nil {
		return err
	}
	*n = NullTime{t, true}
	return nil
}

// Ptr returns the time or nil.
func (n NullTime) Ptr() *time.Time {
	if !n.Valid {
		return nil
	}
	t := n.Time
	return &t
}
