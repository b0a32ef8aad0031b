package store

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/figures-analytics/figures/internal/database"
)

// A run holds a lease on its figures_run row: the row names the host and
// process running it, and the run renews its heartbeat every
// HeartbeatInterval until it finishes. ReapInterrupted marks interrupted
// the running runs whose process is known to be gone (same host, no such
// process, or this process without such a run) or whose heartbeat is
// older than LeaseExpiry (any host: a distributed run's dispatcher
// elsewhere, a machine that died).
const (
	HeartbeatInterval = 15 * time.Second
	LeaseExpiry       = 2 * time.Minute
)

// RunInterrupted is the status of a run whose process stopped before it
// finished.
const RunInterrupted = "interrupted"

var hostname = func() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}()

// active holds the runs this process is running, by leaseKey, with the
// function that stops their heartbeat.
var active = struct {
	sync.Mutex
	runs map[string]context.CancelFunc
}{runs: map[string]context.CancelFunc{}}

// leaseKey names run id of the store's database in active: two Stores
// of one database (a scheduled run's and serve's reaper) name its runs
// alike; the runs of two databases (compare's scratch stores) differ.
func (s *Store) leaseKey(id int) string { return fmt.Sprintf("%s#%d", s.db.Location(), id) }

// keepAlive renews run id's heartbeat until FinishRun or Close.
func (s *Store) keepAlive(id int) {
	ctx, stop := context.WithCancel(context.Background())
	key := s.leaseKey(id)
	active.Lock()
	if prev, ok := active.runs[key]; ok {
		prev()
	}
	active.runs[key] = stop
	active.Unlock()
	s.mu.Lock()
	s.leases = append(s.leases, key)
	s.mu.Unlock()
	go every(ctx, HeartbeatInterval, func() {
		hctx, cancel := database.StatementTimeout(ctx, HeartbeatInterval, "run heartbeat")
		defer cancel()
		s.db.Exec(hctx, `UPDATE figures_run SET heartbeat = ? WHERE id = ? AND status = ?`, s.db.Time(time.Now()), id, RunRunning)
	})
}

// every calls fn every d until ctx is done.
func every(ctx context.Context, d time.Duration, fn func()) {
	tick := time.NewTicker(d)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			fn()
		}
	}
}

// KeepReaping calls ReapInterrupted now and every d until ctx is done,
// telling report each result: what a long-running process (serve) does
// so that killed runs do not stay running.
func (s *Store) KeepReaping(ctx context.Context, d time.Duration, report func(n int, err error)) {
	reap := func() { report(s.ReapInterrupted(ctx)) }
	reap()
	every(ctx, d, reap)
}

// release stops the heartbeat of the run of key.
func release(key string) {
	active.Lock()
	defer active.Unlock()
	if stop, ok := active.runs[key]; ok {
		stop()
		delete(active.runs, key)
	}
}

// ReapInterrupted marks interrupted every running run whose process is
// gone (see HeartbeatInterval) and returns how many it marked. Every run
// and backfill calls it as it starts, and serve every minute, so that a
// killed run does not stay "running" (nor /metrics say so) for ever.
func (s *Store) ReapInterrupted(ctx context.Context) (int, error) {
	ctx, cancel := database.StatementTimeout(ctx, bookkeeping, "run bookkeeping")
	defer cancel()
	rows, err := s.db.Query(ctx, `SELECT id, host, pid, started, heartbeat FROM figures_run WHERE status = ?`, RunRunning)
	if err != nil {
		return 0, fmt.Errorf("store: running runs: %w", err)
	}
	type lease struct {
		id, pid            int
		host               string
		started, heartbeat database.NullTime
	}
	var leases []lease
	for rows.Next() {
		var l lease
		if err := rows.Scan(&l.id, &l.host, &l.pid, &l.started, &l.heartbeat); err != nil {
			rows.Close()
			return 0, fmt.Errorf("store: running runs: %w", err)
		}
		leases = append(leases, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("store: running runs: %w", err)
	}
	now := time.Now()
	n := 0
	for _, l := range leases {
		why := ""
		last := l.heartbeat.Time
		if !l.heartbeat.Valid {
			last = l.started.Time
		}
		switch {
		case l.host == hostname && l.pid == os.Getpid() && !runsHere(s.leaseKey(l.id)):
			why = "this process no longer runs it"
		case l.host == hostname && l.pid != os.Getpid() && l.pid > 0 && !processAlive(l.pid):
			why = fmt.Sprintf("process %d on %s is gone", l.pid, l.host)
		case now.Sub(last) > LeaseExpiry:
			why = fmt.Sprintf("no heartbeat since %s (process %d on %s stopped, or lost the store)",
				last.UTC().Format(time.RFC3339), l.pid, l.host)
		default:
			continue
		}
		res, err := s.db.Exec(ctx, `UPDATE figures_run SET status = ?, finished = ?, message = ? WHERE id = ? AND status = ?`,
			RunInterrupted, s.db.Time(now), "interrupted: "+why, l.id, RunRunning)
		if err != nil {
			return n, fmt.Errorf("store: mark run %d interrupted: %w", l.id, err)
		}
		if k, _ := res.RowsAffected(); k > 0 {
			n++
		}
	}
	return n, nil
}

func runsHere(key string) bool {
	active.Lock()
	defer active.Unlock()
	_, ok := active.runs[key]
	return ok
}
