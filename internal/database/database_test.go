package database_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/database/dbtest"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want database.Location
	}{
		{"sqlite:///figures.db", database.Location{Dialect: database.SQLite, Path: "figures.db"}},
		{"sqlite:///data/x.db", database.Location{Dialect: database.SQLite, Path: "data/x.db"}},
		{"sqlite:////var/lib/figures.db", database.Location{Dialect: database.SQLite, Path: "/var/lib/figures.db"}},
		{"mysql://user:p%40ss@db.example.com:3307/edxapp", database.Location{Dialect: database.MySQL, Host: "db.example.com", Port: "3307", User: "user", Password: "p@ss", Name: "edxapp"}},
		{"mysql://root@127.0.0.1/edxapp", database.Location{Dialect: database.MySQL, Host: "127.0.0.1", Port: "3306", User: "root", Name: "edxapp"}},
		{"mysql://root@localhost/edxapp?socket=/run/mysqld/mysqld.sock", database.Location{Dialect: database.MySQL, Host: "localhost", Port: "3306", User: "root", Name: "edxapp", Socket: "/run/mysqld/mysqld.sock"}},
		{"postgres://u:p@pg:5432/figures", database.Location{Dialect: database.Postgres, Host: "pg", Port: "5432", User: "u", Password: "p", Name: "figures"}},
		{"postgresql://u@pg/figures", database.Location{Dialect: database.Postgres, Host: "pg", Port: "5432", User: "u", Name: "figures"}},
	} {
		got, err := database.ParseURL(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if got.Dialect != tc.want.Dialect || got.Path != tc.want.Path || got.Host != tc.want.Host || got.Port != tc.want.Port ||
			got.User != tc.want.User || got.Password != tc.want.Password || got.Name != tc.want.Name || got.Socket != tc.want.Socket {
			t.Errorf("%s: got %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestParseURLErrors(t *testing.T) {
	for in, want := range map[string]string{
		"":                            "empty",
		"figures.db":                  "no scheme",
		"oracle://x/y":                "unknown scheme",
		"sqlite://figures.db":         "three slashes",
		"sqlite:///":                  "no database file path",
		"mysql://root@/db":            "no host",
		"mysql://root@host":           "no database name",
		"mysql://root:secret@host:x/": "malformed",
	} {
		_, err := database.ParseURL(in)
		if err == nil || !errors.Is(err, database.ErrBadURL) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseURL(%q) = %v, want an ErrBadURL mentioning %q", in, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("ParseURL(%q): the error shows the password: %v", in, err)
		}
	}
}

func TestUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := database.Open(ctx, "mysql://root:secret@127.0.0.1:1/edxapp", database.Options{})
	if err == nil || !strings.Contains(err.Error(), "unreachable") || strings.Contains(err.Error(), "secret") {
		t.Errorf("got %v, want an unreachable error without the password", err)
	}
	_, err = database.Open(ctx, "sqlite:///"+t.TempDir()+"/missing.db", database.Options{ReadOnly: true})
	if err == nil || !strings.Contains(err.Error(), "missing.db") {
		t.Errorf("got %v, want an error naming the missing file", err)
	}
}

// A read-only session cannot write, on every database.
func TestReadOnly(t *testing.T) {
	for _, k := range dbtest.Stores() {
		t.Run(k.Name, func(t *testing.T) {
			u := k.URL(t)
			ctx := context.Background()
			rw, err := database.Open(ctx, u, database.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer rw.Close()
			if _, err := rw.Exec(ctx, "CREATE TABLE t (id integer)"); err != nil {
				t.Fatal(err)
			}
			ro, err := database.Open(ctx, u, database.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer ro.Close()
			var n int
			if err := ro.QueryRow(ctx, "SELECT COUNT(*) FROM t").Scan(&n); err != nil {
				t.Fatalf("read through the read-only session: %v", err)
			}
			if _, err := ro.Exec(ctx, "INSERT INTO t (id) VALUES (1)"); err == nil {
				t.Fatal("a write through the read-only session succeeded")
			}
			if _, err := ro.Exec(ctx, "DROP TABLE t"); err == nil {
				t.Fatal("a DROP through the read-only session succeeded")
			}
		})
	}
}

func TestStatementsAndRebind(t *testing.T) {
	db := dbtest.SQLite(t, "s.db")
	ctx := context.Background()
	before := db.Statements()
	var one int
	if err := db.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, "CREATE TABLE x (a integer)"); err != nil {
		t.Fatal(err)
	}
	if got := db.Statements() - before; got != 2 {
		t.Errorf("counted %d statements, want 2", got)
	}
	if got := database.FormatDjango(time.Date(2026, 11, 20, 1, 2, 3, 0, time.UTC)); got != "2026-11-20 01:02:03" {
		t.Errorf("FormatDjango without microseconds: %q", got)
	}
	if got := database.FormatDjango(time.Date(2026, 11, 20, 1, 2, 3, 450000000, time.UTC)); got != "2026-11-20 01:02:03.450000" {
		t.Errorf("FormatDjango with microseconds: %q", got)
	}
	for _, s := range []string{"2026-11-20 01:02:03", "2026-11-20 01:02:03.45", "2026-11-20T01:02:03Z", "2026-11-20 01:02:03+00:00"} {
		got, err := database.ParseTime(s)
		if err != nil || got.Year() != 2026 || got.Second() != 3 || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) = %v, %v", s, got, err)
		}
	}
}

func TestBatches(t *testing.T) {
	for _, tc := range []struct {
		in   []int
		n    int
		want string
	}{
		{nil, 3, "[]"},
		{[]int{1, 2, 3}, 0, "[]"},
		{[]int{1, 2, 3}, 3, "[[1 2 3]]"},
		{[]int{1, 2, 3, 4, 5, 6, 7}, 3, "[[1 2 3] [4 5 6] [7]]"},
		{[]int{1, 2}, 199, "[[1 2]]"},
	} {
		if got := fmt.Sprint(database.Batches(tc.in, tc.n)); got != tc.want {
			t.Errorf("Batches(%v, %d) = %s, want %s", tc.in, tc.n, got, tc.want)
		}
	}
	// A batch is capped: appending to it must not overwrite the next one.
	s := []int{1, 2, 3, 4}
	b := database.Batches(s, 2)
	_ = append(b[0], 9)
	if s[2] != 3 {
		t.Errorf("append to a batch overwrote the next: %v", s)
	}
}

func TestArgs(t *testing.T) {
	got := database.Args([]string{"a", "b"})
	if len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("Args = %#v", got)
	}
	if got := database.Args([]int{}); len(got) != 0 {
		t.Errorf("Args(empty) = %#v", got)
	}
}
