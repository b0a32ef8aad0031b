package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Site is a site of the store's directory (figures_site).
type Site struct {
	ID     int    `json:"id"`
	Domain string `json:"domain"`
	Name   string `json:"name"`
	// OrgFilter lists the organizations whose courses belong to the site;
	// empty for a standalone install, whose one site has every course.
	OrgFilter []string `json:"-"`
}

// Standalone reports whether the site is a standalone install's site,
// whose users are every learner (otherwise a site's users are the learners
// enrolled in one of its courses).
func (s Site) Standalone() bool { return len(s.OrgFilter) == 0 }

// siteCache keeps the store's site list for a few seconds: every request
// resolves its site, and the list changes only when the pipeline mirrors
// the LMS's sites.
type siteCache struct {
	mu      sync.Mutex
	sites   []Site
	fetched time.Time
}

const siteCacheTTL = 10 * time.Second

// sites returns every site, by id.
func (s *Server) sites(ctx context.Context) ([]Site, error) {
	s.siteCache.mu.Lock()
	defer s.siteCache.mu.Unlock()
	if s.siteCache.sites != nil && s.now().Sub(s.siteCache.fetched) < siteCacheTTL && !s.now().Before(s.siteCache.fetched) {
		return s.siteCache.sites, nil
	}
	rows, err := s.db.Query(ctx, "SELECT id, domain, name, org_filter FROM figures_site ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("read sites: %w", err)
	}
	defer rows.Close()
	out := []Site{}
	for rows.Next() {
		var (
			st     Site
			filter string
		)
		if err := rows.Scan(&st.ID, &st.Domain, &st.Name, &filter); err != nil {
			return nil, fmt.Errorf("read sites: %w", err)
		}
		st.OrgFilter = parseOrgFilter(filter)
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read sites: %w", err)
	}
	s.siteCache.sites, s.siteCache.fetched = out, s.now()
	return out, nil
}

// parseOrgFilter reads figures_site.org_filter: a JSON list of
// organizations, or (as the LMS's course_org_filter may be) one string.
func parseOrgFilter(text string) []string {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil
	}
	var list []string
	if err := json.Unmarshal([]byte(text), &list); err == nil {
		return list
	}
	var one string
	if err := json.Unmarshal([]byte(text), &one); err == nil && one != "" {
		return []string{one}
	}
	return []string{text}
}

// ResolveSite returns the site request r is for, as caller p may read it:
//
//   - ?site=ID when given (a caller who may not read that site gets 403);
//   - else the site whose domain is the request's Host, when p may read it;
//   - else, for a global caller, the configured default site, or the site
//     with the lowest id; for a site-bound caller, the lowest of its sites.
//
// A caller with no site at all gets 403. The error is a *StatusError.
func (s *Server) ResolveSite(r *http.Request, p *Principal) (Site, error) {
	sites, err := s.sites(r.Context())
	if err != nil {
		return Site{}, err
	}
	if !p.Global && len(p.Sites) == 0 {
		return Site{}, &StatusError{Status: http.StatusForbidden, Detail: msgForbidden, Err: fmt.Errorf("%s %q administers no site", p.Kind, p.Name)}
	}
	if v := r.URL.Query().Get("site"); v != "" {
		id, err := strconv.Atoi(v)
		if err != nil {
			return Site{}, &StatusError{Status: http.StatusBadRequest, Detail: fmt.Sprintf("site=%q: a site id (an integer) is required.", v)}
		}
		if !p.CanRead(id) {
			return Site{}, &StatusError{Status: http.StatusForbidden, Detail: msgForbidden}
		}
		for _, st := range sites {
			if st.ID == id {
				return st, nil
			}
		}
		return Site{}, &StatusError{Status: http.StatusNotFound, Detail: fmt.Sprintf("Site %d not found.", id)}
	}
	host := r.Host
	if s.cfg.TrustProxy {
		if h := firstHeaderValue(r, "X-Forwarded-Host"); h != "" {
			host = h
		}
	}
	if st, ok := siteByHost(sites, host); ok && p.CanRead(st.ID) {
		return st, nil
	}
	if p.Global {
		if s.cfg.DefaultSite != 0 {
			for _, st := range sites {
				if st.ID == s.cfg.DefaultSite {
					return st, nil
				}
			}
		}
		if len(sites) > 0 {
			return sites[0], nil
		}
		return Site{}, &StatusError{Status: http.StatusNotFound, Detail: "The store has no site yet: run the pipeline first."}
	}
	for _, st := range sites {
		if p.CanRead(st.ID) {
			return st, nil
		}
	}
	return Site{}, &StatusError{Status: http.StatusNotFound, Detail: "The caller's site is not in the store."}
}

// siteByHost finds the site whose domain is host, with or without the
// port, case-insensitively.
func siteByHost(sites []Site, host string) (Site, bool) {
	host = strings.ToLower(strings.TrimSpace(host))
	if host == "" {
		return Site{}, false
	}
	bare := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		bare = h
	}
	for _, st := range sites {
		d := strings.ToLower(st.Domain)
		if d == host || d == bare {
			return st, true
		}
	}
	return Site{}, false
}
