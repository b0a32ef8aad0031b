package database_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/database"
)

// No error and no rendering of a location shows its password, whatever
// the URL looks like: no scheme, a password holding / ? # @ or ://, a
// password in the query string, or a driver that fails to connect.
func TestPasswordNeverShown(t *testing.T) {
	for _, raw := range []string{
		"root:s3cret@host/db",                  // no scheme
		"root:s3cret@tcp(host:3306)/db",        // a Go MySQL DSN
		"mysql:root:s3cret@host/db",            // a scheme without slashes
		"mysql://root:s3/cret@host/db",         // a / in the password: url.Parse quotes ":s3" as a port
		"mysql://root:s3?cret@host/db",         // a ?
		"mysql://root:s3#cret@host/db",         // a #
		"mysql://root:s3@cret@host/db",         // an @
		"root:pa://s3cret@host/db",             // :// inside the password
		"mysql://root:s3cret@host:x/db",        // a bad port
		"mysql://root:s3cret@/db",              // no host
		"postgres://u@host/db?password=s3cret", // pgx takes a password from the query
		"postgres://u:s3%zzcret@host/db",       // a bad escape
		"sqlite:///x.db?_auth_pass=s3cret&mode=%zz",
	} {
		loc, err := database.ParseURL(raw)
		shown := fmt.Sprintf("%v %+v %s", err, loc, loc)
		for _, piece := range []string{"s3cret", "cret", "s3"} {
			if strings.Contains(shown, piece) {
				t.Errorf("%s: %q shows %q", raw, shown, piece)
			}
		}
		if got := database.Redact(raw); strings.Contains(got, "cret") {
			t.Errorf("Redact(%q) = %q", raw, got)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, raw := range []string{
		"postgres://u:s3cret@127.0.0.1:1/db",
		"postgres://u:s3cret@127.0.0.1:1/db?sslmode=bogus",
		"mysql://u:s3cret@127.0.0.1:1/db",
	} {
		_, err := database.Open(ctx, raw, database.Options{})
		if err == nil || strings.Contains(err.Error(), "cret") {
			t.Errorf("Open(%s): %v", raw, err)
		}
	}
}
