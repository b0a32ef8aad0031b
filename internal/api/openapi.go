package api

import (
	"encoding/json"
	"strings"
)

// The OpenAPI 3.0 description served at /figures/api/openapi.json. It is
// written here by hand, next to the handlers, and a test validates every
// endpoint's real answers against it (schemas are strict: every property
// required, none extra), so it cannot drift from what is served.

type schema = map[string]any

func typ(t string) schema { return schema{"type": t} }

var (
	tInt      = typ("integer")
	tNum      = typ("number")
	tStr      = typ("string")
	tBool     = typ("boolean")
	tDate     = schema{"type": "string", "format": "date"}
	tDateTime = schema{"type": "string", "format": "date-time"}
	tURI      = schema{"type": "string", "format": "uri-reference", "nullable": true}
	tDecimal  = schema{"type": "string", "pattern": `^-?\d+\.\d\d$`, "description": "A decimal with two places, as a string (DRF DecimalField)."}
)

// nullable returns s that also admits null.
func nullable(s schema) schema {
	if r, ok := s["$ref"]; ok {
		return schema{"nullable": true, "allOf": []any{schema{"$ref": r}}}
	}
	out := schema{}
	for k, v := range s {
		out[k] = v
	}
	out["nullable"] = true
	return out
}

func arr(items schema) schema { return schema{"type": "array", "items": items} }

func ref(name string) schema { return schema{"$ref": "#/components/schemas/" + name} }

// prop is one property of an object schema.
type prop struct {
	name string
	s    schema
}

// obj is a strict object: every property present, no other.
func obj(props ...prop) schema {
	ps := schema{}
	req := make([]string, len(props))
	for i, p := range props {
		ps[p.name] = p.s
		req[i] = p.name
	}
	return schema{"type": "object", "properties": ps, "required": req, "additionalProperties": false}
}

func pr(name string, s schema) prop { return prop{name, s} }

func seriesOf(value schema) schema {
	return obj(pr("current_month", value), pr("history", arr(obj(pr("period", schema{"type": "string", "pattern": `^\d{4}/\d{2}$`}), pr("value", value)))))
}

