package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/figures-analytics/figures/internal/course"
	"github.com/figures-analytics/figures/internal/lms"
	"github.com/figures-analytics/figures/internal/store"
)

// Scope is what a run covers: the sites, their courses, and the outlines.
type Scope struct {
	// Sites are the sites in scope, by id order.
	Sites []store.Site
	// SiteCourses lists each site's courses in scope, sorted.
	SiteCourses map[int][]string
	// CourseSites lists, for each course in scope, the sites it belongs to.
	CourseSites map[string][]int
	// Courses are the LMS courses in scope, by id.
	Courses map[string]lms.Course
	// Outlines are the stored outlines of courses in scope, by course id,
	// once loaded (see waitOutlines).
	Outlines map[string]*course.Outline
	// Unassigned are courses no site's org filter names.
	Unassigned []string

	// loaded is closed when Outlines is set or loadErr says why it is not.
	loaded  chan struct{}
	loadErr error
}

// loadOutlines reads the stored outlines of the courses in scope in the
// background: parsing them is CPU work the run overlaps with its first LMS
// reads (the day's activity), which do not need them.
func (s *Scope) loadOutlines(ctx context.Context, st *store.Store) {
	s.loaded = make(chan struct{})
	go func() {
		defer close(s.loaded)
		all, err := st.Outlines(ctx)
		if err != nil {
			s.loadErr = err
			return
		}
		outlines := map[string]*course.Outline{}
		for c := range s.CourseSites {
			if o, ok := all[c]; ok {
				outlines[c] = o
			}
		}
		s.Outlines = outlines
	}()
}

// missingOutlines returns, sorted, the courses in scope that have no
// stored outline: their learners' progress cannot be computed.
func (s *Scope) missingOutlines() []string {
	var out []string
	for c := range s.CourseSites {
		if _, ok := s.Outlines[c]; !ok {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

// waitOutlines waits for the outlines to be loaded; reading Outlines
// before it returns nil is a data race.
func (s *Scope) waitOutlines(ctx context.Context) error {
	if s.loaded == nil {
		return nil
	}
	select {
	case <-s.loaded:
		return s.loadErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// CourseIDs returns the courses in scope, sorted.
func (s *Scope) CourseIDs() []string {
	out := make([]string, 0, len(s.CourseSites))
	for c := range s.CourseSites {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// resolveScope reads the LMS's sites and courses, assigns courses to sites,
// and narrows them to the sites and courses asked for.
func resolveScope(ctx context.Context, r *lms.Reader, st *store.Store, cfg *Config) (*Scope, []lms.Course, []lms.Site, map[int][]string, error) {
	sites, err := r.Sites(ctx)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if len(sites) == 0 {
		return nil, nil, nil, nil, fmt.Errorf("LMS has no django_site row: not an Open edX LMS database?")
	}
	courses, err := r.Courses(ctx)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	bySite, unassigned := lms.Membership(sites, courses, cfg.DefaultSite)
	known := map[int]bool{}
	for _, s := range sites {
		known[s.ID] = true
	}
	if !known[cfg.DefaultSite] && len(bySite[cfg.DefaultSite]) > 0 {
		return nil, nil, nil, nil, fmt.Errorf("default site %d is not a django_site of the LMS (set --default-site)", cfg.DefaultSite)
	}
	for _, id := range cfg.Sites {
		if !known[id] {
			return nil, nil, nil, nil, fmt.Errorf("site %d is not a django_site of the LMS", id)
		}
	}
	courseByID := map[string]lms.Course{}
	for _, c := range courses {
		courseByID[c.ID] = c
	}
	for _, c := range cfg.Courses {
		if _, err := course.ParseKey(c); err != nil {
			return nil, nil, nil, nil, err
		}
		if _, ok := courseByID[c]; !ok {
			return nil, nil, nil, nil, fmt.Errorf("course %s: not in the LMS (no course overview and no enrollment)", c)
		}
	}
	wantSite := setOf(cfg.Sites)
	wantCourse := map[string]bool{}
	for _, c := range cfg.Courses {
		wantCourse[c] = true
	}
	sc := &Scope{SiteCourses: map[int][]string{}, CourseSites: map[string][]int{}, Courses: map[string]lms.Course{}}
	for _, s := range sites {
		if len(wantSite) > 0 && !wantSite[s.ID] {
			continue
		}
		cs := bySite[s.ID]
		if len(cs) == 0 && len(wantSite) == 0 && !(len(s.Orgs) > 0 || s.ID == cfg.DefaultSite) {
			// A site without an org filter in a multi-site install owns no
			// course and has nothing to report.
			continue
		}
		sc.Sites = append(sc.Sites, store.Site{ID: s.ID, Domain: s.Domain, Name: s.Name, Orgs: s.Orgs})
		for _, c := range cs {
			if len(wantCourse) > 0 && !wantCourse[c] {
				continue
			}
			sc.SiteCourses[s.ID] = append(sc.SiteCourses[s.ID], c)
			sc.CourseSites[c] = append(sc.CourseSites[c], s.ID)
			sc.Courses[c] = courseByID[c]
		}
		sort.Strings(sc.SiteCourses[s.ID])
	}
	for _, c := range unassigned {
		if len(wantCourse) == 0 || wantCourse[c] {
			sc.Unassigned = append(sc.Unassigned, c)
		}
	}
	sc.loadOutlines(ctx, st)
	return sc, courses, sites, bySite, nil
}

func setOf(ids []int) map[int]bool {
	m := map[int]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// errNoOutline explains how to give a course an outline.
func errNoOutline(courseID string) error {
	return fmt.Errorf("course %s has no outline in the store: import its OLX export with `figures course import PATH --store URL` (or fetch it with `figures course fetch`)", courseID)
}

var errCanceled = errors.New("run canceled")
