package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/figures-analytics/figures/internal/database"
)

// APITokenPrefix starts every API token, so that a token found in a log or a
// repository is recognisable, and so that the API tells it from a JWT.
const APITokenPrefix = "fgt_"

// APIToken is a stored API token: never the token itself, only its hash.
type APIToken struct {
	ID   int64
	Name string
	// SiteID is the one site the token may read, or nil for every site.
	SiteID  *int
	Created time.Time
	// Revoked is set once the token has been revoked.
	Revoked *time.Time
}

// ErrAPINotFound is returned when an API token or a site-admin grant does
// not exist.
var ErrAPINotFound = errors.New("not found")

// HashAPIToken returns the stored form of a token: SHA-256, hex. A token
// holds 32 random bytes, so a plain hash is enough (no salt or stretching
// is needed against guessing), and it lets a request find its token with
// one indexed lookup.
func HashAPIToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateAPIToken creates a token for one site (siteID non-nil) or for
// every site (nil). It returns the token, which is shown once and cannot be
// recovered later, and its stored record.
func (s *Store) CreateAPIToken(ctx context.Context, name string, siteID *int, now time.Time) (string, APIToken, error) {
	if siteID != nil {
		var n int
		if err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM figures_site WHERE id = ?", *siteID).Scan(&n); err != nil {
			return "", APIToken{}, fmt.Errorf("create token: check site: %w", err)
		}
		if n == 0 {
			return "", APIToken{}, fmt.Errorf("create token: site %d is not in the store (run the pipeline first, or check the id)", *siteID)
		}
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", APIToken{}, fmt.Errorf("create token: %w", err)
	}
	token := APITokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	now = now.UTC().Truncate(time.Microsecond)
	var site any
	if siteID != nil {
		site = *siteID
	}
	if _, err := s.db.Exec(ctx, "INSERT INTO figures_apitoken (name, token_hash, site_id, created) VALUES (?, ?, ?, ?)",
		name, HashAPIToken(token), site, s.db.Time(now)); err != nil {
		return "", APIToken{}, fmt.Errorf("create token: %w", err)
	}
	var id int64
	if err := s.db.QueryRow(ctx, "SELECT id FROM figures_apitoken WHERE token_hash = ?", HashAPIToken(token)).Scan(&id); err != nil {
		return "", APIToken{}, fmt.Errorf("create token: read back: %w", err)
	}
	return token, APIToken{ID: id, Name: name, SiteID: siteID, Created: now}, nil
}

const apiTokenCols = "id, name, site_id, created, revoked"

func scanAPIToken(sc interface{ Scan(...any) error }) (APIToken, error) {
	var (
		t       APIToken
		site    sql.NullInt64
		created database.NullTime
		revoked database.NullTime
	)
	if err := sc.Scan(&t.ID, &t.Name, &site, &created, &revoked); err != nil {
		return APIToken{}, err
	}
	if site.Valid {
		v := int(site.Int64)
		t.SiteID = &v
	}
	t.Created = created.Time
	t.Revoked = revoked.Ptr()
	return t, nil
}

// LookupAPIToken finds the live (not revoked) token whose hash is hash.
// It returns ErrAPINotFound for an unknown or revoked token.
func (s *Store) LookupAPIToken(ctx context.Context, hash string) (APIToken, error) {
	row := s.db.QueryRow(ctx, "SELECT "+apiTokenCols+" FROM figures_apitoken WHERE token_hash = ? AND revoked IS NULL", hash)
	t, err := scanAPIToken(row)
	if errors.Is(err, sql.ErrNoRows) {
		return APIToken{}, ErrAPINotFound
	}
	if err != nil {
		return APIToken{}, fmt.Errorf("look up API token: %w", err)
	}
	return t, nil
}

// ListAPITokens returns every token, revoked ones included, oldest first.
func (s *Store) ListAPITokens(ctx context.Context) ([]APIToken, error) {
	rows, err := s.db.Query(ctx, "SELECT "+apiTokenCols+" FROM figures_apitoken ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list API tokens: %w", err)
	}
	defer rows.Close()
	var out []APIToken
	for rows.Next() {
		t, err := scanAPIToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list API tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list API tokens: %w", err)
	}
	return out, nil
}

