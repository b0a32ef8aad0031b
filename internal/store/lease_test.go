package store_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/store"
	"github.com/figures-analytics/figures/internal/store/storetest"
)

// A running run whose process is gone is marked interrupted: a process of
// this host that no longer exists, this process without the run, a host
// whose heartbeat stopped; a run this process runs, and one on another
// host that still beats, stay running. On every store.
func TestReapInterrupted(t *testing.T) {
	// A process id that is free: a child that has exited.
	child := exec.Command("true")
	if err := child.Run(); err != nil {
		t.Skipf("cannot run a child process: %v", err)
	}
	deadPID := child.Process.Pid
	host, _ := os.Hostname()
	dbtest.Each(t, dbtest.Stores(), func(t *testing.T, k dbtest.Kind) {
		st := storetest.Open(t, k)
		ctx := context.Background()
		start := func() int {
			id, err := st.StartRun(ctx, store.Run{Kind: "run", Workflow: "next", Grades: "persisted", Started: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		set := func(id int, host string, pid int, heartbeat time.Time) {
			if _, err := st.DB().Exec(ctx, `UPDATE figures_run SET host = ?, pid = ?, heartbeat = ? WHERE id = ?`,
				host, pid, st.DB().Time(heartbeat), id); err != nil {
				t.Fatal(err)
			}
		}
		// StartRun reaps too: every run is started before any is made to
		// look abandoned.
		mine, deadHere, elsewhereStale, elsewhereAlive, forgotten := start(), start(), start(), start(), start()
		set(deadHere, host, deadPID, time.Now())
		set(elsewhereStale, "other-host", 42, time.Now().Add(-store.LeaseExpiry-time.Minute))
		set(elsewhereAlive, "other-host", 42, time.Now())
		// This process's run whose lease it let go without finishing it,
		// as a run stopped by a panic would.
		if err := st.FinishRun(ctx, store.Run{ID: forgotten, Status: store.RunRunning}); err != nil {
			t.Fatal(err)
		}
		n, err := st.ReapInterrupted(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Errorf("marked %d runs interrupted, want 3", n)
		}
		runs, err := st.Runs(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		want := map[int]string{mine: store.RunRunning, deadHere: store.RunInterrupted, elsewhereStale: store.RunInterrupted,
			elsewhereAlive: store.RunRunning, forgotten: store.RunInterrupted}
		for _, r := range runs {
			if r.Status != want[r.ID] {
				t.Errorf("run %d: %s (%q), want %s", r.ID, r.Status, r.Message, want[r.ID])
			}
			if r.Status == store.RunInterrupted && (r.Finished == nil || !strings.HasPrefix(r.Message, "interrupted: ")) {
				t.Errorf("interrupted run %d: finished %v, message %q", r.ID, r.Finished, r.Message)
			}
		}
		if err := st.FinishRun(ctx, store.Run{ID: mine, Status: store.RunOK}); err != nil {
			t.Fatal(err)
		}
	})
}
