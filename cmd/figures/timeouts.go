package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/lms"
	"github.com/figures-analytics/figures/internal/store"
)

// timeouts are the --lms-timeout and --store-timeout settings of the
// commands that open the LMS or the store.
type timeouts struct {
	lms, store time.Duration
}

const timeoutHelp = ": a statement whose server sends nothing for this long fails, naming this setting " +
	"(also bounds connecting and, on SQLite, waiting for another process's lock)"

// register adds --lms-timeout (when withLMS) and --store-timeout.
func (t *timeouts) register(fl *pflag.FlagSet, withLMS bool) {
	if withLMS {
		t.registerLMS(fl)
	}
	fl.DurationVar(&t.store, "store-timeout", database.DefaultTimeout, "bound on every wait on the store database"+timeoutHelp)
}

// registerLMS adds --lms-timeout alone (serve's --store-timeout is the
// API's bound on a request).
func (t *timeouts) registerLMS(fl *pflag.FlagSet) {
	fl.DurationVar(&t.lms, "lms-timeout", database.DefaultTimeout, "bound on every wait on the LMS database"+timeoutHelp)
}

func (t timeouts) check() error {
	if t.lms < 0 || t.store < 0 {
		return fmt.Errorf("--lms-timeout %s, --store-timeout %s: want positive durations such as 2m", t.lms, t.store)
	}
	return nil
}

// openLMS opens the LMS read-only.
func (t timeouts) openLMS(ctx context.Context, url string) (*lms.Reader, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	return lms.OpenOptions(ctx, url, lms.Options{Timeout: t.lms})
}

// openStore opens (and unless readOnly, migrates) the store.
func (t timeouts) openStore(ctx context.Context, url string, readOnly bool) (*store.Store, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	return store.OpenOptions(ctx, url, store.Options{ReadOnly: readOnly, Timeout: t.store})
}

// openPipeline opens the LMS (read-only) and the store a pipeline run
// reads and writes; the caller closes both.
func (t timeouts) openPipeline(ctx context.Context, lmsURL, storeURL string) (*lms.Reader, *store.Store, error) {
	r, err := t.openLMS(ctx, lmsURL)
	if err != nil {
		return nil, nil, err
	}
	st, err := t.openStore(ctx, storeURL, false)
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	return r, st, nil
}
