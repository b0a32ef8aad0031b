package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/lms/lmstest"
	"github.com/figures-analytics/figures/internal/synth"
)

// childEnv makes the test binary act as the measurement child, as
// `figures bench-child` does, so the tests cover the re-execution too.
const childEnv = "FIGURES_BENCH_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		if err := RunChild(context.Background(), os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// The floor reads the pairs with rows modified or created in the day, and
// their grades.
func TestFloorReads(t *testing.T) {
	url := dbtest.SQLiteURL(t, "lms.db")
	l := lmstest.New(t, url)
	c1, c2 := "course-v1:Org+C1+R", "course-v1:Org+C2+R"
	at := lmstest.At
	l.Module(1, c1, "block-v1:Org+C1+R+type@problem+block@a", 1.0, 1.0, at("2026-11-20 00:00:00"), at("2026-11-20 10:00:00"))
	l.Module(1, c1, "block-v1:Org+C1+R+type@problem+block@b", 1.0, 1.0, at("2026-11-20 01:00:00"), at("2026-11-20 11:00:00"))
	l.Module(2, c1, "block-v1:Org+C1+R+type@problem+block@a", nil, nil, at("2026-11-20 23:00:00"), at("2026-11-21 00:00:00")) // created on the day
	l.Module(3, c2, "block-v1:Org+C2+R+type@problem+block@a", 1.0, 1.0, at("2026-11-19 10:00:00"), at("2026-11-20 23:59:59.999999"))
	l.Module(4, c2, "block-v1:Org+C2+R+type@problem+block@a", 1.0, 1.0, at("2026-11-19 10:00:00"), at("2026-11-21 00:00:00")) // the next day
	l.CourseGrade(1, c1, 1, at("2026-11-20 10:00:00"))
	l.SubsectionGrade(1, c1, "block-v1:Org+C1+R+type@sequential+block@s", 2, 2, at("2026-11-20 10:00:00"))
	n, err := floorReads(context.Background(), l.DB, calendar.MustParse("2026-11-20"))
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("floor read %d pairs, want 3 (u1 and u2 in c1, u3 in c2)", n)
	}

	// The child measures it on SQLite too, without session counters.
	res, err := measure(context.Background(), Spec{Kind: KindFloor, LMS: url, Date: "2026-11-20"})
	if err != nil {
		t.Fatal(err)
	}
	// Two scans, then two grade queries for each of the two courses.
	if res.Updated != 3 || res.Statements != 6 || res.RowsRead != -1 {
		t.Errorf("floor measured %+v, want 3 pairs, 6 statements, rows read unknown", res)
	}
}

func TestRunRejects(t *testing.T) {
	for _, o := range []Options{
		{},
		{LMS: "sqlite:///x.db", OLXDir: "x", ChildCommand: []string{"x"}},
		{LMS: "mysql://root@127.0.0.1:3306/x", ChildCommand: []string{"x"}},
		{LMS: "mysql://root@127.0.0.1:3306/x", OLXDir: "x"},
	} {
		if _, err := Run(context.Background(), o); err == nil {
			t.Errorf("Run(%+v) accepted", o)
		}
	}
}