var components = map[string]schema{
	"Error": {"type": "object", "properties": schema{"detail": tStr}, "required": []string{"detail"}},
	"FieldErrors": {"type": "object", "additionalProperties": arr(tStr),
		"description": "Invalid query parameters: each parameter's messages."},
	"UserRef":         obj(pr("id", tInt), pr("username", tStr), pr("fullname", nullable(tStr))),
	"ProgressDetails": obj(pr("points_possible", tNum), pr("points_earned", tNum), pr("sections_worked", tInt), pr("sections_possible", tInt)),
	"IntSeries":       seriesOf(tInt),
	"FloatSeries":     seriesOf(tNum),
	"Site":            obj(pr("id", tInt), pr("domain", tStr), pr("name", tStr)),
	"CourseIndex":     obj(pr("id", tStr), pr("name", tStr), pr("org", tStr), pr("number", tStr)),
	"Staff":           obj(pr("user_id", tInt), pr("username", tStr), pr("fullname", nullable(tStr)), pr("role", tStr)),
	"CourseDailyMetrics": obj(pr("id", tInt), pr("average_progress", nullable(tDecimal)), pr("created", tDateTime), pr("modified", tDateTime),
		pr("date_for", tDate), pr("course_id", tStr), pr("enrollment_count", tInt), pr("active_learners_today", tInt),
		pr("average_days_to_complete", nullable(tInt)), pr("num_learners_completed", tInt), pr("site", tInt)),
	"CourseGeneral": obj(pr("course_id", tStr), pr("course_name", tStr), pr("course_code", tStr), pr("org", tStr),
		pr("start_date", nullable(tDateTime)), pr("end_date", nullable(tDateTime)), pr("self_paced", tBool),
		pr("staff", arr(ref("Staff"))), pr("metrics", nullable(ref("CourseDailyMetrics")))),
	"CourseDetail": obj(pr("course_id", tStr), pr("course_name", tStr), pr("course_code", tStr), pr("org", tStr),
		pr("start_date", nullable(tDateTime)), pr("end_date", nullable(tDateTime)), pr("self_paced", tBool),
		pr("staff", arr(ref("Staff"))), pr("learners_enrolled", ref("IntSeries")), pr("average_progress", ref("FloatSeries")),
		pr("average_days_to_complete", ref("IntSeries")), pr("users_completed", ref("IntSeries"))),
	"CourseMonth": obj(pr("course_id", tStr), pr("month_for", schema{"type": "string", "pattern": `^\d{1,2}/\d{4}$`}),
		pr("active_users", tInt), pr("course_enrollments", tInt), pr("num_learners_completed", tInt),
		pr("avg_days_to_complete", tInt), pr("avg_progress", tNum)),
	"SiteMonthCurrent": obj(pr("active_users", tInt), pr("registered_users", tInt), pr("new_users", tInt),
		pr("site_courses", tInt), pr("course_enrollments", tInt), pr("course_completions", tInt)),
	"GeneralSiteMetrics": obj(pr("monthly_active_users", ref("IntSeries")), pr("total_site_users", ref("IntSeries")),
		pr("total_site_courses", ref("IntSeries")), pr("total_course_enrollments", ref("IntSeries")), pr("total_course_completions", ref("IntSeries"))),
	"UserGeneral": obj(pr("id", tInt), pr("username", tStr), pr("email", tStr), pr("fullname", nullable(tStr)), pr("country", tStr),
		pr("is_active", tBool), pr("year_of_birth", nullable(tInt)), pr("gender", nullable(tStr)), pr("date_joined", tDate),
		pr("level_of_education", nullable(tStr)), pr("language_proficiencies", arr(schema{})),
		pr("courses", arr(obj(pr("id", tStr), pr("display_name", tStr), pr("org", tStr))))),
	"UserDetail": obj(pr("id", tInt), pr("username", tStr), pr("name", nullable(tStr)), pr("email", tStr), pr("country", tStr),
		pr("is_active", tBool), pr("year_of_birth", nullable(tInt)), pr("level_of_education", nullable(tStr)), pr("gender", nullable(tStr)),
		pr("date_joined", tDateTime), pr("bio", nullable(tStr)),
		pr("courses", arr(obj(pr("course_name", tStr), pr("course_code", tStr), pr("course_id", tStr), pr("date_enrolled", tDate),
			pr("progress_data", obj(
				pr("course_completed", schema{"oneOf": []any{tDateTime, schema{"type": "boolean", "enum": []any{false}}},
					"description": "When the learner's completion certificate was created, or false."}),
				pr("course_progress", tNum), pr("course_progress_details", nullable(ref("ProgressDetails"))),
				pr("course_progress_history", arr(obj(pr("date_for", tDate), pr("progress_percent", tNum)))))),
			pr("enrollment_id", tInt)))),
		pr("language_proficiencies", arr(schema{})),
		pr("profile_image", nullable(obj(pr("has_image", tBool), pr("image_url_full", tStr), pr("image_url_large", tStr),
			pr("image_url_medium", tStr), pr("image_url_small", tStr))))),
	"LearnerMetrics": obj(pr("id", tInt), pr("username", tStr), pr("email", tStr), pr("fullname", nullable(tStr)), pr("is_active", tBool),
		pr("date_joined", tDateTime), pr("enrollmentdata_set", arr(obj(pr("id", tInt), pr("course_id", tStr), pr("date_enrolled", nullable(tDate)),
			pr("is_enrolled", tBool), pr("is_completed", tBool), pr("progress_percent", tNum), pr("progress_details", ref("ProgressDetails")),
			pr("progress_estimate", nullable(tStr)))))),
	"EnrollmentMetric": obj(pr("id", tInt), pr("user", nullable(ref("UserRef"))), pr("course_id", tStr), pr("date_for", tDate),
		pr("completed", tBool), pr("points_earned", tNum), pr("points_possible", tNum), pr("sections_worked", tInt),
		pr("sections_possible", tInt), pr("progress_percent", tDecimal), pr("progress_estimate", nullable(tStr))),
	"CompletedID":      obj(pr("course_id", tStr), pr("user_id", tInt)),
	"CourseEnrollment": obj(pr("id", tInt), pr("user", ref("UserRef")), pr("created", nullable(tDateTime)), pr("is_active", tBool), pr("mode", tStr), pr("course_id", tStr)),
	"SiteDailyMetrics": obj(pr("id", tInt), pr("site", ref("Site")), pr("created", tDateTime), pr("modified", tDateTime), pr("date_for", tDate),
		pr("cumulative_active_user_count", nullable(tInt)), pr("todays_active_user_count", nullable(tInt)), pr("total_user_count", tInt),
		pr("course_count", tInt), pr("total_enrollment_count", tInt), pr("mau", nullable(tInt))),
	"CourseMau":     obj(pr("mau", tInt), pr("date_for", tDate), pr("domain", tStr), pr("course_id", tStr)),
	"SiteMau":       obj(pr("mau", tInt), pr("date_for", tDate), pr("domain", tStr)),
	"CourseMauLive": obj(pr("month_for", tDate), pr("count", tInt), pr("course_id", tStr), pr("domain", tStr)),
	"SiteMauLive":   obj(pr("month_for", tDate), pr("count", tInt), pr("domain", tStr)),
	"PipelineRun": obj(pr("id", tInt), pr("kind", tStr), pr("workflow", tStr), pr("grades", tStr), pr("date_for", nullable(tDate)),
		pr("date_to", nullable(tDate)), pr("started", tDateTime), pr("finished", nullable(tDateTime)),
		pr("duration_seconds", nullable(tNum)), pr("status", schema{"type": "string", "enum": []any{"running", "ok", "partial", "failed", "interrupted"}}),
		pr("courses", tInt), pr("enrollments_examined", tInt), pr("enrollments_updated", tInt), pr("errors", tInt),
		pr("lms_statements", tInt), pr("message", tStr)),
	"PipelineSchedule": obj(pr("schedule", nullable(schema{"type": "string", "description": "daily@HH:MM or every DURATION (UTC); null: no scheduler configured."})),
		pr("next_run", nullable(tDateTime)), pr("running", tBool)),
	"PipelineError": obj(pr("id", tInt), pr("run", nullable(tInt)), pr("created", tDateTime), pr("error_type", tStr), pr("course_id", tStr),
		pr("user_id", nullable(tInt)), pr("site_id", nullable(tInt)),
		pr("error_data", schema{"description": "The error's details as the pipeline recorded them (JSON)."})),
	"ApiRoot": {"type": "object", "additionalProperties": schema{"type": "string", "format": "uri-reference"}},
	"Health":  {"type": "object"},
}

