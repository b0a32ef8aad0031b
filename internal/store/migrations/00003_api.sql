-- The REST API's own tables: API tokens (only a SHA-256 hash of each token is
-- kept, so a leaked store does not leak working credentials) and the site
-- administrators known by their LMS username (how a non-staff Open edX JWT
-- caller is given one site). Plus the indexes the API's read paths need,
-- chiefly the learners progress overview (learner-metrics) on large sites.

-- +goose Up
CREATE TABLE figures_apitoken (
  id {{.ID}},
  name varchar(100) NOT NULL,
  token_hash varchar(64) NOT NULL,
  site_id integer NULL,
  created {{.DATETIME}} NOT NULL,
  revoked {{.DATETIME}} NULL,
  CONSTRAINT figures_apitoken_hash_uniq UNIQUE (token_hash)
){{.TABLEOPTS}};

CREATE TABLE figures_siteadmin (
  site_id integer NOT NULL,
  username varchar(150) NOT NULL,
  created {{.DATETIME}} NOT NULL,
  PRIMARY KEY (site_id, username)
){{.TABLEOPTS}};
CREATE INDEX figures_siteadmin_username ON figures_siteadmin (username);

-- learner-metrics ?course=: the site's learners with progress in given
-- courses, read from the index alone.
CREATE INDEX figures_enrollmentdata_site_course_user ON figures_enrollmentdata (site_id, course_id, user_id);
-- The orderings the dashboard uses (profile__name is its default) so that a
-- page can be read in index order and stop at LIMIT.
CREATE INDEX figures_learner_fullname ON figures_learner (fullname, user_id);
CREATE INDEX figures_learner_date_joined ON figures_learner (date_joined, user_id);
-- enrollment-metrics: the site's LCGM rows in date order.
CREATE INDEX figures_lcgm_site_date ON figures_learnercoursegrademetrics (site_id, date_for);
-- Per-course month counts of active learners (course MAU without --lms).
CREATE INDEX figures_mae_site_month_course ON figures_monthlyactiveenrollment (site_id, month_for, course_id, user_id);
-- The stored MAU snapshot lists, newest first.
CREATE INDEX figures_coursemaumetrics_site_date ON figures_coursemaumetrics (site_id, date_for);
-- The Prometheus collector's per-kind latest run.
CREATE INDEX figures_run_kind_started ON figures_run (kind, started);

-- +goose Down
-- MySQL names the table in DROP INDEX, SQLite and PostgreSQL do not; the
-- table options token is set for MySQL only, so it tells the dialects apart.
DROP INDEX figures_run_kind_started{{if .TABLEOPTS}} ON figures_run{{end}};
DROP INDEX figures_coursemaumetrics_site_date{{if .TABLEOPTS}} ON figures_coursemaumetrics{{end}};
DROP INDEX figures_mae_site_month_course{{if .TABLEOPTS}} ON figures_monthlyactiveenrollment{{end}};
DROP INDEX figures_lcgm_site_date{{if .TABLEOPTS}} ON figures_learnercoursegrademetrics{{end}};
DROP INDEX figures_learner_date_joined{{if .TABLEOPTS}} ON figures_learner{{end}};
DROP INDEX figures_learner_fullname{{if .TABLEOPTS}} ON figures_learner{{end}};
DROP INDEX figures_enrollmentdata_site_course_user{{if .TABLEOPTS}} ON figures_enrollmentdata{{end}};
DROP TABLE figures_siteadmin;
DROP TABLE figures_apitoken;
