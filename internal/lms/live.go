package lms

import (
	"context"
	"time"
)

// ActiveUsers counts the distinct learners with a StudentModule row of one
// of courseIDs modified in [from, to): one range scan on modified over all
// courses, filtered in Go, as every activity read (DESIGN.md §9).
func (r *Reader) ActiveUsers(ctx context.Context, courseIDs []string, from, to time.Time) (int, error) {
	acts, want, err := r.activityIn(ctx, courseIDs, from, to)
	if err != nil {
		return 0, err
	}
	users := map[int]bool{}
	for _, a := range acts {
		if want[a.CourseID] {
			users[a.UserID] = true
		}
	}
	return len(users), nil
}

// ActiveUsersByCourse counts, for each of courseIDs, the distinct learners
// with a row of that course modified in [from, to); a course without any is
// absent from the map.
func (r *Reader) ActiveUsersByCourse(ctx context.Context, courseIDs []string, from, to time.Time) (map[string]int, error) {
	acts, want, err := r.activityIn(ctx, courseIDs, from, to)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, a := range acts {
		// Activity rows are distinct (course, learner) pairs.
		if want[a.CourseID] {
			out[a.CourseID]++
		}
	}
	return out, nil
}

func (r *Reader) activityIn(ctx context.Context, courseIDs []string, from, to time.Time) ([]Activity, map[string]bool, error) {
	acts, err := r.ModifiedBetween(ctx, from, to)
	if err != nil {
		return nil, nil, err
	}
	want := make(map[string]bool, len(courseIDs))
	for _, c := range courseIDs {
		want[c] = true
	}
	return acts, want, nil
}
