package main

import (
	"context"
	"time"

	"github.com/figures-analytics/figures/internal/api"
	"github.com/figures-analytics/figures/internal/lms"
)

// lmsActivity answers the API's live active-user counts from the LMS:
// one range scan of courseware_studentmodule on modified for the window
// (all courses at once, as every LMS read; DESIGN.md §9), filtered by
// course and counted in Go.
type lmsActivity struct{ r *lms.Reader }

// openLiveActivity opens the LMS read-only for live counts.
func openLiveActivity(ctx context.Context, url string) (api.LiveActivity, func(), error) {
	r, err := lms.Open(ctx, url)
	if err != nil {
		return nil, nil, err
	}
	return lmsActivity{r}, func() { r.Close() }, nil
}

func (a lmsActivity) pairs(ctx context.Context, courseIDs []string, from, to time.Time) ([]lms.Activity, map[string]bool, error) {
	acts, err := a.r.ModifiedBetween(ctx, from, to)
	if err != nil {
		return nil, nil, err
	}
	want := make(map[string]bool, len(courseIDs))
	for _, c := range courseIDs {
		want[c] = true
	}
	return acts, want, nil
}

// ActiveUsers implements api.LiveActivity.
func (a lmsActivity) ActiveUsers(ctx context.Context, courseIDs []string, from, to time.Time) (int, error) {
	acts, want, err := a.pairs(ctx, courseIDs, from, to)
	if err != nil {
		return 0, err
	}
	users := map[int]bool{}
	for _, x := range acts {
		if want[x.CourseID] {
			users[x.UserID] = true
		}
	}
	return len(users), nil
}

// ActiveUsersByCourse implements api.LiveActivity. The activity rows are
// distinct (course, learner) pairs, so counting them per course counts
// learners.
func (a lmsActivity) ActiveUsersByCourse(ctx context.Context, courseIDs []string, from, to time.Time) (map[string]int, error) {
	acts, want, err := a.pairs(ctx, courseIDs, from, to)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, x := range acts {
		if want[x.CourseID] {
			out[x.CourseID]++
		}
	}
	return out, nil
}
