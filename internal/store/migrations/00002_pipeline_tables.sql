-- Our own tables: the sites and courses as the pipeline resolved them, the
-- LMS directory the API shows and the daily counts are taken from (learners,
-- enrollments, certificates, mirrored at each run), the imported course
-- outlines, the record of every run, and the incremental watermarks.

-- +goose Up
CREATE TABLE figures_site (
  id integer NOT NULL PRIMARY KEY,
  domain varchar(100) NOT NULL,
  name varchar(50) NOT NULL,
  org_filter {{.TEXT}} NOT NULL,
  modified {{.DATETIME}} NOT NULL
){{.TABLEOPTS}};

CREATE TABLE figures_course (
  course_id varchar(255) NOT NULL PRIMARY KEY,
  display_name varchar(255) NOT NULL,
  org varchar(255) NOT NULL,
  number varchar(255) NOT NULL,
  start_date {{.DATETIME}} NULL,
  end_date {{.DATETIME}} NULL,
  self_paced {{.BOOL}} NOT NULL,
  first_enrollment {{.DATETIME}} NULL,
  modified {{.DATETIME}} NOT NULL
){{.TABLEOPTS}};

CREATE TABLE figures_sitecourse (
  site_id integer NOT NULL,
  course_id varchar(255) NOT NULL,
  PRIMARY KEY (site_id, course_id)
){{.TABLEOPTS}};
CREATE INDEX figures_sitecourse_course_id ON figures_sitecourse (course_id);

CREATE TABLE figures_learner (
  user_id integer NOT NULL PRIMARY KEY,
  username varchar(150) NOT NULL,
  email varchar(254) NOT NULL,
  fullname varchar(255) NOT NULL,
  is_active {{.BOOL}} NOT NULL,
  is_staff {{.BOOL}} NOT NULL,
  is_superuser {{.BOOL}} NOT NULL,
  date_joined {{.DATETIME}} NOT NULL,
  last_login {{.DATETIME}} NULL,
  country varchar(2) NOT NULL,
  gender varchar(6) NOT NULL,
  year_of_birth integer NULL,
  level_of_education varchar(6) NOT NULL,
  language varchar(255) NOT NULL,
  has_profile {{.BOOL}} NOT NULL
){{.TABLEOPTS}};
CREATE INDEX figures_learner_username ON figures_learner (username);
CREATE INDEX figures_learner_email ON figures_learner (email);

-- Keyed by (user, course) like the platform's unique key; id is the LMS's.
CREATE TABLE figures_courseenrollment (
  user_id integer NOT NULL,
  course_id varchar(255) NOT NULL,
  id integer NOT NULL,
  created {{.DATETIME}} NULL,
  is_active {{.BOOL}} NOT NULL,
  mode varchar(100) NOT NULL,
  is_course_staff {{.BOOL}} NOT NULL,
  PRIMARY KEY (user_id, course_id)
){{.TABLEOPTS}};
CREATE INDEX figures_courseenrollment_course_id ON figures_courseenrollment (course_id, is_active);
CREATE INDEX figures_courseenrollment_id ON figures_courseenrollment (id);

CREATE TABLE figures_certificate (
  user_id integer NOT NULL,
  course_id varchar(255) NOT NULL,
  id integer NOT NULL,
  status varchar(32) NOT NULL,
  created_date {{.DATETIME}} NOT NULL,
  PRIMARY KEY (user_id, course_id)
){{.TABLEOPTS}};
CREATE INDEX figures_certificate_course_id ON figures_certificate (course_id, status);
CREATE INDEX figures_certificate_id ON figures_certificate (id);

CREATE TABLE figures_courseoutline (
  course_id varchar(255) NOT NULL PRIMARY KEY,
  version varchar(64) NOT NULL,
  source varchar(255) NOT NULL,
  outline {{.TEXT}} NOT NULL,
  imported {{.DATETIME}} NOT NULL
){{.TABLEOPTS}};

CREATE TABLE figures_run (
  id {{.ID}},
  kind varchar(32) NOT NULL,
  workflow varchar(32) NOT NULL,
  grades varchar(32) NOT NULL,
  date_for date NULL,
  date_to date NULL,
  started {{.DATETIME}} NOT NULL,
  finished {{.DATETIME}} NULL,
  status varchar(16) NOT NULL,
  courses integer NOT NULL,
  enrollments_examined integer NOT NULL,
  enrollments_updated integer NOT NULL,
  errors integer NOT NULL,
  lms_statements integer NOT NULL,
  message {{.TEXT}} NOT NULL
){{.TABLEOPTS}};
CREATE INDEX figures_run_started ON figures_run (started);

CREATE TABLE figures_watermark (
  name varchar(64) NOT NULL PRIMARY KEY,
  value {{.DATETIME}} NOT NULL,
  modified {{.DATETIME}} NOT NULL
){{.TABLEOPTS}};

-- +goose Down
DROP TABLE figures_watermark;
DROP TABLE figures_run;
DROP TABLE figures_courseoutline;
DROP TABLE figures_certificate;
DROP TABLE figures_courseenrollment;
DROP TABLE figures_learner;
DROP TABLE figures_sitecourse;
DROP TABLE figures_course;
DROP TABLE figures_site;