// param is a query or path parameter.
type param struct {
	name, in, desc string
	s              schema
}

func q(name string, s schema, desc string) param { return param{name, "query", desc, s} }

var (
	pSite     = q("site", tInt, "The site to read (global callers; a site-bound caller may only name its own). Default: the site of the Host header, else the default site.")
	pLimit    = q("limit", tInt, "Page size, at most 1000 (a larger one is cut to 1000). Zero, negative or invalid: the default.")
	pOffset   = q("offset", tInt, "Rows to skip. Negative or invalid: 0.")
	pPage     = q("page", tStr, "Page number (1-based) or \"last\". Out of range: 404.")
	pPageSize = q("page_size", tInt, "Page size, at most 100 (default 10).")
	pFormat   = q("format", schema{"type": "string", "enum": []any{"json", "csv"}}, "csv streams every selected row (all pages unless limit/offset are given).")
	pSearch   = q("search", tStr, "Terms (split on spaces and commas) that must each match one of the searched fields, case-insensitively.")
	pDateFor  = q("date_for", tDate, "Exactly this day.")
	pDateFrom = q("date_after", tDate, "From this day on (also date_0).")
	pDateTo   = q("date_before", tDate, "Up to this day (also date_1).")
	pCourseID = q("course_id", tStr, "A course id (course-v1:Org+Course+Run); malformed: 400.")
)

