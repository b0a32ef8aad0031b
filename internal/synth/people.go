package synth

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
)

var (
	firstNames = []string{"Amara", "Ben", "Carla", "Dmitri", "Elena", "Farid", "Grace", "Hiroshi", "Ines", "Jamal",
		"Kavya", "Liam", "Mei", "Nikolai", "Olga", "Pedro", "Quinn", "Rosa", "Samir", "Tara", "Uma", "Victor",
		"Wen", "Ximena", "Yusuf", "Zoe", "Aiko", "Bruno", "Chloe", "Diego", "Esther", "Femi", "Gita", "Hassan",
		"Ivy", "Jonas", "Keiko", "Lucas", "Maya", "Nadia"}
	lastNames = []string{"Abebe", "Brown", "Chen", "Diaz", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito", "Johnson",
		"Kowalski", "Lopez", "Mensah", "Nguyen", "Okafor", "Patel", "Quispe", "Rossi", "Silva", "Tanaka", "Usman",
		"Valdez", "Wang", "Xu", "Yilmaz", "Zhang", "Andersson", "Bianchi", "Costa", "Dubois", "Evans", "Ferreira",
		"Gupta", "Hughes", "Ivanova", "Jones", "Kim", "Larsen", "Martin", "Novak"}
	countries = []string{"US", "IN", "BR", "GB", "DE", "FR", "ES", "MX", "CO", "NG", "EG", "CN", "JP", "KR", "CA",
		"AU", "PK", "ID", "PH", "TR", "KE", "AR", "PL", "NL", "ZA"}
	educations = []string{"p", "m", "b", "a", "hs", "jhs", "el", "none", "other"}
	genders    = []string{"m", "f", "o"}
)

// person is the drawn identity of a user.
type person struct {
	first, last, username string
}

// personOf draws a user's identity from its own stream, so that any table
// (users, profiles, certificates) can recompute it without storing it.
func (g *generator) personOf(u *user) (person, *rng) {
	r := streamOf(g.seed, streamPerson, uint64(u.kind)<<48|u.stream)
	p := person{first: firstNames[r.IntN(len(firstNames))], last: lastNames[r.IntN(len(lastNames))]}
	switch u.kind {
	case userAdmin:
		p.username = "admin"
	case userGlobalStaff:
		p.username = "staff" + strconv.Itoa(int(u.id))
	case userInstructor:
		p.username = "instructor" + strconv.Itoa(int(u.id))
	case userOrgStaff:
		p.username = "orgstaff" + strconv.Itoa(u.site)
	default:
		p.username = strings.ToLower(p.first[:1]+p.last) + strconv.Itoa(int(u.id))
	}
	return p, r
}

// displayName is the full name a certificate carries.
func (g *generator) displayName(id int32) string {
	p, _ := g.personOf(&g.p.users[id-1])
	return p.first + " " + p.last
}

func (g *generator) writeSites() error {
	ts, tc := g.tables.site, g.tables.siteConf
	for _, s := range g.p.sites {
		ts.int(int64(s.id)).str(s.domain).str(s.name)
		if err := ts.end(); err != nil {
			return err
		}
		var filter any = s.orgs
		if s.filterAsString {
			filter = s.orgs[0]
		}
		values, err := json.Marshal(map[string]any{
			"course_org_filter": filter,
			"PLATFORM_NAME":     s.name,
			"SITE_NAME":         s.domain,
			"LMS_BASE":          s.domain,
		})
		if err != nil {
			return err
		}
		tc.int(int64(s.id)).bool(true).int(int64(s.id)).str(string(values))
		if err := tc.end(); err != nil {
			return err
		}
	}
	return nil
}

// overviewCols are the course_overviews_courseoverview columns written:
// every NOT NULL column and the useful nullable ones.
var overviewCols = []string{"created", "modified", "version", "id", "_location", "org", "display_name",
	"display_number_with_default", "display_org_with_default", "start", "end", "advertised_start", "announcement",
	"course_image_url", "certificates_display_behavior", "certificates_show_before_end", "cert_html_view_enabled",
	"has_any_active_web_certificate", "cert_name_short", "cert_name_long", "lowest_passing_grade",
	"days_early_for_beta", "mobile_available", "visible_to_staff_only", "_pre_requisite_courses_json",
	"enrollment_start", "enrollment_end", "enrollment_domain", "invitation_only", "max_student_enrollments_allowed",
	"catalog_visibility", "short_description", "course_video_url", "effort", "self_paced",
	"certificate_available_date", "language"}

