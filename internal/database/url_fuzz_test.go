package database_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/figures-analytics/figures/internal/database"
)

// FuzzParseURL builds database URLs around a password from five fuzzed
// parts — scheme, separator, user, password, the rest — with the password
// in the user information or in the query string, and checks that
// ParseURL never panics and that neither its error nor the location's
// rendering shows any piece of the password's two ends. The password is
// framed by markers ("Qz" … "zQ") that the other parts may not contain,
// so any leak of its beginning or end is seen.
func FuzzParseURL(f *testing.F) {
	for _, s := range [][5]string{
		{"mysql", "://", "root", "pw", "127.0.0.1:3306/edxapp"},
		{"", "", "root", "pw", "host/db"},
		{"mysql", ":", "root", "pw", "host/db"},
		{"postgres", "://", "u", "p/ss", "pg:5432/figures"},
		{"postgresql", "://", "u", "p?ss", "pg/figures?sslmode=disable"},
		{"mysql", "://", "u", "p#ss", "h/db"},
		{"mysql", "://", "u", "p@ss", "h/db?socket=/run/mysqld/mysqld.sock"},
		{"root", ":", "pa", "//ss", "host/db"},
		{"sqlite", ":///", "u", "p", "x.db?mode=ro"},
		{"mysql", "://", "u", "%zz", "h:x/db"},
		{"mysql", "://", "u:v", "w", "[::1]:3306/db"},
		{"oracle", "://", "u", "p", "h/db"},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4])
	}
	f.Fuzz(func(t *testing.T, scheme, sep, user, pass, rest string) {
		const begin, end = "Qz", "zQ"
		for _, part := range []string{scheme, sep, user, rest} {
			if strings.ContainsAny(part, "Qz") {
				return
			}
		}
		secret := begin + pass + end
		raws := []string{scheme + sep + user + ":" + secret + "@" + rest}
		// In the query string, a password is the value of its parameter:
		// up to the next & (a ? or # before it would make it something
		// else).
		if !strings.ContainsAny(rest, "?#") && !strings.ContainsAny(pass, "&#") {
			raws = append(raws, scheme+sep+user+"@"+rest+"?password="+secret,
				scheme+sep+user+"@"+rest+"?sslmode=disable&sslpassword="+secret)
		}
		for _, raw := range raws {
			loc, err := database.ParseURL(raw)
			shown := fmt.Sprintf("%v|%v|%+v|%s", err, loc, loc, database.Redact(raw))
			if strings.Contains(shown, begin) || strings.Contains(shown, end) {
				t.Errorf("%q: shows the password: %s", raw, shown)
			}
		}
	})
}
