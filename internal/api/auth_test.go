package api

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	testIssuer   = "https://lms.example.com/oauth2"
	testAudience = "openedx"
)

var (
	keysOnce       sync.Once
	lmsKey, badKey *rsa.PrivateKey
)

// testKeys returns the LMS's signing key and an unrelated one (made once:
// RSA key generation is slow).
func testKeys(t testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey) {
	keysOnce.Do(func() {
		var err error
		if lmsKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if badKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return lmsKey, badKey
}

// jwksJSON is a JWKS of the public keys, as the LMS publishes it.
func jwksJSON(keys map[string]*rsa.PrivateKey) []byte {
	var doc struct {
		Keys []map[string]string `json:"keys"`
	}
	for kid, k := range keys {
		doc.Keys = append(doc.Keys, map[string]string{
			"kid": kid, "kty": "RSA",
			"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes()),
		})
	}
	b, _ := json.Marshal(doc)
	return b
}

// lmsClaims are an Open edX JWT's claims for username, as edx-platform's
// oauth_dispatch writes them for the JWT cookie (scopes user_id, email,
// profile).
func lmsClaims(username string, staff bool) jwt.MapClaims {
	now := fixtureNow.Unix()
	return jwt.MapClaims{
		"aud": testAudience, "iss": testIssuer, "exp": now + 3600, "iat": now - 60,
		"preferred_username": username, "sub": "anon-" + username, "scopes": []string{"user_id", "email", "profile"},
		"version": "1.2.0", "filters": []string{}, "is_restricted": false, "email_verified": true, "grant_type": "",
		"user_id": 1, "email": username + "@example.com", "name": username, "family_name": "", "given_name": "",
		"administrator": staff, "superuser": false,
	}
}

func sign(t testing.TB, method jwt.SigningMethod, kid string, key any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// jwtEnv is a fixture whose server accepts the LMS's JWTs, its key set read
// from a file.
func jwtEnv(t *testing.T) *env {
	e := sqliteEnv(t)
	auth, err := jwtAuthenticator(t, e)
	if err != nil {
		t.Fatal(err)
	}
	e.srv.auth = auth
	return e
}

// jwtAuthenticator accepts e's API tokens and the LMS's JWTs signed by the
// "openedx" test key, read from a JWKS file.
func jwtAuthenticator(t testing.TB, e *env) (*Authenticator, error) {
	key, _ := testKeys(t)
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, jwksJSON(map[string]*rsa.PrivateKey{"openedx": key}), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := NewJWKSSource(context.Background(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	return NewAuthenticator(AuthConfig{Store: e.st, Keys: src, Issuers: []string{testIssuer}, Audiences: []string{testAudience},
		Now: func() time.Time { return fixtureNow }})
}

func TestAPITokens(t *testing.T) {
	e := sqliteEnv(t)
	const p = "/figures/api/site-mau-live-metrics/"
	check := func(what string, rec *httptest.ResponseRecorder, code int, body string) {
		t.Helper()
		if rec.Code != code {
			t.Fatalf("%s: status %d, want %d: %s", what, rec.Code, code, rec.Body)
		}
		assertJSON(t, what, rec.Body.Bytes(), body)
	}
	rec := e.do(t, "", p, nil)
	check("no credentials", rec, 401, `{"detail":"Authentication credentials were not provided."}`)
	if got := rec.Header().Get("WWW-Authenticate"); got != `Bearer realm="figures"` {
		t.Errorf("WWW-Authenticate = %q", got)
	}
	check("unknown token", e.do(t, "fgt_AAAA", p, nil), 401, `{"detail":"Invalid token."}`)
	check("not a token", e.do(t, "hello", p, nil), 401, `{"detail":"Invalid token."}`)
	check("basic auth", e.do(t, "", p, func(r *http.Request) { r.SetBasicAuth("u", "p") }), 401, `{"detail":"Authorization scheme \"Basic\" is not accepted; use Bearer."}`)
	check("empty bearer", e.do(t, "", p, func(r *http.Request) { r.Header.Set("Authorization", "Bearer ") }), 401, `{"detail":"Invalid token header. No credentials provided."}`)

	site1 := `{"month_for":"2023-11-17","count":3,"domain":"alpha.example.com"}`
	site2 := `{"month_for":"2023-11-17","count":2,"domain":"beta.example.com"}`
	check("bearer", e.do(t, e.tokA, p, nil), 200, site1)
	check("DRF Token scheme", e.do(t, "", p, func(r *http.Request) { r.Header.Set("Authorization", "Token "+e.tokB) }), 200, site2)
	check("cookie", e.do(t, "", p, func(r *http.Request) { r.AddCookie(&http.Cookie{Name: TokenCookie, Value: e.tokB}) }), 200, site2)

	// A site token reads its site only.
	check("own site", e.do(t, e.tokB, p+"?site=2", nil), 200, site2)
	check("other site", e.do(t, e.tokB, p+"?site=1", nil), 403, `{"detail":"You do not have permission to perform this action."}`)
	check("admin/sites", e.do(t, e.tokA, "/figures/api/admin/sites/", nil), 403, `{"detail":"You do not have permission to perform this action."}`)
	check("metrics", e.do(t, e.tokA, "/metrics", nil), 403, `{"detail":"You do not have permission to perform this action."}`)

	// A revoked token stops working at once.
	toks, err := e.st.ListAPITokens(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range toks {
		if tk.Name == "beta" {
			if err := e.st.RevokeAPIToken(context.Background(), tk.ID, fixtureNow); err != nil {
				t.Fatal(err)
			}
		}
	}
	check("revoked", e.do(t, e.tokB, p, nil), 401, `{"detail":"Invalid token."}`)

	// Health needs no caller.
	check("healthz", e.do(t, "", "/healthz", nil), 200, `{"status":"ok","sites":2}`)
	// JWTs are refused when no key set is configured.
	key, _ := testKeys(t)
	check("jwt off", e.do(t, sign(t, jwt.SigningMethodRS256, "openedx", key, lmsClaims("root", true)), p, nil), 401,
		`{"detail":"JWT authentication is not configured on this server (see figures serve --jwt-jwks)."}`)
}

func TestJWT(t *testing.T) {
	e := jwtEnv(t)
	key, other := testKeys(t)
	const p = "/figures/api/site-mau-live-metrics/"
	site1 := `{"month_for":"2023-11-17","count":3,"domain":"alpha.example.com"}`
	site2 := `{"month_for":"2023-11-17","count":2,"domain":"beta.example.com"}`
	forbidden := `{"detail":"You do not have permission to perform this action."}`
	with := func(f func(c jwt.MapClaims)) jwt.MapClaims {
		c := lmsClaims("carol", false)
		f(c)
		return c
	}
	if err := e.st.GrantSiteAdmin(context.Background(), 2, "carol", fixtureNow); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		token string
		path  string
		code  int
		body  string
	}{
		{"global staff", sign(t, jwt.SigningMethodRS512, "openedx", key, lmsClaims("root", true)), "/figures/api/admin/sites/?name=alp", 200,
			`{"count":1,"next":null,"previous":null,"results":[{"id":1,"domain":"alpha.example.com","name":"Alpha"}]}`},
		{"superuser", sign(t, jwt.SigningMethodRS256, "openedx", key, with(func(c jwt.MapClaims) { c["superuser"] = true })), p + "?site=1", 200, site1},
		{"site admin", sign(t, jwt.SigningMethodRS256, "openedx", key, lmsClaims("carol", false)), p, 200, site2},
		{"site admin, other site", sign(t, jwt.SigningMethodRS256, "openedx", key, lmsClaims("carol", false)), p + "?site=1", 403, forbidden},
		{"site admin, admin/sites", sign(t, jwt.SigningMethodRS256, "openedx", key, lmsClaims("carol", false)), "/figures/api/admin/sites/", 403, forbidden},
		{"old username claim", sign(t, jwt.SigningMethodRS256, "openedx", key, with(func(c jwt.MapClaims) { delete(c, "preferred_username"); c["username"] = "carol" })), p, 200, site2},
		{"no key id", sign(t, jwt.SigningMethodRS256, "", key, lmsClaims("carol", false)), p, 200, site2},
		{"learner", sign(t, jwt.SigningMethodRS256, "openedx", key, lmsClaims("alice", false)), p, 403, forbidden},
		{"inactive", sign(t, jwt.SigningMethodRS256, "openedx", key, with(func(c jwt.MapClaims) { c["email_verified"] = false })), p, 403, forbidden},
		{"restricted", sign(t, jwt.SigningMethodRS256, "openedx", key, with(func(c jwt.MapClaims) { c["is_restricted"] = true })), p, 403,
			`{"detail":"Restricted JWTs (issued to restricted OAuth applications) are not accepted."}`},
		{"expired", sign(t, jwt.SigningMethodRS256, "openedx", key, with(func(c jwt.MapClaims) { c["exp"] = fixtureNow.Unix() - 120 })), p, 401, `{"detail":"Signature has expired."}`},
		{"no expiry", sign(t, jwt.SigningMethodRS256, "openedx", key, with(func(c jwt.MapClaims) { delete(c, "exp") })), p, 401, `{"detail":"Error decoding token."}`},
		{"no iat", sign(t, jwt.SigningMethodRS256, "openedx", key, with(func(c jwt.MapClaims) { delete(c, "iat") })), p, 401, `{"detail":"Error decoding token."}`},
		{"iat in the future", sign(t, jwt.SigningMethodRS256, "openedx", key, with(func(c jwt.MapClaims) { c["iat"] = fixtureNow.Unix() + 3600 })), p, 401, `{"detail":"Error decoding token."}`},
		{"wrong issuer", sign(t, jwt.SigningMethodRS256, "openedx", key, with(func(c jwt.MapClaims) { c["iss"] = "https://evil.example.com/oauth2" })), p, 401, `{"detail":"Invalid token issuer."}`},
		{"wrong audience", sign(t, jwt.SigningMethodRS256, "openedx", key, with(func(c jwt.MapClaims) { c["aud"] = "ecommerce" })), p, 401, `{"detail":"Invalid token audience."}`},
		{"future version", sign(t, jwt.SigningMethodRS256, "openedx", key, with(func(c jwt.MapClaims) { c["version"] = "2.0.0" })), p, 401, `{"detail":"JWT version 2.0.0 is not supported."}`},
		{"no user", sign(t, jwt.SigningMethodRS256, "openedx", key, with(func(c jwt.MapClaims) { delete(c, "preferred_username") })), p, 401, `{"detail":"Invalid token."}`},
		{"other key", sign(t, jwt.SigningMethodRS256, "openedx", other, lmsClaims("root", true)), p, 401, `{"detail":"Error decoding token."}`},
		{"unknown key id", sign(t, jwt.SigningMethodRS256, "rotated", key, lmsClaims("root", true)), p, 401, `{"detail":"Error decoding token."}`},
		{"symmetric", sign(t, jwt.SigningMethodHS256, "openedx", []byte("lms-secret"), lmsClaims("root", true)), p, 401, `{"detail":"Error decoding token."}`},
		{"JWT scheme", "", p, 200, site1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec *httptest.ResponseRecorder
			if tc.token == "" {
				tok := sign(t, jwt.SigningMethodRS512, "openedx", key, lmsClaims("root", true))
				rec = e.do(t, "", tc.path, func(r *http.Request) { r.Header.Set("Authorization", "JWT "+tok) })
			} else {
				rec = e.do(t, tc.token, tc.path, nil)
			}
			if rec.Code != tc.code {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.code, rec.Body)
			}
			assertJSON(t, tc.name, rec.Body.Bytes(), tc.body)
		})
	}

	// The micro-frontends' cookie pair: header.payload and signature.
	tok := sign(t, jwt.SigningMethodRS512, "openedx", key, lmsClaims("carol", false))
	i := strings.LastIndex(tok, ".")
	rec := e.do(t, "", p, func(r *http.Request) {
		r.AddCookie(&http.Cookie{Name: JWTHeaderPayloadCookie, Value: tok[:i]})
		r.AddCookie(&http.Cookie{Name: JWTSignatureCookie, Value: tok[i+1:]})
	})
	if rec.Code != 200 {
		t.Fatalf("cookie pair: %d %s", rec.Code, rec.Body)
	}
	assertJSON(t, "cookie pair", rec.Body.Bytes(), site2)
	rec = e.do(t, "", p, func(r *http.Request) { r.AddCookie(&http.Cookie{Name: JWTHeaderPayloadCookie, Value: tok[:i]}) })
	if rec.Code != 401 {
		t.Fatalf("half a cookie pair: %d %s", rec.Code, rec.Body)
	}

	// Revoking the grant takes effect on the next request.
	if err := e.st.RevokeSiteAdmin(context.Background(), 2, "carol"); err != nil {
		t.Fatal(err)
	}
	if rec := e.do(t, tok, p, nil); rec.Code != 403 {
		t.Fatalf("after revoke: %d %s", rec.Code, rec.Body)
	}
}

func TestJWKS(t *testing.T) {
	key, other := testKeys(t)
	// Whitespace inside the base64 values (settings files wrap long keys).
	doc := strings.Replace(string(jwksJSON(map[string]*rsa.PrivateKey{"k1": key})), `"n":"`, `"n":"  `, 1)
	ks, err := ParseJWKS([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ks.Keys(context.Background(), "k1")
	if err != nil || len(got) != 1 || !got[0].(*rsa.PublicKey).Equal(&key.PublicKey) {
		t.Fatalf("Keys(k1) = %v, %v", got, err)
	}
	if _, err := ks.Keys(context.Background(), "k2"); err == nil {
		t.Fatal("unknown kid: no error")
	}
	for _, bad := range []string{
		`{"keys":[]}`,
		`{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}`,
		`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`,
		`{"keys":[{"kty":"RSA","n":"!!","e":"AQAB"}]}`,
		`not json`,
		// 2048 bits of bytes, but leading zeros: a 1-bit modulus.
		`{"keys":[{"kty":"RSA","n":"` + base64.RawURLEncoding.EncodeToString(append(make([]byte, 255), 1)) + `","e":"AQAB"}]}`,
	} {
		if _, err := ParseJWKS([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}

	// A URL source picks up a rotated key the first time a token names it
	// (at most once a minute), and keeps its keys when the LMS is down.
	var (
		mu      sync.Mutex
		serving = jwksJSON(map[string]*rsa.PrivateKey{"k1": key})
		fetches int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		fetches++
		if serving == nil {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Write(serving)
	}))
	defer srv.Close()
	src, err := NewJWKSSource(context.Background(), srv.URL, srv.Client(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Now()
	src.now = func() time.Time { return clock }
	mu.Lock()
	serving = jwksJSON(map[string]*rsa.PrivateKey{"k1": key, "k2": other})
	mu.Unlock()
	if _, err := src.Keys(context.Background(), "k2"); err == nil {
		t.Fatal("k2 found before a minute passed")
	}
	clock = clock.Add(2 * time.Minute)
	if k, err := src.Keys(context.Background(), "k2"); err != nil || !k[0].(*rsa.PublicKey).Equal(&other.PublicKey) {
		t.Fatalf("k2 after rotation: %v %v", k, err)
	}
	mu.Lock()
	serving = nil
	mu.Unlock()
	clock = clock.Add(2 * time.Hour)
	if _, err := src.Keys(context.Background(), "k1"); err != nil {
		t.Fatalf("k1 with the LMS down: %v", err)
	}
	src.settle()
	if _, err := src.Keys(context.Background(), "k1"); err != nil {
		t.Fatalf("k1 after a failed refresh: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if fetches != 3 {
		t.Errorf("fetches = %d, want 3 (start, rotation, failed refresh)", fetches)
	}
}

// TestJWKSSlowRefresh puts the JWKS behind a URL that takes 5 s to
// answer, then sends tokens naming unknown keys: valid callers must keep
// getting their keys at once (before the fix each waited behind the
// refresh, holding the lock), the unknown-key callers must wait no more
// than UnknownKeyWait, and the URL must be read at most once a minute
// however many unknown keys arrive.
func TestJWKSSlowRefresh(t *testing.T) {
	key, other := testKeys(t)
	var (
		mu      sync.Mutex
		slow    bool
		fetches int
	)
	doc := jwksJSON(map[string]*rsa.PrivateKey{"k1": key})
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fetches++
		s := slow
		mu.Unlock()
		if s {
			select {
			case <-release:
			case <-time.After(5 * time.Second):
			}
		}
		w.Write(doc)
	}))
	defer srv.Close()
	defer close(release)
	src, err := NewJWKSSource(context.Background(), srv.URL, srv.Client(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	src.UnknownKeyWait = 200 * time.Millisecond
	clock := time.Now()
	src.now = func() time.Time { return clock }
	clock = clock.Add(2 * time.Minute)
	mu.Lock()
	slow = true
	mu.Unlock()

	e := sqliteEnv(t)
	auth, err := NewAuthenticator(AuthConfig{Store: e.st, Keys: src, Issuers: []string{testIssuer}, Now: func() time.Time { return fixtureNow }})
	if err != nil {
		t.Fatal(err)
	}
	good := sign(t, jwt.SigningMethodRS256, "k1", key, lmsClaims("staff", true))
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unknown := sign(t, jwt.SigningMethodRS256, fmt.Sprintf("rotated-%d", i), other, lmsClaims("mallory", true))
			start := time.Now()
			if _, err := auth.VerifyJWT(context.Background(), unknown); err == nil {
				t.Error("a token signed by an unknown key was accepted")
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("an unknown-key caller waited %s", took)
			}
		}()
	}
	time.Sleep(50 * time.Millisecond) // the refresh is running, slowly
	for range 20 {
		start := time.Now()
		p, err := auth.VerifyJWT(context.Background(), good)
		if err != nil || p.Username != "staff" {
			t.Fatalf("valid token during a slow refresh: %v", err)
		}
		// A generous bound: the refresh takes 5 s.
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("a valid caller waited %s behind the JWKS refresh", took)
		}
	}
	wg.Wait()
	mu.Lock()
	if fetches != 2 {
		t.Errorf("the JWKS was read %d times, want 2 (start, one refresh)", fetches)
	}
	mu.Unlock()
}
