package lms

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/figures-analytics/figures/internal/course"
	"github.com/figures-analytics/figures/internal/database"
)

// UserAccess is what the LMS says about one user that decides, with their
// enrollment and groups, which blocks of a course they see: global staff,
// email (for cohort pre-registrations) and course access roles.
type UserAccess struct {
	IsStaff bool
	Email   string
	Roles   []AccessRole
}

// AccessRole is a student_courseaccessrole row.
type AccessRole struct {
	Org, CourseID, Role string
}

// CourseStaff reports whether the user bypasses the course's visibility
// rules (course-visibility §9 step 1): global staff, a staff, instructor or
// limited_staff role on the course, or an org-wide staff or instructor
// role on its org.
func (u *UserAccess) CourseStaff(courseID, org string) bool {
	if u == nil {
		return false
	}
	if u.IsStaff {
		return true
	}
	for _, r := range u.Roles {
		switch {
		case r.CourseID == courseID && (r.Role == "staff" || r.Role == "instructor" || r.Role == "limited_staff"):
			return true
		case r.CourseID == "" && strings.EqualFold(r.Org, org) && (r.Role == "staff" || r.Role == "instructor"):
			return true
		}
	}
	return false
}

// BetaTester reports whether the user has the course's beta_testers role.
func (u *UserAccess) BetaTester(courseID string) bool {
	if u == nil {
		return false
	}
	for _, r := range u.Roles {
		if r.CourseID == courseID && r.Role == "beta_testers" {
			return true
		}
	}
	return false
}

const (
	usersAccessQuery = `SELECT id, is_staff, email FROM auth_user WHERE id IN (%s)`
	userRolesQuery   = `SELECT user_id, org, course_id, role FROM student_courseaccessrole WHERE user_id IN (%s)`
	membershipsQuery = `SELECT user_id, course_id, course_user_group_id FROM course_groups_cohortmembership WHERE user_id IN (%s)`
)

// UsersAccess reads, for the given users, auth_user.is_staff and email and
// their course access roles (all courses at once): one query per table per
// batch of fewer than 200, by primary key and the user_id index.
func (r *Reader) UsersAccess(ctx context.Context, userIDs []int) (map[int]*UserAccess, error) {
	out := make(map[int]*UserAccess, len(userIDs))
	if err := inBatches(ctx, r, "staff flags and emails of learners", usersAccessQuery, userIDs, func(rows *sql.Rows) error {
		var id int
		u := &UserAccess{}
		if err := rows.Scan(&id, &u.IsStaff, &u.Email); err != nil {
			return err
		}
		out[id] = u
		return nil
	}); err != nil {
		return nil, err
	}
	err := inBatches(ctx, r, "access roles of learners", userRolesQuery, userIDs, func(rows *sql.Rows) error {
		var id int
		var ar AccessRole
		if err := rows.Scan(&id, &ar.Org, &ar.CourseID, &ar.Role); err != nil {
			return err
		}
		if u := out[id]; u != nil {
			u.Roles = append(u.Roles, ar)
		}
		return nil
	})
	return out, err
}

// CohortMemberships reads the given users' cohort memberships in every
// course: (course, user) → course_user_group_id, through the
// (user_id, course_id) unique key.
func (r *Reader) CohortMemberships(ctx context.Context, userIDs []int) (map[Pair]int, error) {
	out := map[Pair]int{}
	err := inBatches(ctx, r, "cohort memberships of learners", membershipsQuery, userIDs, func(rows *sql.Rows) error {
		var p Pair
		var g int
		if err := rows.Scan(&p.UserID, &p.CourseID, &g); err != nil {
			return err
		}
		out[p] = g
		return nil
	})
	return out, err
}

// Cohort is one of a course's cohorts.
type Cohort struct {
	ID     int
	Random bool
	// Partition and Group are its content group (course_groups_
	// courseusergrouppartitiongroup); Mapped is false without one.
	Partition, Group int
	Mapped           bool
}

// CourseGroups is what the LMS says about a course's tracks and cohorts.
type CourseGroups struct {
	// Modes are the slugs of the course's course_modes_coursemode rows,
	// expired ones included.
	Modes []string
	// Cohorted is course_groups_coursecohortssettings.is_cohorted; nil
	// when the course has no settings row (the course policy decides).
	Cohorted *bool
	// Cohorts are the course's cohorts by id; Random lists the random
	// ones' ids, ascending.
	Cohorts map[int]Cohort
	Random  []int
}

const (
	courseModesQuery    = `SELECT course_id, mode_slug FROM course_modes_coursemode WHERE course_id IN (%s)`
	cohortSettingsQuery = `SELECT course_id, is_cohorted FROM course_groups_coursecohortssettings WHERE course_id IN (%s)`
	cohortsQuery        = `SELECT g.course_id, g.id, c.assignment_type, p.partition_id, p.group_id
FROM course_groups_courseusergroup g
LEFT JOIN course_groups_coursecohort c ON c.course_user_group_id = g.id
LEFT JOIN course_groups_courseusergrouppartitiongroup p ON p.course_user_group_id = g.id
WHERE g.course_id IN (%s) AND g.group_type = 'cohort'`
)

