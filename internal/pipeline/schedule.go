package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Schedule says when scheduled runs happen, in UTC: "daily@HH:MM" (the
// original ran at daily@02:00) or "every DURATION" (e.g. "every 15m", for
// the incremental workflow).
type Schedule struct {
	daily        bool
	hour, minute int
	every        time.Duration
}

// ParseSchedule parses a schedule.
func ParseSchedule(s string) (Schedule, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "daily@"):
		var h, m int
		if _, err := fmt.Sscanf(strings.TrimPrefix(s, "daily@"), "%d:%d", &h, &m); err != nil || h < 0 || h > 23 || m < 0 || m > 59 {
			return Schedule{}, fmt.Errorf("schedule %q: want daily@HH:MM (UTC)", s)
		}
		return Schedule{daily: true, hour: h, minute: m}, nil
	case strings.HasPrefix(s, "every "):
		d, err := time.ParseDuration(strings.TrimSpace(strings.TrimPrefix(s, "every ")))
		if err != nil || d < time.Minute {
			return Schedule{}, fmt.Errorf("schedule %q: want every DURATION of a minute or more (every 15m)", s)
		}
		return Schedule{every: d}, nil
	}
	return Schedule{}, fmt.Errorf("schedule %q: want daily@HH:MM or every DURATION", s)
}

// Next returns the first scheduled time strictly after t.
func (s Schedule) Next(t time.Time) time.Time {
	t = t.UTC()
	if !s.daily {
		return t.Truncate(s.every).Add(s.every)
	}
	n := time.Date(t.Year(), t.Month(), t.Day(), s.hour, s.minute, 0, 0, time.UTC)
	if !n.After(t) {
		n = n.AddDate(0, 0, 1)
	}
	return n
}

// String returns the schedule as ParseSchedule reads it.
func (s Schedule) String() string {
	if s.daily {
		return fmt.Sprintf("daily@%02d:%02d", s.hour, s.minute)
	}
	d := s.every.String() // "1h0m0s", "10m0s"
	if strings.HasSuffix(d, "m0s") {
		d = strings.TrimSuffix(d, "0s")
	}
	if strings.HasSuffix(d, "h0m") {
		d = strings.TrimSuffix(d, "0m")
	}
	return "every " + d
}

// Scheduler runs a job at every scheduled time until its context ends.
// Runs never overlap: a run still going at the next time delays it.
type Scheduler struct {
	Schedule Schedule
	// Job is the run; its error is logged and the schedule goes on.
	Job func(ctx context.Context) error
	Log *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	next    time.Time
	running bool
}

// NextRun returns when the next run starts (zero before Run is called) and
// whether a run is in progress.
func (s *Scheduler) NextRun() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next, s.running
}

// Run blocks, running the job on schedule, until ctx is done.
func (s *Scheduler) Run(ctx context.Context) {
	now := s.Now
	if now == nil {
		now = time.Now
	}
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	for {
		next := s.Schedule.Next(now())
		s.mu.Lock()
		s.next = next
		s.mu.Unlock()
		log.Info("next scheduled run", "at", next.Format(time.RFC3339), "schedule", s.Schedule.String())
		timer := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		s.mu.Lock()
		s.running = true
		s.mu.Unlock()
		if err := s.Job(ctx); err != nil && ctx.Err() == nil {
			log.Error("scheduled run failed", "err", err)
		}
		s.mu.Lock()
		s.running = false
		s.mu.Unlock()
	}
}
