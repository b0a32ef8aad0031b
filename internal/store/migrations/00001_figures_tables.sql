-- The Figures-compatible tables: the original's table and column names, so
-- that existing SQL reports keep working, with its uniqueness gaps fixed:
-- (site, date_for) is unique for site daily metrics and the site is part of
-- every per-course and per-enrollment key.

-- +goose Up
CREATE TABLE figures_sitedailymetrics (
  id {{.ID}},
  created {{.DATETIME}} NOT NULL,
  modified {{.DATETIME}} NOT NULL,
  site_id integer NOT NULL,
  date_for date NOT NULL,
  cumulative_active_user_count integer NULL,
  todays_active_user_count integer NULL,
  total_user_count integer NOT NULL,
  course_count integer NOT NULL,
  total_enrollment_count integer NOT NULL,
  mau integer NULL,
  CONSTRAINT figures_sitedailymetrics_site_date_uniq UNIQUE (site_id, date_for)
){{.TABLEOPTS}};
CREATE INDEX figures_sitedailymetrics_date_for ON figures_sitedailymetrics (date_for);

CREATE TABLE figures_coursedailymetrics (
  id {{.ID}},
  created {{.DATETIME}} NOT NULL,
  modified {{.DATETIME}} NOT NULL,
  site_id integer NOT NULL,
  date_for date NOT NULL,
  course_id varchar(255) NOT NULL,
  enrollment_count integer NOT NULL,
  active_learners_today integer NOT NULL,
  average_progress decimal(3,2) NULL,
  average_days_to_complete integer NULL,
  num_learners_completed integer NOT NULL,
  CONSTRAINT figures_coursedailymetrics_site_course_date_uniq UNIQUE (site_id, course_id, date_for)
){{.TABLEOPTS}};
CREATE INDEX figures_coursedailymetrics_date_for ON figures_coursedailymetrics (date_for);
CREATE INDEX figures_coursedailymetrics_course_id ON figures_coursedailymetrics (course_id);

CREATE TABLE figures_learnercoursegrademetrics (
  id {{.ID}},
  created {{.DATETIME}} NOT NULL,
  modified {{.DATETIME}} NOT NULL,
  site_id integer NOT NULL,
  date_for date NOT NULL,
  user_id integer NULL,
  course_id varchar(255) NOT NULL,
  points_possible {{.DOUBLE}} NOT NULL,
  points_earned {{.DOUBLE}} NOT NULL,
  sections_worked integer NOT NULL,
  sections_possible integer NOT NULL,
  collect_elapsed {{.DOUBLE}} NULL,
  CONSTRAINT figures_lcgm_site_user_course_date_uniq UNIQUE (site_id, user_id, course_id, date_for)
){{.TABLEOPTS}};
CREATE INDEX figures_learnercoursegrademetrics_date_for ON figures_learnercoursegrademetrics (date_for);
CREATE INDEX figures_learnercoursegrademetrics_course_id ON figures_learnercoursegrademetrics (course_id);
CREATE INDEX figures_learnercoursegrademetrics_user_id ON figures_learnercoursegrademetrics (user_id);

CREATE TABLE figures_enrollmentdata (
  id {{.ID}},
  created {{.DATETIME}} NOT NULL,
  modified {{.DATETIME}} NOT NULL,
  site_id integer NOT NULL,
  user_id integer NOT NULL,
  course_id varchar(255) NOT NULL,
  date_for date NOT NULL,
  date_enrolled date NULL,
  is_enrolled {{.BOOL}} NOT NULL,
  is_completed {{.BOOL}} NOT NULL,
  progress_percent {{.DOUBLE}} NOT NULL,
  points_possible {{.DOUBLE}} NOT NULL,
  points_earned {{.DOUBLE}} NOT NULL,
  sections_worked integer NOT NULL,
  sections_possible integer NOT NULL,
  collect_elapsed {{.DOUBLE}} NULL,
  CONSTRAINT figures_enrollmentdata_site_user_course_uniq UNIQUE (site_id, user_id, course_id)
){{.TABLEOPTS}};
CREATE INDEX figures_enrollmentdata_course_id ON figures_enrollmentdata (course_id);
CREATE INDEX figures_enrollmentdata_date_for ON figures_enrollmentdata (date_for);
CREATE INDEX figures_enrollmentdata_date_enrolled ON figures_enrollmentdata (date_enrolled);
CREATE INDEX figures_enrollmentdata_user_id ON figures_enrollmentdata (user_id);