// ReadCourseGroups reads, for several courses at once, their modes (the
// courses in modes) and their cohorts with settings and content groups
// (the courses in cohorts): one query per table per batch of fewer than
// 200 courses, through the course_id indexes and one-to-one keys. Every
// course asked for gets an entry.
func (r *Reader) ReadCourseGroups(ctx context.Context, modes, cohorts []string) (map[string]*CourseGroups, error) {
	out := map[string]*CourseGroups{}
	get := func(c string) *CourseGroups {
		cg := out[c]
		if cg == nil {
			cg = &CourseGroups{Cohorts: map[int]Cohort{}}
			out[c] = cg
		}
		return cg
	}
	for _, c := range append(append([]string(nil), modes...), cohorts...) {
		get(c)
	}
	if err := inBatches(ctx, r, "modes of courses", courseModesQuery, modes, func(rows *sql.Rows) error {
		var c, slug string
		if err := rows.Scan(&c, &slug); err != nil {
			return err
		}
		get(c).Modes = append(get(c).Modes, slug)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := inBatches(ctx, r, "cohort settings of courses", cohortSettingsQuery, cohorts, func(rows *sql.Rows) error {
		var c string
		var cohorted bool
		if err := rows.Scan(&c, &cohorted); err != nil {
			return err
		}
		get(c).Cohorted = &cohorted
		return nil
	}); err != nil {
		return nil, err
	}
	if err := inBatches(ctx, r, "cohorts of courses", cohortsQuery, cohorts, func(rows *sql.Rows) error {
		var c string
		var co Cohort
		var kind sql.NullString
		var part, group sql.NullInt64
		if err := rows.Scan(&c, &co.ID, &kind, &part, &group); err != nil {
			return err
		}
		co.Random = kind.String == "random"
		co.Partition, co.Group, co.Mapped = int(part.Int64), int(group.Int64), part.Valid && group.Valid
		cg := get(c)
		cg.Cohorts[co.ID] = co
		if co.Random {
			cg.Random = append(cg.Random, co.ID)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	for _, cg := range out {
		sort.Strings(cg.Modes)
		sort.Ints(cg.Random)
	}
	return out, nil
}

const (
	preRegistrationsQuery = `SELECT email, course_id, course_user_group_id FROM course_groups_unregisteredlearnercohortassignments
WHERE email IN (%s)`
	courseTagsQuery = "SELECT user_id, course_id, `key`, value FROM user_api_usercoursetag WHERE user_id IN (%s)"
)

// PreRegistration is an email's cohort assignment in a course, made before
// its learner registered.
type PreRegistration struct {
	CourseID, Email string
}

// PreRegistrations reads the cohorts the given emails were assigned to
// before they registered (course_groups_unregisteredlearnercohortassignments),
// in every course, through its email index.
func (r *Reader) PreRegistrations(ctx context.Context, emails []string) (map[PreRegistration]int, error) {
	out := map[PreRegistration]int{}
	err := inBatches(ctx, r, "cohort pre-registrations of emails", preRegistrationsQuery, emails, func(rows *sql.Rows) error {
		var p PreRegistration
		var g int
		if err := rows.Scan(&p.Email, &p.CourseID, &g); err != nil {
			return err
		}
		out[p] = g
		return nil
	})
	return out, err
}

// ExperimentTags reads the learners' experiment groups in every course:
// per (course, user), per partition, the user_api_usercoursetag value of
// key xblock.partition_service.partition_<id>, through the user_id prefix
// of the (user_id, course_id, key) unique key.
func (r *Reader) ExperimentTags(ctx context.Context, userIDs []int) (map[Pair]map[int]string, error) {
	out := map[Pair]map[int]string{}
	err := inBatches(ctx, r, "experiment groups of learners", courseTagsQuery, userIDs, func(rows *sql.Rows) error {
		var p Pair
		var key, value string
		if err := rows.Scan(&p.UserID, &p.CourseID, &key, &value); err != nil {
			return err
		}
		id, ok := strings.CutPrefix(key, experimentTagPrefix)
		if !ok {
			return nil
		}
		pid, err := strconv.Atoi(id)
		if err != nil {
			return nil
		}
		if out[p] == nil {
			out[p] = map[int]string{}
		}
		out[p][pid] = value
		return nil
	})
	return out, err
}

// inBatches runs query (one %s for the IN list) for each batch of fewer
// than 200 values and calls scan on every row; what names the rows in
// errors.
func inBatches[T any](ctx context.Context, r *Reader, what, query string, values []T, scan func(*sql.Rows) error) error {
	for _, batch := range database.Batches(values, MaxInList) {
		rows, err := r.q.Query(ctx, fmt.Sprintf(query, database.Placeholders(len(batch))), database.Args(batch)...)
		if err != nil {
			return fmt.Errorf("LMS: %s of %d: %w", what, len(batch), err)
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return fmt.Errorf("LMS: %s: %w", what, err)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("LMS: %s: %w", what, err)
		}
	}
	return nil
}

// experimentTagPrefix is the user course tag key of an experiment group
// (RandomUserPartitionScheme).
const experimentTagPrefix = "xblock.partition_service.partition_"

// Reasons a learner's structure is an estimate: the platform would draw
// it at random when it first grades the learner.
const (
	// EstimateCohort: a cohorted course, a learner in no cohort, and
	// random cohorts with different content groups to draw from (R3a.4).
	EstimateCohort = "cohort"
	// EstimateExperiment: a content experiment without a valid group
	// recorded for the learner (R4.4).
	EstimateExperiment = "experiment"
	// EstimateLibrary: a library_content selection not fully recorded
	// (R6.4).
	EstimateLibrary = "library"
)

// LearnerFacts is what the LMS says about one learner in one course.
type LearnerFacts struct {
	User       *UserAccess
	Enrollment Enrollment
	Enrolled   bool
	// Cohort is the learner's cohort membership (HasCohort false: none),
	// PreRegistered the cohort their email was assigned to before they
	// registered (HasPreRegistration false: none).
	Cohort, PreRegistered         int
	HasCohort, HasPreRegistration bool
	// Tags are the learner's experiment groups by partition, as recorded.
	Tags map[int]string
}

// Signature returns the learner's signature in a course (course.Learner):
// staff and beta from their roles, and their group in each partition
// restricted is the list of (course.Outline.RestrictedPartitions), as the
// platform's partition schemes give it; and the reasons, if any, why the
// platform would draw some of it at random. Where it would, figures takes
// one fixed choice: the random cohort with the lowest id, the experiment's
// first group.
func Signature(o *course.Outline, key course.Key, cg *CourseGroups, f LearnerFacts, restricted []int) (course.Learner, []string) {
	l := course.Learner{Staff: f.User.CourseStaff(o.CourseID, key.Org), Beta: f.User.BetaTester(o.CourseID)}
	if l.Staff {
		return l, nil
	}
	var estimates []string
	for _, p := range restricted {
		part, static := o.Partition(p)
		switch {
		case p == course.EnrollmentTrackPartition && !static:
			var modes []string
			if cg != nil {
				modes = cg.Modes
			}
			if g, ok := course.LearnerTrack(f.Enrollment.Mode, f.Enrolled && f.Enrollment.IsActive, modes); ok {
				setGroup(&l, p, g)
			}
		case !static:
		case part.Scheme == "verification":
			setGroup(&l, p, 1)
		case part.Scheme == "random":
			if v, ok := f.Tags[p]; ok {
				if g, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && part.HasGroup(g) {
					setGroup(&l, p, g)
					continue
				}
			}
			if len(part.Groups) > 0 {
				setGroup(&l, p, part.Groups[0])
				if len(part.Groups) > 1 {
					estimates = appendOnce(estimates, EstimateExperiment)
				}
			}
		case part.Scheme == "cohort":
			g, ok, estimate := cohortGroup(o, cg, part, f)
			if ok {
				setGroup(&l, p, g)
			}
			if estimate {
				estimates = appendOnce(estimates, EstimateCohort)
			}
		}
	}
	return l, estimates
}

func setGroup(l *course.Learner, p, g int) {
	if l.Groups == nil {
		l.Groups = map[int]int{}
	}
	l.Groups[p] = g
}

func appendOnce(list []string, s string) []string {
	for _, v := range list {
		if v == s {
			return list
		}
	}
	return append(list, s)
}

// cohortGroup returns the learner's group in a cohort-scheme partition
// (CohortPartitionScheme.get_group_for_user, cohorts.get_cohort): none in
// a course that is not cohorted (course_groups_coursecohortssettings, else
// the course policy's cohort_config); otherwise the content group of their
// cohort — their membership, else the cohort their email was pre-assigned
// to, else a random cohort (none: a new cohort without a content group) —
// when it maps to this partition and one of its current groups. estimate
// is set when the random cohorts to draw from do not all give the same
// group.
func cohortGroup(o *course.Outline, cg *CourseGroups, part course.Partition, f LearnerFacts) (g int, ok, estimate bool) {
	cohorted := o.Cohorted
	if cg != nil && cg.Cohorted != nil {
		cohorted = *cg.Cohorted
	}
	if !cohorted || cg == nil {
		return 0, false, false
	}
	groupOf := func(id int) (int, bool) {
		c, found := cg.Cohorts[id]
		if !found || !c.Mapped || c.Partition != part.ID || !part.HasGroup(c.Group) {
			return 0, false
		}
		return c.Group, true
	}
	switch {
	case f.HasCohort:
		g, ok = groupOf(f.Cohort)
		return g, ok, false
	case f.HasPreRegistration:
		g, ok = groupOf(f.PreRegistered)
		return g, ok, false
	case len(cg.Random) == 0:
		return 0, false, false
	}
	g, ok = groupOf(cg.Random[0])
	for _, id := range cg.Random[1:] {
		if g2, ok2 := groupOf(id); g2 != g || ok2 != ok {
			estimate = true
		}
	}
	return g, ok, estimate
}
