package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/figures-analytics/figures/internal/store"
)

// The cookies a caller may authenticate with.
const (
	// TokenCookie carries an API token. The dashboard's token sign-in sets
	// it (HttpOnly), so the browser's same-origin API calls are
	// authenticated without the page ever holding the token.
	TokenCookie = "figures-token"
	// JWTHeaderPayloadCookie and JWTSignatureCookie are the two halves of
	// the Open edX JWT cookie that the LMS sets for its micro-frontends:
	// "header.payload" and "signature", joined with a dot to make the JWT
	// (edx-drf-extensions' JwtAuthCookieMiddleware does the same).
	JWTHeaderPayloadCookie = "edx-jwt-cookie-header-payload"
	JWTSignatureCookie     = "edx-jwt-cookie-signature"
)

// Principal is an authenticated caller.
type Principal struct {
	// Kind is "token" for an API token, "jwt" for an Open edX JWT.
	Kind string
	// Name is the token's name, or the JWT's username.
	Name string
	// TokenID is the API token's id (Kind "token").
	TokenID int64
	// Username is the LMS username (Kind "jwt").
	Username string
	// Global callers read every site: tokens created with --all, and JWTs
	// of global staff (administrator) or superusers.
	Global bool
	// Sites are the sites a non-global caller may read, ascending: a site
	// token's site, or a JWT user's site-admin grants. Empty: none.
	Sites []int
}

// CanRead reports whether p may read site id's data.
func (p *Principal) CanRead(id int) bool { return p.Global || slices.Contains(p.Sites, id) }

// AuthConfig configures an Authenticator.
type AuthConfig struct {
	// Store holds the API tokens and site-admin grants. Required.
	Store *store.Store
	// Keys verifies Open edX JWTs. Nil: JWTs are refused (401).
	Keys KeySource
	// Issuers are the accepted "iss" values (the LMS's JWT_ISSUER, e.g.
	// https://lms.example.com/oauth2). Required when Keys is set: a JWT is
	// only as trustworthy as the issuer check.
	Issuers []string
	// Audiences are the accepted "aud" values (the LMS's JWT_AUDIENCE).
	// Empty: the audience is not checked (edx-drf-extensions'
	// JWT_VERIFY_AUDIENCE=False).
	Audiences []string
	// Leeway is the clock skew allowed on exp, nbf and iat (default 30 s).
	Leeway time.Duration
	// Now is the clock. Nil: time.Now.
	Now func() time.Time
}

// Authenticator finds the caller of a request. The dashboard reuses it, so
// that the API and the pages accept the same credentials.
type Authenticator struct {
	st     *store.Store
	keys   KeySource
	iss    []string
	aud    []string
	leeway time.Duration
	now    func() time.Time
}

// NewAuthenticator returns an Authenticator.
func NewAuthenticator(cfg AuthConfig) (*Authenticator, error) {
	if cfg.Store == nil {
		return nil, errors.New("authenticator: no store")
	}
	if cfg.Keys != nil && len(cfg.Issuers) == 0 {
		return nil, errors.New("authenticator: JWT keys given without an issuer to accept (the LMS's JWT_ISSUER, e.g. https://lms.example.com/oauth2)")
	}
	a := &Authenticator{st: cfg.Store, keys: cfg.Keys, iss: cfg.Issuers, aud: cfg.Audiences, leeway: cfg.Leeway, now: cfg.Now}
	if a.leeway == 0 {
		a.leeway = 30 * time.Second
	}
	if a.now == nil {
		a.now = time.Now
	}
	return a, nil
}

// Authenticate returns the caller of r. Credentials are looked for, in
// order, in the Authorization header ("Bearer", "Token" or "JWT" followed
// by an API token or a JWT), the figures-token cookie, and the Open edX JWT
// cookie pair. The error is a *StatusError: 401 when there are no
// credentials or they are not valid, 403 when they are valid but refused
// (an inactive user, a restricted JWT).
func (a *Authenticator) Authenticate(r *http.Request) (*Principal, error) {
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, cred, ok := strings.Cut(strings.TrimSpace(h), " ")
		cred = strings.TrimSpace(cred)
		if !ok || cred == "" {
			return nil, unauthorized("Invalid token header. No credentials provided.", nil)
		}
		switch strings.ToLower(scheme) {
		case "bearer", "token", "jwt":
		default:
			return nil, unauthorized(fmt.Sprintf("Authorization scheme %q is not accepted; use Bearer.", scheme), nil)
		}
		return a.Verify(ctx, cred)
	}
	if c, err := r.Cookie(TokenCookie); err == nil && c.Value != "" {
		return a.VerifyAPIToken(ctx, c.Value)
	}
	hp, err1 := r.Cookie(JWTHeaderPayloadCookie)
	sig, err2 := r.Cookie(JWTSignatureCookie)
	if err1 == nil && err2 == nil && hp.Value != "" && sig.Value != "" {
		return a.VerifyJWT(ctx, hp.Value+"."+sig.Value)
	}
	return nil, unauthorized(msgNoCredentials, nil)
}

