package synth

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/figures-analytics/figures/internal/calendar"
)

// Scale names a dataset size.
type Scale string

// The dataset sizes. Their StudentModule row counts are approximate; the
// exact counts of a run are in its Summary.
const (
	// Small is about ten thousand StudentModule rows in six courses (the
	// two real ones included) and a few hundred users: seconds to build,
	// for unit tests and the demo.
	Small Scale = "small"
	// Medium is about one million StudentModule rows, twenty courses and
	// forty thousand enrollments.
	Medium Scale = "medium"
	// Large is about ten million StudentModule rows, two hundred courses
	// and 440 thousand enrollments, about 1% of them active on the end
	// date: the shape of the measurements in DESIGN.md §9.
	Large Scale = "large"
)

// ParseScale validates a scale name.
func ParseScale(s string) (Scale, error) {
	switch Scale(s) {
	case Small, Medium, Large:
		return Scale(s), nil
	}
	return "", fmt.Errorf("unknown scale %q: want small, medium or large", s)
}

// scaleParams are the knobs a scale sets.
type scaleParams struct {
	// courses is the total number of courses, the real ones included.
	courses int
	// learners is the number of learner accounts of the base history;
	// each enrolls in 1.6 courses on average.
	learners int
	// days is the default length of the history.
	days int
}

func (s Scale) params() scaleParams {
	switch s {
	case Medium:
		return scaleParams{courses: 20, learners: 27_000, days: 180}
	case Large:
		return scaleParams{courses: 200, learners: 278_000, days: 365}
	}
	return scaleParams{courses: 6, learners: 400, days: 60}
}

// Options say what to generate.
type Options struct {
	// Scale is the dataset size (default Small).
	Scale Scale
	// Seed selects the dataset: the same seed and options give identical
	// rows.
	Seed uint64
	// EndDate is the last day of the history (required; the CLI defaults
	// it to yesterday, UTC).
	EndDate calendar.Date
	// Days is the length of the history in days, the end date included
	// (0: the scale's default, 60, 180 or 365).
	Days int
	// HistoryFactor multiplies the StudentModule history before the end
	// date (0 or 1: no extra history). The extra history belongs to
	// learners whose activity ended before the base history began, so
	// every day of the base history — the end date above all — keeps
	// exactly the same learners and rows.
	HistoryFactor float64
	// OLXDir is where the generated courses are exported as OLX, one
	// directory per course (required).
	OLXDir string
	// SharedData is the folder holding the real course exports
	// (openedx-demo-course/, edx-demo-course-2014/). Empty or absent:
	// only synthetic courses are generated, and the Summary says so.
	SharedData string
	// Reset drops and recreates the platform tables when they already
	// hold data; without it such a database is refused.
	Reset bool
	// Progress, when set, is called as the generation advances: stage
	// names the step, done counts its units out of total.
	Progress func(stage string, done, total int64)

	// forceInsert makes a MySQL load use multi-row INSERTs instead of
	// LOAD DATA LOCAL INFILE, so tests cover the fallback.
	forceInsert bool
}

// days returns the history length.
func (o Options) days() int {
	if o.Days > 0 {
		return o.Days
	}
	return o.Scale.params().days
}

// factor returns the history factor.
func (o Options) factor() float64 {
	if o.HistoryFactor <= 0 {
		return 1
	}
	return o.HistoryFactor
}

// extraDays is the length of the extra, older history --history-factor
// adds before the base history.
func (o Options) extraDays() int {
	return int(math.Round((o.factor() - 1) * float64(o.days())))
}

func (o *Options) normalize() error {
	if o.Scale == "" {
		o.Scale = Small
	}
	if _, err := ParseScale(string(o.Scale)); err != nil {
		return err
	}
	if o.EndDate.IsZero() {
		return errors.New("synth: an end date is required")
	}
	if o.Days < 0 || o.Days > 3650 {
		return fmt.Errorf("synth: %d days of history: want 1 to 3650", o.Days)
	}
	if o.HistoryFactor != 0 && (o.HistoryFactor < 1 || o.HistoryFactor > 20 || math.IsNaN(o.HistoryFactor)) {
		return fmt.Errorf("synth: history factor %v: want a number from 1 to 20", o.HistoryFactor)
	}
	if o.OLXDir == "" {
		return errors.New("synth: a directory for the generated OLX exports is required")
	}
	return nil
}

// Fingerprint identifies a dataset: two runs with equal fingerprints wrote
// identical rows. realCourses is how many real courses it holds.
func (o Options) fingerprint(realCourses int) string {
	return strings.Join([]string{
		"v" + strconv.Itoa(generatorVersion),
		"scale=" + string(o.Scale),
		"seed=" + strconv.FormatUint(o.Seed, 10),
		"end=" + o.EndDate.String(),
		"days=" + strconv.Itoa(o.days()),
		"history=" + strconv.FormatFloat(o.factor(), 'g', -1, 64),
		"real=" + strconv.Itoa(realCourses),
	}, " ")
}

// generatorVersion changes whenever the same options would produce
// different rows, so a recorded dataset of an older generator is not
// mistaken for the current one.
const generatorVersion = 3

// micros converts a time to microseconds since the Unix epoch, the unit
// every generated timestamp is kept in.
func micros(t time.Time) int64 { return t.UnixMicro() }

// dayMicros is one day in microseconds.
const dayMicros = int64(24 * time.Hour / time.Microsecond)

// dayStart returns the first microsecond of day d (days since the epoch).
func dayStart(d int64) int64 { return d * dayMicros }

// dayLast returns the last microsecond of day d: 23:59:59.999999.
func dayLast(d int64) int64 { return (d+1)*dayMicros - 1 }

// dayOf returns the day (since the epoch) of a timestamp.
func dayOf(us int64) int64 {
	if us < 0 {
		return (us - dayMicros + 1) / dayMicros
	}
	return us / dayMicros
}

// epochDay returns the day number of a date.
func epochDay(d calendar.Date) int64 { return dayOf(micros(d.Start())) }
