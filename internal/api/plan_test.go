package api

import (
	"context"
	"strings"
	"testing"

	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/store"
)

// TestMySQLPagePlans checks on MariaDB/MySQL that a learner-metrics page
// (and a users page) is read in index order with one probe per learner,
// not through a materialized semi-join of the whole site's rows.
func TestMySQLPagePlans(t *testing.T) {
	db := dbtest.MySQL(t)
	ctx := context.Background()
	if err := store.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	loadLarge(t, db, 20, 3000, 2)
	if _, err := db.Exec(ctx, "ANALYZE TABLE figures_learner, figures_enrollmentdata, figures_courseenrollment, figures_sitecourse"); err != nil {
		t.Fatal(err)
	}
	e := newEnvOver(t, db)
	site := Site{ID: 1, OrgFilter: []string{"BigX"}}
	cond, args := learnerMetricsFilter(site, nil)
	var lm where
	lm.add(e.srv.exists("SELECT 1 FROM figures_enrollmentdata e WHERE e.user_id = l.user_id AND "+cond), args...)
	var users where
	e.srv.siteUsers(&users, site)
	for _, q := range []query{
		{"SELECT " + learnerMetricsCols + " FROM figures_learner l" + lm.sql() + " ORDER BY l.fullname, l.user_id LIMIT 20", lm.args},
		{"SELECT " + learnerCols + " FROM figures_learner l" + users.sql() + " ORDER BY l.fullname, l.user_id LIMIT 20", users.args},
	} {
		plan := dbtest.Explain(t, db, q.sql, q.args...)
		var desc []string
		for _, r := range plan {
			desc = append(desc, r["table"]+" "+r["type"]+" "+r["key"]+" "+r["Extra"])
			if strings.HasPrefix(r["table"], "<subquery") || strings.Contains(r["Extra"], "filesort") {
				t.Errorf("%s\nplan: %v", q.sql, plan)
			}
		}
		if plan[0]["table"] != "l" || plan[0]["key"] != "figures_learner_fullname" {
			t.Errorf("%s\nnot read in figures_learner_fullname order: %s", q.sql, strings.Join(desc, "; "))
		}
	}
}
