package synth

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/figures-analytics/figures/internal/database"
)

// recordTable is the generator's own table in the LMS database: one row
// saying which dataset the platform tables hold, so a benchmark can tell
// whether a database already holds the dataset it wants.
const recordTable = "figures_synth"

func createRecordTable(ctx context.Context, db *database.DB) error {
	ddl := `CREATE TABLE ` + recordTable + ` (
  id int NOT NULL PRIMARY KEY,
  generator int NOT NULL,
  fingerprint varchar(255) NOT NULL,
  scale varchar(16) NOT NULL,
  seed varchar(20) NOT NULL,
  end_date varchar(10) NOT NULL,
  days int NOT NULL,
  history_factor double NOT NULL,
  real_courses int NOT NULL,
  counts longtext NOT NULL
)`
	if _, err := db.SQL().ExecContext(ctx, ddl); err != nil {
		return fmt.Errorf("create %s: %w", recordTable, err)
	}
	return nil
}

// Record is what figures_synth says about the dataset in a database.
type Record struct {
	Generator     int
	Fingerprint   string
	Scale         Scale
	Seed          uint64
	EndDate       string
	Days          int
	HistoryFactor float64
	RealCourses   int
	// Counts are the row counts per table.
	Counts map[string]int64
}

func record(ctx context.Context, db *database.DB, s Summary, realCourses int) error {
	counts := map[string]int64{}
	for _, t := range s.Tables {
		counts[t.Table] = t.Rows
	}
	b, err := json.Marshal(counts)
	if err != nil {
		return err
	}
	_, err = db.Exec(ctx, "INSERT INTO "+recordTable+
		" (id, generator, fingerprint, scale, seed, end_date, days, history_factor, real_courses, counts) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		generatorVersion, s.Fingerprint, string(s.Scale), strconv.FormatUint(s.Seed, 10), s.EndDate, s.Days,
		s.HistoryFactor, realCourses, string(b))
	if err != nil {
		return fmt.Errorf("record the dataset in %s: %w", recordTable, err)
	}
	return nil
}

// Recorded returns the dataset recorded in db by a completed Generate, or
// nil when there is none (no figures_synth table, or a run that did not
// finish).
func Recorded(ctx context.Context, db *database.DB) (*Record, error) {
	var (
		r           Record
		seed, scale string
		counts      string
	)
	err := db.QueryRow(ctx, "SELECT generator, fingerprint, scale, seed, end_date, days, history_factor, real_courses, counts FROM "+
		recordTable+" WHERE id = 1").Scan(&r.Generator, &r.Fingerprint, &scale, &seed, &r.EndDate, &r.Days,
		&r.HistoryFactor, &r.RealCourses, &counts)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		// Most likely the table does not exist: not a synthetic LMS.
		if _, probe := db.SQL().ExecContext(ctx, "SELECT 1 FROM "+recordTable+" WHERE 1 = 0"); probe != nil {
			return nil, nil
		}
		return nil, fmt.Errorf("read %s: %w", recordTable, err)
	}
	r.Scale = Scale(scale)
	if r.Seed, err = strconv.ParseUint(seed, 10, 64); err != nil {
		return nil, fmt.Errorf("read %s: seed %q: %w", recordTable, seed, err)
	}
	if err := json.Unmarshal([]byte(counts), &r.Counts); err != nil {
		return nil, fmt.Errorf("read %s: counts: %w", recordTable, err)
	}
	return &r, nil
}

// Fingerprint returns the fingerprint Generate would record for these
// options (with the real courses found under SharedData), so that a caller
// can compare it with Recorded before deciding to generate. It fails when
// the options are invalid.
func (o Options) Fingerprint() (string, error) {
	if err := o.normalize(); err != nil {
		return "", err
	}
	n := 0
	if o.SharedData != "" {
		for _, rc := range realCourses {
			if _, err := os.Stat(filepath.Join(o.SharedData, rc.dir, "course.xml")); err == nil {
				n++
			}
		}
	}
	return o.fingerprint(n), nil
}

// manifestEntry is one course of the OLX folder's manifest.json.
type manifestEntry struct {
	CourseID string `json:"course_id"`
	OLX      string `json:"olx"`
	Real     bool   `json:"real"`
	Site     int    `json:"site"`
}

// writeManifest lists every course and its export in dir/manifest.json,
// so the demo (or a person) can import all of them.
func writeManifest(dir string, s Summary) error {
	m := struct {
		Fingerprint string          `json:"fingerprint"`
		Courses     []manifestEntry `json:"courses"`
	}{Fingerprint: s.Fingerprint}
	for _, c := range s.Courses {
		m.Courses = append(m.Courses, manifestEntry{CourseID: c.ID, OLX: c.OLX, Real: c.Real, Site: c.Site})
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("OLX manifest: %w", err)
	}
	return nil
}
