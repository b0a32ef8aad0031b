package main

import (
	"context"

	"github.com/figures-analytics/figures/internal/api"
	"github.com/figures-analytics/figures/internal/lms"
)

// openLiveActivity opens the LMS read-only for the API's live counts.
func openLiveActivity(ctx context.Context, url string) (api.LiveActivity, func(), error) {
	r, err := lms.Open(ctx, url)
	if err != nil {
		return nil, nil, err
	}
	return r, func() { r.Close() }, nil
}
