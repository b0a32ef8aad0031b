package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/course"
	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/lms"
	"github.com/figures-analytics/figures/internal/pipeline"
	"github.com/figures-analytics/figures/internal/store"
	"github.com/figures-analytics/figures/internal/synth"
)

// dataset is a synthetic LMS the benchmark measures.
type dataset struct {
	// label names it in the report ("large", "large, history ×2").
	label  string
	url    string
	rec    *synth.Record
	olxDir string
	// courses are the manifest's courses and where their exports are.
	courses []manifestCourse
	// seeded is set when this run generated the dataset, with how long
	// that took.
	seeded time.Duration
}

// manifestCourse is one course of an OLX folder's manifest.json, as
// `figures seed` writes it.
type manifestCourse struct {
	CourseID string `json:"course_id"`
	OLX      string `json:"olx"`
	Real     bool   `json:"real"`
	Site     int    `json:"site"`
}

type manifest struct {
	Fingerprint string           `json:"fingerprint"`
	Courses     []manifestCourse `json:"courses"`
}

// readManifest reads dir/manifest.json.
func readManifest(dir string) (*manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "manifest.json"), err)
	}
	return &m, nil
}

// ensureDataset returns the dataset at url, generating it first when the
// database holds none. want says what to generate; when match is set, a
// recorded dataset must have want's fingerprint, otherwise any dataset of
// want's scale and history factor is accepted (the base dataset may have
// been seeded with another end date). A database holding something else
// is an error, never overwritten.
func ensureDataset(ctx context.Context, opts *Options, label, url string, want synth.Options, match bool) (*dataset, error) {
	db, err := opts.OpenSeedDB(ctx, url)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rec, err := synth.Recorded(ctx, db)
	if err != nil {
		return nil, err
	}
	ds := &dataset{label: label, url: url, olxDir: want.OLXDir}
	wantFP, err := want.Fingerprint()
	if err != nil {
		return nil, err
	}
	if rec != nil {
		ok := rec.Scale == want.Scale && rec.HistoryFactor == factorOf(want.HistoryFactor)
		if match {
			ok = rec.Fingerprint == wantFP
		}
		if !ok {
			return nil, fmt.Errorf("bench: %s holds another dataset (%s), not %s: give another database (or reseed it with `figures seed --reset`)",
				db.Location(), rec.Fingerprint, wantFP)
		}
		opts.logf("%s: %s holds the dataset (%s)", label, db.Location(), rec.Fingerprint)
	} else {
		opts.logf("%s: seeding %s (%s); this takes minutes", label, db.Location(), wantFP)
		began := time.Now()
		want.Progress = opts.seedProgress(label)
		if _, err := synth.Generate(ctx, db, want); err != nil {
			if errors.Is(err, synth.ErrNotEmpty) {
				return nil, fmt.Errorf("bench: %s: %w without a completed synthetic dataset; reseed it with `figures seed --reset` or give an empty database", db.Location(), err)
			}
			return nil, fmt.Errorf("bench: seed %s: %w", db.Location(), err)
		}
		ds.seeded = time.Since(began)
		if rec, err = synth.Recorded(ctx, db); err != nil {
			return nil, err
		}
		if rec == nil {
			return nil, fmt.Errorf("bench: seeding %s recorded no dataset", db.Location())
		}
	}
	ds.rec = rec
	m, err := readManifest(ds.olxDir)
	if err != nil {
		return nil, fmt.Errorf("bench: %s: the course exports of %s: %w (pass the --olx-dir it was seeded with)", label, db.Location(), err)
	}
	if m.Fingerprint != rec.Fingerprint {
		return nil, fmt.Errorf("bench: %s: %s holds the exports of %q, but %s holds %q (pass the --olx-dir it was seeded with)",
			label, ds.olxDir, m.Fingerprint, db.Location(), rec.Fingerprint)
	}
	ds.courses = m.Courses
	return ds, nil
}

func factorOf(f float64) float64 {
	if f <= 0 {
		return 1
	}
	return f
}

// name describes the dataset in the report and the log: its scale, and
// its history factor when it is not 1.
func (ds *dataset) name() string {
	if ds.rec == nil {
		return ds.label
	}
	if f := factorOf(ds.rec.HistoryFactor); f != 1 {
		return fmt.Sprintf("%s, history ×%g", ds.rec.Scale, f)
	}
	return string(ds.rec.Scale)
}

// endDate returns the dataset's last day.
func (ds *dataset) endDate() (calendar.Date, error) {
	return calendar.Parse(ds.rec.EndDate)
}

// firstDay returns a day before the dataset's oldest activity: its history
// (days × history factor) before the end date, and a day more.
func (ds *dataset) firstDay() (calendar.Date, error) {
	end, err := ds.endDate()
	if err != nil {
		return calendar.Date{}, err
	}
	span := int(math.Ceil(float64(ds.rec.Days)*factorOf(ds.rec.HistoryFactor))) + 1
	return end.AddDays(-span), nil
}

// templateVersion changes whenever buildTemplate would build a different
// store, so that a cached template of an older benchmark is rebuilt.
const templateVersion = 1

