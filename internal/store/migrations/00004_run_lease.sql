-- Who runs a run: the host and process that started it, and when it last
-- said it was alive (every 15 s while it runs). A run whose process was
-- killed is then marked interrupted instead of staying "running" for ever.

-- +goose Up
ALTER TABLE figures_run ADD COLUMN host varchar(255) NOT NULL DEFAULT '';
ALTER TABLE figures_run ADD COLUMN pid integer NOT NULL DEFAULT 0;
ALTER TABLE figures_run ADD COLUMN heartbeat {{.DATETIME}} NULL;
CREATE INDEX figures_run_status ON figures_run (status);

-- +goose Down
DROP INDEX figures_run_status{{if .TABLEOPTS}} ON figures_run{{end}};
ALTER TABLE figures_run DROP COLUMN heartbeat;
ALTER TABLE figures_run DROP COLUMN pid;
ALTER TABLE figures_run DROP COLUMN host;