// Verify checks a credential, an API token or a JWT, and returns its
// caller.
func (a *Authenticator) Verify(ctx context.Context, cred string) (*Principal, error) {
	if strings.HasPrefix(cred, store.APITokenPrefix) {
		return a.VerifyAPIToken(ctx, cred)
	}
	if strings.Count(cred, ".") == 2 {
		return a.VerifyJWT(ctx, cred)
	}
	return nil, unauthorized(msgInvalidToken, nil)
}

// VerifyAPIToken checks an API token against the store's hashes.
func (a *Authenticator) VerifyAPIToken(ctx context.Context, token string) (*Principal, error) {
	t, err := a.st.LookupAPIToken(ctx, store.HashAPIToken(token))
	if errors.Is(err, store.ErrAPINotFound) {
		return nil, unauthorized(msgInvalidToken, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	p := &Principal{Kind: "token", Name: t.Name, TokenID: t.ID, Global: t.SiteID == nil, Sites: []int{}}
	if t.SiteID != nil {
		p.Sites = []int{*t.SiteID}
	}
	return p, nil
}

// jwtAlgorithms are the signatures accepted: the LMS signs its asymmetric
// JWTs with JWT_SIGNING_ALGORITHM, RS512 by default, RS256 in some
// installations. Symmetric (HS*) JWTs are refused: verifying them would
// need the LMS's secret key.
var jwtAlgorithms = []string{"RS256", "RS384", "RS512"}

// VerifyJWT checks an Open edX JWT: signature against the LMS's public keys,
// expiry, issuer and audience; then reads the user from its claims, as
// edx-platform's oauth_dispatch writes them: preferred_username (the
// username), administrator (is_staff), superuser (is_superuser),
// email_verified (is_active), is_restricted (a restricted OAuth client).
func (a *Authenticator) VerifyJWT(ctx context.Context, raw string) (*Principal, error) {
	if a.keys == nil {
		return nil, unauthorized("JWT authentication is not configured on this server (see figures serve --jwt-jwks).", nil)
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(jwtAlgorithms),
		jwt.WithLeeway(a.leeway),
		jwt.WithTimeFunc(a.now),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		keys, err := a.keys.Keys(ctx, kid)
		if err != nil {
			return nil, err
		}
		vk := jwt.VerificationKeySet{}
		for _, k := range keys {
			vk.Keys = append(vk.Keys, k)
		}
		return vk, nil
	}, opts...)
	if err == nil {
		// WithIssuedAt checks iat only when present; the LMS always
		// writes one, and docs/API.md promises it is required.
		if _, ok := claims["iat"]; !ok {
			err = errors.New("token has no iat (issued at) claim")
		}
	}
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, unauthorized("Signature has expired.", err)
	case err != nil:
		return nil, unauthorized("Error decoding token.", err)
	}
	iss, _ := claims["iss"].(string)
	if !slices.Contains(a.iss, iss) {
		return nil, unauthorized("Invalid token issuer.", fmt.Errorf("issuer %q not accepted", iss))
	}
	if len(a.aud) > 0 {
		auds, _ := claims.GetAudience()
		if !slices.ContainsFunc(auds, func(s string) bool { return slices.Contains(a.aud, s) }) {
			return nil, unauthorized("Invalid token audience.", fmt.Errorf("audience %v not accepted", auds))
		}
	}
	if v, ok := claims["version"].(string); ok && !strings.HasPrefix(v, "1.") {
		return nil, unauthorized(fmt.Sprintf("JWT version %s is not supported.", v), nil)
	}
	username, _ := claims["preferred_username"].(string)
	if username == "" {
		// Tokens older than the preferred_username claim named it username.
		username, _ = claims["username"].(string)
	}
	if username == "" {
		return nil, unauthorized(msgInvalidToken, errors.New("JWT names no user (preferred_username)"))
	}
	if restricted, _ := claims["is_restricted"].(bool); restricted {
		return nil, &StatusError{Status: http.StatusForbidden, Detail: "Restricted JWTs (issued to restricted OAuth applications) are not accepted."}
	}
	if active, ok := claims["email_verified"].(bool); ok && !active {
		return nil, &StatusError{Status: http.StatusForbidden, Detail: msgForbidden, Err: fmt.Errorf("user %s is not active", username)}
	}
	admin, _ := claims["administrator"].(bool)
	super, _ := claims["superuser"].(bool)
	p := &Principal{Kind: "jwt", Name: username, Username: username, Global: admin || super, Sites: []int{}}
	if !p.Global {
		sites, err := a.st.SiteAdminSites(ctx, username)
		if err != nil {
			return nil, fmt.Errorf("authenticate: %w", err)
		}
		p.Sites = sites
	}
	return p, nil
}

func unauthorized(detail string, err error) error {
	return &StatusError{Status: http.StatusUnauthorized, Detail: detail, Err: err}
}