// templateKey identifies a template store: the dataset, the day measured
// and how the template was built.
type templateKey struct {
	Version     int    `json:"version"`
	Fingerprint string `json:"fingerprint"`
	Date        string `json:"date"`
}

// template returns the path of a SQLite store holding the state a daily
// run for d starts from, building it unless a matching one is cached in
// dir (and fresh is unset). See buildTemplate.
func (ds *dataset) template(ctx context.Context, opts *Options, dir string, d calendar.Date, fresh bool) (string, error) {
	key := templateKey{Version: templateVersion, Fingerprint: ds.rec.Fingerprint, Date: d.String()}
	kb, err := json.Marshal(key)
	if err != nil {
		return "", err
	}
	name := fmt.Sprintf("template-%s-%s", sanitize(ds.label), d)
	path := filepath.Join(dir, name+".db")
	keyPath := filepath.Join(dir, name+".key")
	if !fresh {
		if b, err := os.ReadFile(keyPath); err == nil && string(b) == string(kb) {
			if _, err := os.Stat(path); err == nil {
				opts.logf("%s: reusing the scratch store template %s", ds.label, path)
				return path, nil
			}
		}
	}
	os.Remove(keyPath)
	tmp := path + ".building"
	for _, p := range []string{tmp, tmp + "-wal", tmp + "-shm"} {
		os.Remove(p)
	}
	began := time.Now()
	if err := ds.buildTemplate(ctx, opts, tmp, d); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("bench: template store: %w", err)
	}
	if err := os.WriteFile(keyPath, kb, 0o644); err != nil {
		return "", fmt.Errorf("bench: template store: %w", err)
	}
	opts.logf("%s: built the scratch store template in %s", ds.label, time.Since(began).Round(time.Second))
	return path, nil
}

// buildTemplate builds, in a SQLite store at path, the state a daily run
// for d starts from on an installation that has run every day so far:
//
//   - the course outlines, imported from the dataset's exports;
//   - the directory (sites, courses, learners, enrollments, certificates),
//     mirrored by a full next run for the day before d, which also leaves
//     that day's metrics;
//   - every enrollment's latest progress snapshot labelled with the day of
//     its newest change before d — what a daily legacy, next or incremental
//     run leaves behind — written by one incremental pass over the whole
//     history before d (enrollments only, watermarks untouched).
//
// Without that last step legacy would recompute every enrollment, the cost
// of a first run rather than of a day.
func (ds *dataset) buildTemplate(ctx context.Context, opts *Options, path string, d calendar.Date) error {
	st, err := store.Open(ctx, "sqlite:///"+path)
	if err != nil {
		return err
	}
	defer st.Close()
	for i, c := range ds.courses {
		o, err := course.ImportOLX(c.OLX, course.ImportOptions{CourseID: c.CourseID})
		if err != nil {
			return fmt.Errorf("bench: import %s: %w", c.CourseID, err)
		}
		if _, err := st.SaveOutline(ctx, o); err != nil {
			return err
		}
		opts.progress(ds.label+": import outlines", i+1, len(ds.courses))
	}
	r, err := lms.Open(ctx, ds.url)
	if err != nil {
		return err
	}
	defer r.Close()
	quiet := opts.quietLog()
	opts.logf("%s: template: directory and the run for %s", ds.label, d.AddDays(-1))
	if _, err := pipeline.Run(ctx, r, st, pipeline.Config{Workflow: pipeline.Next, Date: d.AddDays(-1), Log: quiet,
		Progress: opts.stageProgress(ds.label + ": template run")}); err != nil {
		return fmt.Errorf("bench: template: run for %s: %w", d.AddDays(-1), err)
	}
	first, err := ds.firstDay()
	if err != nil {
		return err
	}
	upper := d.Start()
	lag := time.Minute
	opts.logf("%s: template: every enrollment's snapshot as of %s (one incremental pass from %s)", ds.label, d, first)
	if _, err := pipeline.Run(ctx, r, st, pipeline.Config{Workflow: pipeline.Incremental, EnrollmentsOnly: true,
		Date: first, Lag: lag, Now: func() time.Time { return upper.Add(lag) }, Log: quiet,
		Progress: opts.stageProgress(ds.label + ": template snapshots")}); err != nil {
		return fmt.Errorf("bench: template: snapshots before %s: %w", d, err)
	}
	return st.Close()
}

// copyFile copies src to a new file dst, synced to the disk.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	// Written through to the disk now, outside the measurement: a fresh
	// copy is all dirty pages, and the first fsync of the run (SQLite's
	// checkpoint) would otherwise write the whole file, a cost no real
	// store has.
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func sanitize(s string) string {
	out := []rune{}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			out = append(out, r)
		default:
			if len(out) > 0 && out[len(out)-1] != '-' {
				out = append(out, '-')
			}
		}
	}
	return string(out)
}

// openDB opens a database for the benchmark's own reads (server and
// dataset facts).
func openDB(ctx context.Context, url string) (*database.DB, error) {
	return database.Open(ctx, url, database.Options{ReadOnly: true, MustExist: true})
}
