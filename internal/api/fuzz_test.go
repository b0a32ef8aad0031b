package api

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/figures-analytics/figures/internal/database/dbtest"
)

// fuzzRoutes are the API's routes, path parameters left open: the fuzzer
// writes what follows each (an id, a course id, a metric, an action).
var fuzzRoutes = []string{
	"", "openapi.json", "general-site-metrics/", "site-monthly-metrics/", "course-monthly-metrics/",
	"courses-index/", "courses-general/", "courses-detail/", "users-general/", "users-detail/", "user-index/",
	"learner-metrics/", "enrollment-metrics/", "enrollment-metrics/completed/", "enrollment-metrics/completed_ids/",
	"course-enrollments/", "course-daily-metrics/", "site-daily-metrics/", "course-mau-metrics/", "site-mau-metrics/",
	"course-mau-live-metrics/", "site-mau-live-metrics/", "pipeline-runs/", "pipeline-runs/schedule/",
	"pipeline-runs/errors/", "admin/sites/",
}

// FuzzAPIRequest sends GET requests made of a route, a fuzzed path
// parameter and a fuzzed query string through the real handler on a
// SQLite fixture store, as a global caller. Whatever the input, the answer
// is never a 500, a JSON answer is JSON, and a CSV answer starts no
// formula.
func FuzzAPIRequest(f *testing.F) {
	e := newEnv(f, dbtest.SQLite(f, "store.db"), nil)
	for i := range fuzzRoutes {
		f.Add(uint8(i), "", "")
	}
	for _, p := range listPaths {
		route, query, _ := strings.Cut(strings.TrimPrefix(p, Prefix), "?")
		i := slices.IndexFunc(fuzzRoutes, func(r string) bool { return r != "" && strings.HasPrefix(route, r) })
		if i >= 0 {
			f.Add(uint8(i), strings.TrimPrefix(route, fuzzRoutes[i]), query)
		}
	}
	for _, seed := range []struct {
		route       uint8
		rest, query string
	}{
		{5, courseA1 + "/", "format=csv"},
		{4, courseA1 + "/active_users/", ""},
		{8, "10/", ""},
		{11, "", "course=" + courseA1 + "&course=" + courseA2 + "&ordering=-username,profile__name&search=al,ic"},
		{12, "", "date_0=2023-11-01&date_1=2023-11-30&only_completed=true&points_possible=NaN&user_ids=10,x,11"},
		{12, "", "limit=9223372036854775807&offset=1&format=csv"},
		{15, "", "limit=-1&offset=-5&is_active=unknown&ordering=created"},
		{3, "active_users/", "date_for=2023-11-17&site=2"},
		{24, "", "run=1&error_type=%25&course_id=a%2Bb"},
		{8, "", "enrolled_in_course_id=course-v1%3AA%2BB%2BC&date_joined=2023-01-01T00:00:00Z&is_staff=False"},
	} {
		f.Add(seed.route, seed.rest, seed.query)
	}
	f.Fuzz(func(t *testing.T, route uint8, rest, query string) {
		path := Prefix + fuzzRoutes[int(route)%len(fuzzRoutes)] + rest
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.Path, req.URL.RawPath, req.URL.RawQuery = path, "", query
		req.RequestURI = ""
		req.Header.Set("Authorization", "Bearer "+e.tokAll)
		rec := httptest.NewRecorder()
		e.srv.ServeHTTP(rec, req)
		body := rec.Body.Bytes()
		if rec.Code >= 500 {
			t.Fatalf("GET %q ?%q: %d %s", path, query, rec.Code, body)
		}
		switch ct := rec.Header().Get("Content-Type"); {
		case strings.HasPrefix(ct, "application/json"):
			if !json.Valid(body) {
				t.Fatalf("GET %q ?%q: invalid JSON %.300s", path, query, body)
			}
		case strings.HasPrefix(ct, "text/csv"):
			r := csv.NewReader(bytes.NewReader(body))
			r.FieldsPerRecord = -1
			recs, err := r.ReadAll()
			if err != nil {
				t.Fatalf("GET %q ?%q: invalid CSV: %v", path, query, err)
			}
			for _, rec := range recs {
				for _, c := range rec {
					if startsFormula(c) && !csvNumber(c) {
						t.Fatalf("GET %q ?%q: cell %q starts a formula", path, query, c)
					}
				}
			}
		case rec.Code == http.StatusOK:
			t.Fatalf("GET %q ?%q: 200 with Content-Type %q", path, query, ct)
		}
	})
}