// RevokeAPIToken revokes the token with id. Revoking an already revoked
// token keeps its first revocation time. An unknown id is ErrAPINotFound.
func (s *Store) RevokeAPIToken(ctx context.Context, id int64, now time.Time) error {
	var n int
	if err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM figures_apitoken WHERE id = ?", id).Scan(&n); err != nil {
		return fmt.Errorf("revoke API token %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("revoke API token %d: %w", id, ErrAPINotFound)
	}
	if _, err := s.db.Exec(ctx, "UPDATE figures_apitoken SET revoked = ? WHERE id = ? AND revoked IS NULL",
		s.db.Time(now.UTC().Truncate(time.Microsecond)), id); err != nil {
		return fmt.Errorf("revoke API token %d: %w", id, err)
	}
	return nil
}

// SiteAdmin grants the LMS user Username the administration of one site's
// Figures data.
type SiteAdmin struct {
	SiteID   int
	Username string
	Created  time.Time
}

// GrantSiteAdmin makes username an administrator of site siteID. Granting
// an existing grant again is not an error.
func (s *Store) GrantSiteAdmin(ctx context.Context, siteID int, username string, now time.Time) error {
	username = strings.TrimSpace(username)
	if username == "" {
		return errors.New("grant site admin: empty username")
	}
	var n int
	if err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM figures_site WHERE id = ?", siteID).Scan(&n); err != nil {
		return fmt.Errorf("grant site admin: check site: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("grant site admin: site %d is not in the store", siteID)
	}
	if err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM figures_siteadmin WHERE site_id = ? AND username = ?", siteID, username).Scan(&n); err != nil {
		return fmt.Errorf("grant site admin: %w", err)
	}
	if n > 0 {
		return nil
	}
	if _, err := s.db.Exec(ctx, "INSERT INTO figures_siteadmin (site_id, username, created) VALUES (?, ?, ?)",
		siteID, username, s.db.Time(now.UTC().Truncate(time.Microsecond))); err != nil {
		return fmt.Errorf("grant site admin: %w", err)
	}
	return nil
}

// RevokeSiteAdmin removes a grant; an unknown grant is ErrAPINotFound.
func (s *Store) RevokeSiteAdmin(ctx context.Context, siteID int, username string) error {
	res, err := s.db.Exec(ctx, "DELETE FROM figures_siteadmin WHERE site_id = ? AND username = ?", siteID, username)
	if err != nil {
		return fmt.Errorf("revoke site admin: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("revoke site admin %s on site %d: %w", username, siteID, ErrAPINotFound)
	}
	return nil
}

// ListSiteAdmins returns every grant, by site then username.
func (s *Store) ListSiteAdmins(ctx context.Context) ([]SiteAdmin, error) {
	rows, err := s.db.Query(ctx, "SELECT site_id, username, created FROM figures_siteadmin ORDER BY site_id, username")
	if err != nil {
		return nil, fmt.Errorf("list site admins: %w", err)
	}
	defer rows.Close()
	var out []SiteAdmin
	for rows.Next() {
		var (
			a       SiteAdmin
			created database.NullTime
		)
		if err := rows.Scan(&a.SiteID, &a.Username, &created); err != nil {
			return nil, fmt.Errorf("list site admins: %w", err)
		}
		a.Created = created.Time
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list site admins: %w", err)
	}
	return out, nil
}

// SiteAdminSites returns the ids of the sites username administers, in
// ascending order (none: an empty slice).
func (s *Store) SiteAdminSites(ctx context.Context, username string) ([]int, error) {
	rows, err := s.db.Query(ctx, "SELECT site_id FROM figures_siteadmin WHERE username = ? ORDER BY site_id", username)
	if err != nil {
		return nil, fmt.Errorf("site admin grants of %s: %w", username, err)
	}
	defer rows.Close()
	out := []int{}
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("site admin grants of %s: %w", username, err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("site admin grants of %s: %w", username, err)
	}
	return out, nil
}
