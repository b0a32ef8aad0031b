package api

import (
	"database/sql"
	"net/http"
)

// The admin/sites endpoints are for global callers only. (The original
// required staff on the default site's host, which tied an API answer to
// the Host header; here a global caller is one that may read every site
// anyway.)

func scanSite(rows *sql.Rows) (Site, error) {
	var s Site
	err := rows.Scan(&s.ID, &s.Domain, &s.Name)
	return s, err
}

func (s *Server) adminSitesList(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p := newParams(r)
	var wh where
	p.textFilters(&wh, textFilter{param: "domain", col: "domain"}, textFilter{param: "name", col: "name"})
	order := p.orderBy(ordering{fields: map[string][]string{"id": {"id"}, "domain": {"domain"}, "name": {"name"}}, tie: "id"})
	serveList(s, w, r, p, list[Site]{
		name:      "sites",
		pager:     limitOffset{20},
		count:     query{"SELECT COUNT(*) FROM figures_site" + wh.sql(), wh.args},
		rows:      query{"SELECT id, domain, name FROM figures_site" + wh.sql() + " ORDER BY " + order, wh.args},
		scan:      scanSite,
		csvHeader: []string{"id", "domain", "name"},
		csvRecord: func(st Site) []string { return []string{csvInt(int64(st.ID)), st.Domain, st.Name} },
	})
}

func (s *Server) adminSitesDetail(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	serveByID(s, w, r, "SELECT id, domain, name FROM figures_site WHERE id = ?", scanSite)
}