// A whole benchmark run on a small dataset in MariaDB: seeding both
// datasets, the templates, every measurement in a child process, and the
// report. Nothing about time is asserted.
func TestRunSmall(t *testing.T) {
	url := dbtest.MySQLURL(t)
	scaledURL, err := withDatabaseSuffix(url, "_h2")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	var log bytes.Buffer
	opts := Options{LMS: url, Scaling: true, Scale: synth.Small, EndDate: calendar.MustParse("2026-10-31"),
		OLXDir: filepath.Join(dir, "olx"), SharedData: synth.FindSharedData(), WorkDir: filepath.Join(dir, "work"),
		Reps: 1, LegacySample: 25, ChildCommand: []string{os.Args[0]}, ChildEnv: []string{childEnv + "=1"},
		Command: "figures bench --seed-scale small", Log: &log,
		OpenSeedDB: func(ctx context.Context, u string) (*database.DB, error) {
			if u == scaledURL {
				createScratch(t, u)
			}
			return database.Open(ctx, u, database.Options{})
		}}
	rep, err := Run(ctx, opts)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if len(rep.Phases) != 1 || rep.Date.String() != "2026-10-31" || len(rep.Datasets) != 2 {
		t.Fatalf("report: %d phases, date %s, %d datasets", len(rep.Phases), rep.Date, len(rep.Datasets))
	}
	ph := rep.Phases[0]
	get := func(ds, key string) Summary {
		t.Helper()
		s, ok := summary(ph, ds, key)
		if !ok {
			t.Fatalf("no %s measurement on %s", key, ds)
		}
		return s
	}
	enrollments := int(rep.Datasets[0].Record.Counts["student_courseenrollment"])
	for _, key := range []string{KeyFloor, KeyLegacy, KeyNext, KeyIncremental, KeyLegacyRun, KeyNextRun, KeyIncrementalRun, KeyIncrementalIdle} {
		s := get(LabelBase, key)
		if s.Statements <= 0 || s.RowsRead <= 0 || s.PeakRSS <= 0 || s.Errors != 0 {
			t.Errorf("%s: %+v", key, s)
		}
	}
	next, floor := get(LabelBase, KeyNext), get(LabelBase, KeyFloor)
	if next.Updated == 0 || next.Updated > floor.Updated {
		t.Errorf("next updated %d enrollments, the floor read %d pairs", next.Updated, floor.Updated)
	}
	if run := get(LabelBase, KeyNextRun); run.Updated != next.Updated {
		t.Errorf("next alone updated %d, its whole run %d", next.Updated, run.Updated)
	}
	if idle := get(LabelBase, KeyIncrementalIdle); idle.Updated != 0 {
		t.Errorf("an incremental run with nothing changed updated %d", idle.Updated)
	}
	lg := get(LabelBase, KeyLegacy)
	if !lg.Sampled || lg.Population != enrollments || lg.SampleSize != 25 || lg.Examined != enrollments {
		t.Errorf("legacy: sampled %v, %d of %d (dataset %d enrollments), examined %d", lg.Sampled, lg.SampleSize, lg.Population, enrollments, lg.Examined)
	}
	// The doubled history has the same day: the same pairs.
	if sf := get(LabelScaled, KeyFloor); sf.Updated != floor.Updated {
		t.Errorf("history ×2 floor read %d pairs, the base %d", sf.Updated, floor.Updated)
	}
	var doc strings.Builder
	if err := rep.Render(&doc, ""); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"**small** — ", "**small, history ×2** — ", "figures bench --seed-scale small", "| floor |", "## Targets"} {
		if !strings.Contains(doc.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// A second run finds both datasets and the cached templates.
	log.Reset()
	opts.Scaling, opts.Reps = false, 1
	if _, err := Run(ctx, opts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "holds the dataset") || !strings.Contains(log.String(), "reusing the scratch store template") {
		t.Errorf("second run log:\n%s", log.String())
	}
}

// createScratch creates the MariaDB database u names, dropped when the test
// ends.
func createScratch(t *testing.T, u string) {
	t.Helper()
	loc, err := database.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := adminURL(u)
	if err != nil {
		t.Fatal(err)
	}
	db, err := database.Open(context.Background(), admin, database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.SQL().Exec("CREATE DATABASE IF NOT EXISTS `" + loc.Name + "`"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		db, err := database.Open(ctx, admin, database.Options{})
		if err != nil {
			t.Logf("drop %s: %v", loc.Name, err)
			return
		}
		defer db.Close()
		if _, err := db.SQL().ExecContext(ctx, "DROP DATABASE IF EXISTS `"+loc.Name+"`"); err != nil {
			t.Logf("drop %s: %v", loc.Name, err)
		}
	})
}

func adminURL(u string) (string, error) {
	loc, err := database.ParseURL(u)
	if err != nil {
		return "", err
	}
	return strings.Replace(u, "/"+loc.Name, "/information_schema", 1), nil
}

// The spec a measurement sends its child survives the JSON round trip.
func TestSpecJSON(t *testing.T) {
	s, err := specFor(KeyIncremental, "mysql://x/y", calendar.MustParse("2025-03-31"), 2000)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Spec
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.EnrollmentsOnly || back.Workflow != "incremental" || !back.Watermark.Equal(calendar.MustParse("2025-03-31").Start()) ||
		!back.Now.Equal(calendar.MustParse("2025-04-01").Start().Add(time.Minute)) {
		t.Errorf("spec after JSON: %+v", back)
	}
	idle, _ := specFor(KeyIncrementalIdle, "mysql://x/y", calendar.MustParse("2025-03-31"), 2000)
	if idle.EnrollmentsOnly || !idle.Watermark.Equal(calendar.MustParse("2025-04-01").Start()) || !idle.Now.After(*idle.Watermark) {
		t.Errorf("idle spec %+v", idle)
	}
	if lg, _ := specFor(KeyLegacyRun, "mysql://x/y", calendar.MustParse("2025-03-31"), 2000); lg.LegacySample != 2000 || lg.EnrollmentsOnly {
		t.Errorf("legacy run spec %+v", lg)
	}
	if _, err := specFor("nonsense", "", calendar.Date{}, 0); err == nil {
		t.Error("an unknown measurement was accepted")
	}
}
