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
	first := make(chan struct{})
	go func() {
		defer close(done)
		st.KeepReaping(ctx, reapEvery, func(n int, err error) {
			switch {
			case err != nil:
				slog.Warn("marking interrupted runs", "err", err)
			case n > 0:
				slog.Info("runs marked interrupted: their process is gone", "runs", n)
			}
			select {
			case <-first:
			default:
				close(first)
			}
		})
	}()
	// The first pass is done before serving, so that /metrics is right
	// from the first scrape.
	<-first
	return func() { cancel(); <-done; st.Close() }
}