CREATE TABLE figures_sitemonthlymetrics (
  id {{.ID}},
  created {{.DATETIME}} NOT NULL,
  modified {{.DATETIME}} NOT NULL,
  site_id integer NOT NULL,
  month_for date NOT NULL,
  active_user_count integer NOT NULL,
  CONSTRAINT figures_sitemonthlymetrics_month_site_uniq UNIQUE (month_for, site_id)
){{.TABLEOPTS}};
CREATE INDEX figures_sitemonthlymetrics_site_id ON figures_sitemonthlymetrics (site_id);

CREATE TABLE figures_coursemaumetrics (
  id {{.ID}},
  created {{.DATETIME}} NOT NULL,
  modified {{.DATETIME}} NOT NULL,
  site_id integer NOT NULL,
  date_for date NOT NULL,
  course_id varchar(255) NOT NULL,
  mau integer NOT NULL,
  CONSTRAINT figures_coursemaumetrics_site_course_date_uniq UNIQUE (site_id, course_id, date_for)
){{.TABLEOPTS}};

CREATE TABLE figures_sitemaumetrics (
  id {{.ID}},
  created {{.DATETIME}} NOT NULL,
  modified {{.DATETIME}} NOT NULL,
  site_id integer NOT NULL,
  date_for date NOT NULL,
  mau integer NOT NULL,
  CONSTRAINT figures_sitemaumetrics_site_date_uniq UNIQUE (site_id, date_for)
){{.TABLEOPTS}};

-- first_active is ours (not in the original): the first day of the month on
-- which the learner was seen active, so month-to-date counts as of any day
-- can be read back from this table.
CREATE TABLE figures_monthlyactiveenrollment (
  id {{.ID}},
  created {{.DATETIME}} NOT NULL,
  modified {{.DATETIME}} NOT NULL,
  site_id integer NOT NULL,
  user_id integer NOT NULL,
  course_id varchar(255) NOT NULL,
  month_for date NOT NULL,
  first_active date NOT NULL,
  CONSTRAINT figures_mae_site_course_user_month_uniq UNIQUE (site_id, course_id, user_id, month_for)
){{.TABLEOPTS}};
CREATE INDEX figures_monthlyactiveenrollment_course_id ON figures_monthlyactiveenrollment (course_id);
CREATE INDEX figures_monthlyactiveenrollment_month_for ON figures_monthlyactiveenrollment (month_for);
CREATE INDEX figures_monthlyactiveenrollment_site_month ON figures_monthlyactiveenrollment (site_id, month_for, first_active);

CREATE TABLE figures_pipelineerror (
  id {{.ID}},
  created {{.DATETIME}} NOT NULL,
  modified {{.DATETIME}} NOT NULL,
  error_type varchar(255) NOT NULL,
  error_data {{.TEXT}} NOT NULL,
  course_id varchar(255) NOT NULL,
  user_id integer NULL,
  site_id integer NULL,
  run_id integer NULL
){{.TABLEOPTS}};
CREATE INDEX figures_pipelineerror_created ON figures_pipelineerror (created);
CREATE INDEX figures_pipelineerror_run_id ON figures_pipelineerror (run_id);

-- +goose Down
DROP TABLE figures_pipelineerror;
DROP TABLE figures_monthlyactiveenrollment;
DROP TABLE figures_sitemaumetrics;
DROP TABLE figures_coursemaumetrics;
DROP TABLE figures_sitemonthlymetrics;
DROP TABLE figures_enrollmentdata;
DROP TABLE figures_learnercoursegrademetrics;
DROP TABLE figures_coursedailymetrics;
DROP TABLE figures_sitedailymetrics;