func pOrdering(names ...string) param {
	return q("ordering", tStr, "Comma-separated sort fields, - for descending: "+strings.Join(names, ", ")+". Others: 400.")
}

var userParams = []param{
	q("is_active", tBool, ""), q("is_staff", tBool, ""), q("is_superuser", tBool, ""),
	q("username", tStr, "Substring, case-insensitive."), q("email", tStr, "Substring, case-insensitive."),
	q("name", tStr, "Full name substring, case-insensitive."), q("country", tStr, "ISO country code."),
	q("user_ids", tStr, "Comma-separated user ids."),
	q("enrolled_in_course_id", tStr, "Learners actively enrolled in this course of the site, course staff excluded."),
	q("date_joined", tDateTime, "Exactly this join time."),
	pSearch, pOrdering("username", "email", "profile__name", "is_active", "date_joined"),
}

var courseParams = []param{
	q("display_name", tStr, "Substring, case-insensitive."), q("org", tStr, "Case-insensitive."),
	q("number", tStr, "Case-insensitive."), q("number_contains", tStr, "Substring, case-insensitive."),
	q("search", tStr, "Matches course name or id."), pOrdering("display_name", "self_paced", "start_date", "course_id"),
}

var enrollmentMetricParams = []param{
	q("course_ids", tStr, "Comma-separated course ids."), q("user_ids", tStr, "Comma-separated user ids."),
	pDateFor, pDateFrom, pDateTo, q("only_completed", tBool, ""), q("exclude_completed", tBool, "The rows that are not completed."),
	pCourseID, q("user", tInt, "A user id."), q("sections_worked", tInt, ""), q("sections_possible", tInt, ""),
	q("points_possible", tNum, ""), q("points_earned", tNum, ""), pOrdering("date_for", "course_id", "username", "user"),
}

// endpoint is one path of the description.
type endpoint struct {
	path, summary, desc string
	params              []param
	// result is the 200 answer's schema; list paging wraps it.
	result schema
	paging string // "", "limit", "page" or "array"
	csv    bool
}

func pathParam(name, desc string) param { return param{name, "path", desc, tStr} }

var pCourse = pathParam("course_id", "A course id, course-v1:Org+Course+Run (the legacy Org/Course/Run form, with its slashes, is accepted too). Malformed: 400; not a course of the site: 404.")
var pID = param{"id", "path", "", tInt}