func (g *generator) writeCourses() error {
	p := g.p
	// Organizations: every org a site filters on, in a fixed order.
	orgID := map[string]int64{}
	var orgs []string
	for _, s := range p.sites {
		orgs = append(orgs, s.orgs...)
	}
	t := g.tables.org
	created := p.courses[0].published - 30*dayMicros
	for _, c := range p.courses {
		created = min(created, c.published-30*dayMicros)
	}
	for i, o := range orgs {
		orgID[o] = int64(i + 1)
		t.int(int64(i + 1)).time(created).time(created).str(orgLongName(o)).str(o).str("Courses from " + o + ".").null().bool(true)
		if err := t.end(); err != nil {
			return err
		}
	}
	oc, ov := g.tables.orgCourse, g.tables.overview
	for i, c := range p.courses {
		if id, ok := orgID[c.org]; ok {
			oc.int(int64(i + 1)).time(c.published).time(c.published).str(c.id).bool(true).int(id)
			if err := oc.end(); err != nil {
				return err
			}
		}
		enrollStart := c.start - 14*dayMicros
		ov.time(c.published).time(c.published).int(19).str(c.id).str(c.key.UsageKey("course", "course")).str(c.org).
			str(c.displayName).str(c.key.Course).str(c.org).time(c.start).timeOrNull(c.end).null().null().
			str("/asset-v1:" + c.org + "+" + c.key.Course + "+" + c.key.Run + "+type@asset+block@images_course_image.jpg").
			str("end").bool(false).bool(true).bool(true).str("Certificate").str("Certificate of Achievement").
			str(strconv.FormatFloat(c.policy.Cutoff, 'f', 2, 64)).null().bool(true).bool(false).str("[]").
			time(enrollStart).null().null().bool(false).null().str("both").str("A course about " + strings.ToLower(c.displayName) + ".").
			null().str("4 hours/week").bool(c.selfPaced).null().str("en")
		if err := ov.end(); err != nil {
			return err
		}
	}
	return nil
}

func orgLongName(short string) string {
	switch short {
	case "OpenedX":
		return "Open edX"
	case "edX":
		return "edX"
	}
	return short + " Learning"
}

// writeUsers writes auth_user for every account and auth_userprofile for
// most (about one in ten learners has none, as on installs that create
// accounts through other channels).
func (g *generator) writeUsers() error {
	tu, tp := g.tables.user, g.tables.profile
	endLast := dayLast(g.p.endDay)
	var profileID int64
	for i := range g.p.users {
		u := &g.p.users[i]
		pe, r := g.personOf(u)
		password := "pbkdf2_sha256$600000$" + r.hex32()[:22] + "$" + r.hex32() + r.hex32()[:12] + "="
		limit := endLast
		if u.kind == userAlumnus {
			limit = dayLast(g.p.firstDay - 1)
		}
		var lastLogin int64
		if !r.chance(0.05) {
			lastLogin = u.joined + r.Int64N(max(1, limit-u.joined))
		}
		staff := u.kind == userAdmin || u.kind == userGlobalStaff
		tu.int(int64(u.id)).str(password).timeOrNull(lastLogin).bool(u.kind == userAdmin).str(pe.username).
			str(pe.first).str(pe.last).str(pe.username + "@example.com").bool(staff).bool(!r.chance(0.01)).time(u.joined)
		if err := tu.end(); err != nil {
			return err
		}
		if (u.kind == userLearner || u.kind == userAlumnus) && r.chance(0.1) {
			continue
		}
		profileID++
		tp.int(profileID).str(pe.first + " " + pe.last).str("").str("course.xml").str("").str("")
		if r.chance(0.85) {
			tp.int(int64(r.between(1950, 2007)))
		} else {
			tp.null()
		}
		switch k := r.IntN(10); {
		case k < 8:
			tp.str(genders[r.weighted([]float64{0.48, 0.48, 0.04})])
		case k < 9:
			tp.str("")
		default:
			tp.null()
		}
		if r.chance(0.85) {
			tp.str(educations[r.IntN(len(educations))])
		} else {
			tp.null()
		}
		tp.null() // mailing_address
		if r.chance(0.3) {
			tp.str("Springfield")
		} else {
			tp.null()
		}
		switch k := r.IntN(20); {
		case k < 17:
			tp.str(countries[r.IntN(len(countries))])
		case k < 19:
			tp.str("")
		default:
			tp.null()
		}
		tp.null() // state
		if r.chance(0.2) {
			tp.str("Learn new skills for work.")
		} else {
			tp.null()
		}
		tp.null().null().null().int(int64(u.id))
		if err := tp.end(); err != nil {
			return err
		}
	}
	return nil
}

// writeRoles writes student_courseaccessrole, ordered by user, org, course
// and role.
func (g *generator) writeRoles() error {
	roles := append([]role(nil), g.p.roles...)
	sort.Slice(roles, func(a, b int) bool {
		x, y := roles[a], roles[b]
		if x.user != y.user {
			return x.user < y.user
		}
		if x.org != y.org {
			return x.org < y.org
		}
		if x.courseID != y.courseID {
			return x.courseID < y.courseID
		}
		return x.role < y.role
	})
	t := g.tables.role
	for i, r := range roles {
		t.int(int64(i + 1)).str(r.org).str(r.courseID).str(r.role).int(int64(r.user))
		if err := t.end(); err != nil {
			return err
		}
	}
	return nil
}
