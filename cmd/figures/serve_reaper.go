package main

import (
	"context"
	"log/slog"
	"time"
)

// reapEvery is how often serve marks interrupted the runs whose process is
// gone, so that /metrics and the runs API stop calling them running.
const reapEvery = time.Minute

// startReaper marks interrupted, now and every reapEvery, the runs whose
// process is gone (store.ReapInterrupted), through a connection of its
// own that may write. A store it cannot write to (read-only credentials)
// is logged and left alone. It returns the function that stops it.
func startReaper(ctx context.Context, o serveOptions) func() {
	st, err := o.timeouts.openStore(ctx, o.storeURL, false)
	if err != nil {
		slog.Warn("not marking interrupted runs: the store cannot be written", "err", err)
		return func() {}
	}
	st.DB().SQL().SetMaxOpenConns(1)
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	reap := func() {
		if n, err := st.ReapInterrupted(ctx); err != nil {
			slog.Warn("marking interrupted runs", "err", err)
		} else if n > 0 {
			slog.Info("runs marked interrupted: their process is gone", "runs", n)
		}
	}
	reap()
	go func() {
		defer close(done)
		tick := time.NewTicker(reapEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				reap()
			}
		}
	}()
	return func() { cancel(); <-done; st.Close() }
}
