-- Per-enrollment values that are estimates: where the platform would draw
-- part of a learner's course structure at random when it first grades them
-- (a cohort among several random cohorts, an experiment group, a library
-- selection), figures takes a fixed choice and says so here, naming the
-- reasons ("cohort", "experiment", "library", comma-separated); NULL when
-- the values are exact. A new column beside the Figures columns, whose
-- meaning is unchanged.

-- +goose Up
ALTER TABLE figures_enrollmentdata ADD COLUMN estimate varchar(64) NULL;
ALTER TABLE figures_learnercoursegrademetrics ADD COLUMN estimate varchar(64) NULL;

-- +goose Down
ALTER TABLE figures_learnercoursegrademetrics DROP COLUMN estimate;
ALTER TABLE figures_enrollmentdata DROP COLUMN estimate;
