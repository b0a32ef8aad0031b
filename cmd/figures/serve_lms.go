package main

import (
	"context"

	"github.com/figures-analytics/figures/internal/api"
)

// openLiveActivity opens the LMS read-only for the API's live counts.
func openLiveActivity(ctx context.Context, url string, t timeouts) (api.LiveActivity, func(), error) {
	r, err := t.openLMS(ctx, url)
	if err != nil {
		return nil, nil, err
	}
	return r, func() { r.Close() }, nil
}
