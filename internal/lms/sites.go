package lms

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/figures-analytics/figures/internal/course"
	"github.com/figures-analytics/figures/internal/database"
)

// Site is a django_site row with its site configuration's course_org_filter.
type Site struct {
	ID     int
	Domain string
	Name   string
	// Orgs is the course_org_filter of an enabled site configuration (a
	// string or a list of orgs in site_values); empty when there is none.
	Orgs []string
}

// Sites returns every django_site row with its org filter.
func (r *Reader) Sites(ctx context.Context) ([]Site, error) {
	rows, err := r.q.Query(ctx, `SELECT id, domain, name FROM django_site ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("LMS: sites: %w", err)
	}
	var sites []Site
	byID := map[int]int{}
	for rows.Next() {
		var s Site
		if err := rows.Scan(&s.ID, &s.Domain, &s.Name); err != nil {
			rows.Close()
			return nil, fmt.Errorf("LMS: sites: %w", err)
		}
		byID[s.ID] = len(sites)
		sites = append(sites, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("LMS: sites: %w", err)
	}
	rows, err = r.q.Query(ctx, `SELECT site_id, enabled, site_values FROM site_configuration_siteconfiguration`)
	if err != nil {
		return nil, fmt.Errorf("LMS: site configurations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			siteID  int
			enabled bool
			values  sql.NullString
		)
		if err := rows.Scan(&siteID, &enabled, &values); err != nil {
			return nil, fmt.Errorf("LMS: site configurations: %w", err)
		}
		i, ok := byID[siteID]
		// A disabled configuration's values are not used by the platform
		// (SiteConfiguration.get_value returns the default).
		if !ok || !enabled {
			continue
		}
		orgs, err := parseOrgFilter(values.String)
		if err != nil {
			return nil, fmt.Errorf("LMS: site %d configuration: %w", siteID, err)
		}
		sites[i].Orgs = orgs
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("LMS: site configurations: %w", err)
	}
	return sites, nil
}

// parseOrgFilter reads course_org_filter from site_values JSON: a string or
// a list of strings.
func parseOrgFilter(values string) ([]string, error) {
	if strings.TrimSpace(values) == "" {
		return nil, nil
	}
	var v map[string]json.RawMessage
	if err := json.Unmarshal([]byte(values), &v); err != nil {
		return nil, fmt.Errorf("site_values is not a JSON object: %w", err)
	}
	raw, ok := v["course_org_filter"]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		if one == "" {
			return nil, nil
		}
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, fmt.Errorf("course_org_filter is neither a string nor a list of strings: %s", raw)
	}
	out := many[:0]
	for _, o := range many {
		if o != "" {
			out = append(out, o)
		}
	}
	return out, nil
}

// Course is a course run known to the LMS: a course overview, or a course
// key that only appears in enrollments (an orphan whose overview is missing).
type Course struct {
	ID          string
	Org         string
	Number      string
	DisplayName string
	Start, End  *time.Time
	SelfPaced   bool
	// HasOverview is false for a course seen only in enrollments.
	HasOverview bool
	// Organizations are the short names of the organizations linked to the
	// course in organizations_organizationcourse (active links).
	Organizations []string
}

// Courses returns every course run: the course overviews plus any course
// key that has enrollments but no overview, so no course is silently
// dropped. Non-course learning contexts (libraries, CCX) are left out.
func (r *Reader) Courses(ctx context.Context) ([]Course, error) {
	rows, err := r.q.Query(ctx, "SELECT id, org, display_name, display_number_with_default, start, `end`, self_paced FROM course_overviews_courseoverview")
	if err != nil {
		return nil, fmt.Errorf("LMS: course overviews: %w", err)
	}
	byID := map[string]*Course{}
	for rows.Next() {
		var (
			c          Course
			name       sql.NullString
			start, end database.NullTime
		)
		if err := rows.Scan(&c.ID, &c.Org, &name, &c.Number, &start, &end, &c.SelfPaced); err != nil {
			rows.Close()
			return nil, fmt.Errorf("LMS: course overviews: %w", err)
		}
		if !course.IsCourseKey(c.ID) {
			continue
		}
		c.DisplayName, c.Start, c.End, c.HasOverview = name.String, start.Ptr(), end.Ptr(), true
		byID[c.ID] = &c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("LMS: course overviews: %w", err)
	}
	known := make([]string, 0, len(byID))
	for id := range byID {
		known = append(known, id)
	}
	enrolled, err := r.enrolledCourses(ctx, known)
	if err != nil {
		return nil, fmt.Errorf("LMS: enrolled courses: %w", err)
	}
	for _, id := range enrolled {
		k, err := course.ParseKey(id)
		if err != nil || byID[id] != nil {
			continue
		}
		byID[id] = &Course{ID: id, Org: k.Org, Number: k.Course, DisplayName: id}
	}
	rows, err = r.q.Query(ctx, `SELECT oc.course_id, o.short_name FROM organizations_organizationcourse oc
JOIN organizations_organization o ON o.id = oc.organization_id WHERE oc.active = 1`)
	if err != nil {
		return nil, fmt.Errorf("LMS: organization courses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, org string
		if err := rows.Scan(&id, &org); err != nil {
			return nil, fmt.Errorf("LMS: organization courses: %w", err)
		}
		if c := byID[id]; c != nil {
			c.Organizations = append(c.Organizations, org)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("LMS: organization courses: %w", err)
	}
	out := make([]Course, 0, len(byID))
	for _, c := range byID {
		sort.Strings(c.Organizations)
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// enrolledCourses returns the distinct course ids of
// student_courseenrollment, found by skipping through its course_id index:
// each probe asks for the smallest course id after a bound, one index dive
// ("Select tables optimized away"), whatever the table's size. The known
// courses (those with an overview) are the first bounds, so a usual run
// needs one round of probes, batched a hundred to a statement; a probe that
// lands on an unknown course makes it the bound of the next round. The
// comparisons happen in the database, under the column's collation.
//
// A SELECT DISTINCT or GROUP BY course_id would be one statement, but
// MariaDB 10.11 plans it as a loose index scan or as a walk of the whole
// index depending on its statistics of the day: both plans were seen on
// the same table of 440 thousand enrollments, hours apart.
func (r *Reader) enrolledCourses(ctx context.Context, known []string) ([]string, error) {
	probed := map[string]bool{"": true}
	bounds := []string{""}
	for _, k := range known {
		if !probed[k] {
			probed[k] = true
			bounds = append(bounds, k)
		}
	}
	var out []string
	found := map[string]bool{}
	for len(bounds) > 0 {
		var next []string
		for _, batch := range database.Batches(bounds, courseProbes) {
			rows, err := r.q.Query(ctx, nextCoursesQuery(len(batch)), database.Args(batch)...)
			if err != nil {
				return nil, err
			}
			for rows.Next() {
				var id sql.NullString
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return nil, err
				}
				if !id.Valid || found[id.String] {
					continue
				}
				found[id.String] = true
				out = append(out, id.String)
				if !probed[id.String] {
					probed[id.String] = true
					next = append(next, id.String)
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
		}
		bounds = next
	}
	return out, nil
}

// courseProbes is how many probes one statement of enrolledCourses holds.
const courseProbes = 100

// nextCourseProbe is the smallest enrolled course id after a bound.
const nextCourseProbe = `SELECT (SELECT MIN(course_id) FROM student_courseenrollment WHERE course_id > ?)`

// nextCoursesQuery is n probes in one statement.
func nextCoursesQuery(n int) string {
	return strings.Repeat(nextCourseProbe+" UNION ALL ", n-1) + nextCourseProbe
}

// Membership assigns courses to sites (DESIGN.md §5). When no site carries
// a course_org_filter the install is standalone and every course belongs
// to the default site. Otherwise a course belongs to every site whose filter
// names its org (the org of its key or overview) or an organization it is
// linked to; a course no filter names belongs to no site and is returned in
// unassigned, so the caller can report it rather than drop it silently.
func Membership(sites []Site, courses []Course, defaultSite int) (bySite map[int][]string, unassigned []string) {
	bySite = map[int][]string{}
	multi := false
	for _, s := range sites {
		if len(s.Orgs) > 0 {
			multi = true
		}
	}
	if !multi {
		for _, c := range courses {
			bySite[defaultSite] = append(bySite[defaultSite], c.ID)
		}
		return bySite, nil
	}
	for _, c := range courses {
		orgs := map[string]bool{c.Org: true}
		if k, err := course.ParseKey(c.ID); err == nil {
			orgs[k.Org] = true
		}
		for _, o := range c.Organizations {
			orgs[o] = true
		}
		found := false
		for _, s := range sites {
			for _, o := range s.Orgs {
				if orgs[o] {
					bySite[s.ID] = append(bySite[s.ID], c.ID)
					found = true
					break
				}
			}
		}
		if !found {
			unassigned = append(unassigned, c.ID)
		}
	}
	return bySite, unassigned
}