func endpoints() []endpoint {
	eps := []endpoint{
		{path: "", summary: "API root: each resource's list URL", result: ref("ApiRoot")},
		{path: "general-site-metrics", summary: "Deprecated: five site series ending with date_for's month",
			params: []param{q("date_for", tDate, "Default: today.")}, result: ref("GeneralSiteMetrics")},
		{path: "site-monthly-metrics", summary: "The current month's six site metrics", result: ref("SiteMonthCurrent")},
	}
	for _, m := range siteMetricNames {
		eps = append(eps, endpoint{path: "site-monthly-metrics/" + m, summary: "Six-month series of " + m,
			result: obj(pr(m, ref("IntSeries")))})
	}
	eps = append(eps,
		endpoint{path: "course-monthly-metrics", summary: "Every site course's current month", paging: "array", csv: true,
			params: []param{pOrdering("course_id")}, result: ref("CourseMonth")},
		endpoint{path: "course-monthly-metrics/{course_id}", summary: "A course's current month", params: []param{pCourse}, result: ref("CourseMonth")},
	)
	for _, m := range courseMetricNames {
		val := ref("IntSeries")
		if m == "avg_progress" {
			val = ref("FloatSeries")
		}
		eps = append(eps, endpoint{path: "course-monthly-metrics/{course_id}/" + m, summary: "A course's six-month series of " + m,
			params: []param{pCourse}, result: obj(pr(m, val))})
	}
	eps = append(eps,
		endpoint{path: "courses-index", summary: "The site's courses", paging: "limit", csv: true, params: courseParams, result: ref("CourseIndex")},
		endpoint{path: "courses-index/{course_id}", summary: "One course", params: []param{pCourse}, result: ref("CourseIndex")},
		endpoint{path: "courses-general", summary: "The site's courses with staff and newest daily metrics", paging: "limit", csv: true,
			params: courseParams, result: ref("CourseGeneral"), desc: "Default page size 1000."},
		endpoint{path: "courses-general/{course_id}", summary: "One course with staff and newest daily metrics", params: []param{pCourse}, result: ref("CourseGeneral")},
		endpoint{path: "courses-detail", summary: "The site's courses with six-month series", paging: "limit", csv: true,
			params: courseParams, result: ref("CourseDetail"), desc: "Default page size 1000. CSV: the current month's values."},
		endpoint{path: "courses-detail/{course_id}", summary: "One course with six-month series", params: []param{pCourse}, result: ref("CourseDetail")},
		endpoint{path: "users-general", summary: "The site's users", paging: "limit", csv: true, params: userParams, result: ref("UserGeneral"),
			desc: "Default page size 1000. search: username, email, full name. CSV: one record per (user, site course)."},
		endpoint{path: "users-general/{id}", summary: "One site user", params: []param{pID}, result: ref("UserGeneral")},
		endpoint{path: "users-detail", summary: "The site's users with their site enrollments and progress", paging: "limit", csv: true,
			params: userParams, result: ref("UserDetail"), desc: "CSV: one record per (user, site enrollment)."},
		endpoint{path: "users-detail/{id}", summary: "One site user with enrollments and progress", params: []param{pID}, result: ref("UserDetail")},
		endpoint{path: "user-index", summary: "The site's users, briefly", paging: "limit", csv: true, params: userParams, result: ref("UserRef")},
		endpoint{path: "user-index/{id}", summary: "One site user, briefly", params: []param{pID}, result: ref("UserRef")},
		endpoint{path: "learner-metrics", summary: "Learners progress overview: learners with progress data in the site", paging: "limit", csv: true,
			params: append([]param{q("course", tStr, "Repeatable: learners with progress data in one of these courses; enrollmentdata_set is narrowed to them.")}, userParams...),
			result: ref("LearnerMetrics"), desc: "CSV: one record per (learner, enrollment data row)."},
		endpoint{path: "learner-metrics/{id}", summary: "One learner's progress in the site", params: []param{pID}, result: ref("LearnerMetrics")},
		endpoint{path: "enrollment-metrics", summary: "Per-enrollment progress snapshots (LearnerCourseGradeMetrics)", paging: "limit", csv: true,
			params: enrollmentMetricParams, result: ref("EnrollmentMetric")},
		endpoint{path: "enrollment-metrics/completed", summary: "The completed snapshots", paging: "limit", csv: true,
			params: enrollmentMetricParams, result: ref("EnrollmentMetric")},
		endpoint{path: "enrollment-metrics/completed_ids", summary: "Distinct (course, user) pairs with a completed snapshot", paging: "limit", csv: true,
			params: append(append([]param(nil), enrollmentMetricParams[:len(enrollmentMetricParams)-1]...), pOrdering("course_id", "user_id")), result: ref("CompletedID")},
		endpoint{path: "enrollment-metrics/{id}", summary: "One snapshot", params: []param{pID}, result: ref("EnrollmentMetric")},
		endpoint{path: "course-enrollments", summary: "The site's course enrollments", paging: "limit", csv: true,
			params: []param{pCourseID, q("user_id", tInt, ""), q("is_active", tBool, ""), pOrdering("id", "created", "course_id", "user_id")},
			result: ref("CourseEnrollment")},
		endpoint{path: "course-enrollments/{id}", summary: "One enrollment", params: []param{pID}, result: ref("CourseEnrollment")},
		endpoint{path: "course-daily-metrics", summary: "Daily course metrics", paging: "limit", csv: true,
			params: []param{pDateFor, pDateFrom, pDateTo, pCourseID, pOrdering("date_for", "course_id", "id")}, result: ref("CourseDailyMetrics")},
		endpoint{path: "course-daily-metrics/{id}", summary: "One daily course metrics row", params: []param{pID}, result: ref("CourseDailyMetrics")},
		endpoint{path: "site-daily-metrics", summary: "Daily site metrics", paging: "limit", csv: true,
			params: []param{pDateFor, pDateFrom, pDateTo, pOrdering("date_for", "id")}, result: ref("SiteDailyMetrics")},
		endpoint{path: "site-daily-metrics/{id}", summary: "One daily site metrics row", params: []param{pID}, result: ref("SiteDailyMetrics")},
		endpoint{path: "course-mau-metrics", summary: "Stored course MAU snapshots", paging: "page", csv: true,
			params: []param{pDateFor, pDateFrom, pDateTo, pCourseID, pOrdering("date_for", "course_id", "mau")}, result: ref("CourseMau")},
		endpoint{path: "course-mau-metrics/{id}", summary: "One course MAU snapshot", params: []param{pID}, result: ref("CourseMau")},
		endpoint{path: "site-mau-metrics", summary: "Stored site MAU snapshots", paging: "page", csv: true,
			params: []param{pDateFor, pDateFrom, pDateTo, pOrdering("date_for", "mau")}, result: ref("SiteMau")},
		endpoint{path: "site-mau-metrics/{id}", summary: "One site MAU snapshot", params: []param{pID}, result: ref("SiteMau")},
		endpoint{path: "course-mau-live-metrics", summary: "This month's active learners of every site course", paging: "array", csv: true,
			params: []param{pOrdering("course_id")}, result: ref("CourseMauLive"),
			desc: "Live from the LMS when the server runs with --lms, otherwise from the store's monthly active enrollments (as of the pipeline's last run)."},
		endpoint{path: "course-mau-live-metrics/{course_id}", summary: "This month's active learners of a course", params: []param{pCourse}, result: ref("CourseMauLive")},
		endpoint{path: "site-mau-live-metrics", summary: "This month's active learners of the site", result: ref("SiteMauLive")},
		endpoint{path: "pipeline-runs", summary: "Pipeline runs, newest first (every caller: a run covers every site)", paging: "limit", csv: true,
			params: []param{q("kind", tStr, "run, backfill or compare."), q("workflow", tStr, "next, legacy or incremental."),
				q("status", tStr, "running, ok, partial, failed or interrupted."), pDateFor, pDateFrom, pDateTo,
				pOrdering("id", "started", "date_for", "kind", "status")},
			result: ref("PipelineRun"), desc: "Default order: newest first (-id). duration_seconds is null while a run is in progress."},
		endpoint{path: "pipeline-runs/{id}", summary: "One pipeline run", params: []param{pID}, result: ref("PipelineRun")},
		endpoint{path: "pipeline-runs/schedule", summary: "The pipeline's schedule, next run and whether a scheduled run is in progress",
			result: ref("PipelineSchedule"), desc: "Every field is null (running false) when the server has no scheduler."},
		endpoint{path: "pipeline-runs/errors", summary: "Errors the pipeline recorded (global callers only)", paging: "limit", csv: true,
			params: []param{q("run", tInt, "A run id: that run's errors."), q("error_type", tStr, "UNSPECIFIED, GRADES, COURSE or SITE (case-insensitive)."),
				q("course_id", tStr, "A course id, as recorded."), pOrdering("id", "created")},
			result: ref("PipelineError")},
		endpoint{path: "admin/sites", summary: "Every site (global callers only)", paging: "limit", csv: true,
			params: []param{q("domain", tStr, "Substring."), q("name", tStr, "Substring."), pOrdering("id", "domain", "name")}, result: ref("Site")},
		endpoint{path: "admin/sites/{id}", summary: "One site (global callers only)", params: []param{pID}, result: ref("Site")},
	)
	return eps
}