// FuzzAuthorization authenticates fuzzed Authorization headers and Open
// edX JWT cookie pairs against a server that accepts API tokens and the
// LMS's JWTs. Nothing panics, every refusal is a 401 or 403 with DRF's
// shape, and a caller is only ever one of the seeds' signed users: no
// mutation of a token forges a caller.
func FuzzAuthorization(f *testing.F) {
	key, other := testKeys(f)
	e := newEnv(f, dbtest.SQLite(f, "store.db"), nil)
	auth, err := jwtAuthenticator(f, e)
	if err != nil {
		f.Fatal(err)
	}
	good := sign(f, jwt.SigningMethodRS512, "openedx", key, lmsClaims("root", true))
	noIat := lmsClaims("carol", false)
	delete(noIat, "iat")
	for _, h := range []string{
		"Bearer " + e.tokAll, "Token " + e.tokA, "JWT " + good, "bearer  " + good + " ", "Basic dXNlcjpwYXNz", "Bearer", "Bearer a.b.c",
		"Bearer " + sign(f, jwt.SigningMethodRS256, "openedx", other, lmsClaims("mallory", true)),
		"Bearer " + sign(f, jwt.SigningMethodHS256, "openedx", []byte("secret"), lmsClaims("mallory", true)),
		"Bearer " + sign(f, jwt.SigningMethodRS256, "openedx", key, noIat),
		"Bearer eyJhbGciOiJub25lIn0.eyJwcmVmZXJyZWRfdXNlcm5hbWUiOiJtYWxsb3J5In0.",
	} {
		f.Add(h, "", "")
	}
	dot := strings.LastIndex(good, ".")
	f.Add("", good[:dot], good[dot+1:])
	known := []string{"ops", "alpha", "beta", "root", "carol"}
	f.Fuzz(func(t *testing.T, header, cookieHP, cookieSig string) {
		req := httptest.NewRequest(http.MethodGet, "/figures/api/", nil)
		if header != "" {
			req.Header["Authorization"] = []string{header}
		}
		if cookieHP != "" || cookieSig != "" {
			req.AddCookie(&http.Cookie{Name: JWTHeaderPayloadCookie, Value: sanitizeCookie(cookieHP)})
			req.AddCookie(&http.Cookie{Name: JWTSignatureCookie, Value: sanitizeCookie(cookieSig)})
		}
		p, err := auth.Authenticate(req)
		if err != nil {
			var se *StatusError
			if !errors.As(err, &se) || (se.Status != http.StatusUnauthorized && se.Status != http.StatusForbidden) {
				t.Fatalf("%q: %v", header, err)
			}
			return
		}
		if !slices.Contains(known, p.Name) {
			t.Fatalf("%q authenticated as %q", header, p.Name)
		}
	})
}

// sanitizeCookie drops the bytes a browser cannot send in a cookie value.
func sanitizeCookie(s string) string {
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r >= 0x7f || r == '"' || r == ';' || r == '\\' || r == ',' {
			return -1
		}
		return r
	}, s)
}

// FuzzJWKS parses fuzzed JSON Web Key Sets: nothing panics, and a set
// that parses holds only RSA keys of 2048 bits or more with a sane
// exponent, every one reachable by its id.
func FuzzJWKS(f *testing.F) {
	key, other := testKeys(f)
	f.Add(jwksJSON(map[string]*rsa.PrivateKey{"k1": key}))
	f.Add(jwksJSON(map[string]*rsa.PrivateKey{"k1": key, "k2": other}))
	f.Add([]byte(`{"keys":[{"kty":"RSA","kid":"a","use":"enc","n":"AQAB","e":"AQAB"},{"kty":"EC"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"` + strings.Repeat("A", 400) + `","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		ks, err := ParseJWKS(doc)
		if err != nil {
			return
		}
		all, err := ks.Keys(context.Background(), "")
		if err != nil || len(all) == 0 {
			t.Fatalf("a parsed set has no keys: %v", err)
		}
		for kid, keys := range ks.byKid {
			got, err := ks.Keys(context.Background(), kid)
			if kid != "" && (err != nil || len(got) != len(keys)) {
				t.Fatalf("kid %q: %v", kid, err)
			}
			for _, k := range keys {
				pub := k.(*rsa.PublicKey)
				if pub.N.BitLen() < 2048 || pub.E < 3 {
					t.Fatalf("weak key accepted: %d bits, e=%d", pub.N.BitLen(), pub.E)
				}
			}
		}
	})
}

// FuzzCSVWriter writes fuzzed records and reads them back as a spreadsheet
// would: the record survives (each text cell behind a single quote exactly
// when it would start a formula), and no cell starts a formula unless it
// is a plain number.
func FuzzCSVWriter(f *testing.F) {
	for _, s := range []string{"", "12", "-0.5", "=1+2", `=1+2";=1+2`, "\t=x", "\r\n@", "a,b", `"q"`, "  -x", "＝1", "1e5", "-", "\xff"} {
		f.Add(s, "Alice", "-7")
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		in := []string{a, b, c}
		var out bytes.Buffer
		cw := newCSVWriter(&out)
		cw.header([]string{"a", "b", "c"})
		cw.record(in)
		if err := cw.flush(); err != nil {
			t.Fatal(err)
		}
		r := csv.NewReader(&out)
		recs, err := r.ReadAll()
		if err != nil || len(recs) != 2 || len(recs[1]) != 3 {
			t.Fatalf("%q written as %q: %v", in, out.String(), err)
		}
		for i, got := range recs[1] {
			// The reader drops a carriage return before a newline.
			want := strings.ReplaceAll(in[i], "\r\n", "\n")
			if in[i] != "" && !csvNumber(in[i]) && startsFormula(in[i]) {
				want = "'" + want
			}
			if got != want {
				t.Fatalf("cell %q read back as %q, want %q", in[i], got, want)
			}
			if startsFormula(got) && !csvNumber(got) {
				t.Fatalf("cell %q starts a formula", got)
			}
		}
	})
}