// responseSchema is the 200 answer's schema of e.
func (e endpoint) responseSchema() schema {
	switch e.paging {
	case "limit":
		return obj(pr("count", tInt), pr("next", tURI), pr("previous", tURI), pr("results", arr(e.result)))
	case "page":
		return obj(pr("next", tURI), pr("previous", tURI), pr("count", tInt), pr("num_pages", tInt),
			pr("current_page", tInt), pr("start", tInt), pr("results", arr(e.result)))
	case "array":
		return arr(e.result)
	}
	return e.result
}

func paramJSON(p param) schema {
	out := schema{"name": p.name, "in": p.in, "schema": p.s}
	if p.desc != "" {
		out["description"] = p.desc
	}
	if p.in == "path" {
		out["required"] = true
	}
	return out
}

func errResp(desc string) schema {
	return schema{"description": desc, "content": schema{"application/json": schema{"schema": ref("Error")}}}
}

// buildSpec renders the OpenAPI document.
func buildSpec() ([]byte, error) {
	paths := schema{}
	for _, e := range endpoints() {
		var ps []any
		for _, p := range e.params {
			ps = append(ps, paramJSON(p))
		}
		ps = append(ps, paramJSON(pSite))
		switch e.paging {
		case "limit":
			ps = append(ps, paramJSON(pLimit), paramJSON(pOffset))
		case "page":
			ps = append(ps, paramJSON(pPage), paramJSON(pPageSize))
		}
		if e.csv {
			ps = append(ps, paramJSON(pFormat))
		}
		content := schema{"application/json": schema{"schema": e.responseSchema()}}
		if e.csv {
			content["text/csv"] = schema{"schema": tStr}
		}
		op := schema{
			"summary":    e.summary,
			"parameters": ps,
			"responses": schema{
				"200": schema{"description": "OK", "content": content},
				"400": schema{"description": "Invalid query parameters", "content": schema{"application/json": schema{"schema": schema{"oneOf": []any{ref("FieldErrors"), ref("Error")}}}}},
				"401": errResp("No or invalid credentials"),
				"403": errResp("The caller may not read this site or resource"),
				"404": errResp("Not found, or not in the caller's site"),
			},
		}
		if e.desc != "" {
			op["description"] = e.desc
		}
		path := Prefix + e.path
		if e.path != "" {
			path += "/"
		}
		paths[path] = schema{"get": op}
	}
	paths[Prefix+"openapi.json"] = schema{"get": schema{"summary": "This description",
		"responses": schema{"200": schema{"description": "OK", "content": schema{"application/json": schema{"schema": typ("object")}}}}}}
	paths["/healthz"] = schema{"get": schema{"summary": "Health: the store answers", "security": []any{},
		"responses": schema{"200": schema{"description": "OK", "content": schema{"application/json": schema{"schema": ref("Health")}}},
			"503": schema{"description": "The store does not answer"}}}}
	paths["/metrics"] = schema{"get": schema{"summary": "Prometheus metrics (global callers only)",
		"responses": schema{"200": schema{"description": "OK", "content": schema{"text/plain": schema{"schema": tStr}}}}}}
	doc := schema{
		"openapi": "3.0.3",
		"info": schema{
			"title":   "Figures API",
			"version": "1.0",
			"description": "Open edX Figures' REST API, served by figures from its store: the original endpoints, paths, parameters, " +
				"envelopes and fields, read-only, scoped to one site per request. See docs/API.md.",
		},
		"paths": paths,
		"components": schema{
			"schemas": components,
			"securitySchemes": schema{
				"bearer":      schema{"type": "http", "scheme": "bearer", "description": "An API token (figures token create) or an Open edX JWT; the Token and JWT schemes are accepted too."},
				"tokenCookie": schema{"type": "apiKey", "in": "cookie", "name": TokenCookie},
				"edxJWTCookie": schema{"type": "apiKey", "in": "cookie", "name": JWTHeaderPayloadCookie,
					"description": "With " + JWTSignatureCookie + ": the LMS's JWT cookie pair."},
			},
		},
		"security": []any{schema{"bearer": []any{}}, schema{"tokenCookie": []any{}}, schema{"edxJWTCookie": []any{}}},
	}
	return json.MarshalIndent(doc, "", " ")
}
