package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/store"
)

// TestOpenAPI requests every described {id} path with an example id; the
// fixture's second run is the one with an error and a message.
func init() { exampleIDs["pipeline-runs"] = "2" }

// The fixture's runs (fixture_test.go): two daily runs that finished in 30
// and 100 seconds and a backfill still running.
const (
	fixtureRun1 = `{"id":1,"kind":"daily","workflow":"next","grades":"persisted","date_for":"2023-11-15","date_to":null,
		"started":"2023-11-16T02:00:00Z","finished":"2023-11-16T02:00:30Z","duration_seconds":30,"status":"ok","courses":3,
		"enrollments_examined":10,"enrollments_updated":4,"errors":0,"lms_statements":12,"message":""}`
	fixtureRun2 = `{"id":2,"kind":"daily","workflow":"next","grades":"persisted","date_for":"2023-11-16","date_to":null,
		"started":"2023-11-17T02:00:00Z","finished":"2023-11-17T02:01:40Z","duration_seconds":100,"status":"partial","courses":3,
		"enrollments_examined":12,"enrollments_updated":5,"errors":1,"lms_statements":15,"message":"one course failed"}`
	fixtureRun3 = `{"id":3,"kind":"backfill","workflow":"legacy","grades":"persisted","date_for":"2023-11-01","date_to":null,
		"started":"2023-11-17T03:00:00Z","finished":null,"duration_seconds":null,"status":"running","courses":0,
		"enrollments_examined":0,"enrollments_updated":0,"errors":0,"lms_statements":0,"message":""}`
)

// TestPipelineRuns checks the run list, its filters, order and CSV, and
// that a site-bound caller reads it too (runs are not site data).
func TestPipelineRuns(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		for _, tc := range []struct{ path, want string }{
			{"/figures/api/pipeline-runs/",
				`{"count":3,"next":null,"previous":null,"results":[` + fixtureRun3 + `,` + fixtureRun2 + `,` + fixtureRun1 + `]}`},
			{"/figures/api/pipeline-runs/?status=ok", `{"count":1,"next":null,"previous":null,"results":[` + fixtureRun1 + `]}`},
			{"/figures/api/pipeline-runs/?kind=daily&ordering=started",
				`{"count":2,"next":null,"previous":null,"results":[` + fixtureRun1 + `,` + fixtureRun2 + `]}`},
			{"/figures/api/pipeline-runs/?date_after=2023-11-16", `{"count":1,"next":null,"previous":null,"results":[` + fixtureRun2 + `]}`},
			{"/figures/api/pipeline-runs/?limit=1&offset=1",
				`{"count":3,"next":"http://example.com/figures/api/pipeline-runs/?limit=1&offset=2","previous":"http://example.com/figures/api/pipeline-runs/?limit=1",
				 "results":[` + fixtureRun2 + `]}`},
			{"/figures/api/pipeline-runs/2/", fixtureRun2},
			{"/figures/api/pipeline-runs/3", fixtureRun3},
		} {
			for _, tok := range []string{e.tokAll, e.tokA, e.tokB} {
				e.getJSON(t, tok, tc.path, tc.want)
			}
		}
		if code, body := e.get(t, e.tokA, "/figures/api/pipeline-runs/99/"); code != http.StatusNotFound {
			t.Errorf("unknown run: %d %s", code, body)
		}
		if code, _ := e.get(t, "", "/figures/api/pipeline-runs/"); code != http.StatusUnauthorized {
			t.Errorf("no caller: %d, want 401", code)
		}
		code, body := e.get(t, e.tokAll, "/figures/api/pipeline-runs/?ordering=duration")
		if code != http.StatusBadRequest || !strings.Contains(string(body), "ordering") {
			t.Errorf("unknown ordering: %d %s", code, body)
		}
		code, body = e.get(t, e.tokA, "/figures/api/pipeline-runs/?format=csv&ordering=id")
		want := `id,kind,workflow,grades,date_for,date_to,started,finished,duration_seconds,status,courses,enrollments_examined,enrollments_updated,errors,lms_statements,message
1,"daily","next","persisted","2023-11-15",,"2023-11-16T02:00:00Z","2023-11-16T02:00:30Z",30,"ok",3,10,4,0,12,
2,"daily","next","persisted","2023-11-16",,"2023-11-17T02:00:00Z","2023-11-17T02:01:40Z",100,"partial",3,12,5,1,15,"one course failed"
3,"backfill","legacy","persisted","2023-11-01",,"2023-11-17T03:00:00Z",,,"running",0,0,0,0,0,
`
		if code != http.StatusOK || string(body) != want {
			t.Errorf("CSV: %d\n%s\nwant\n%s", code, body, want)
		}
	})
}

// TestPipelineSchedule checks the schedule answer with and without a
// scheduler.
func TestPipelineSchedule(t *testing.T) {
	e := sqliteEnv(t)
	e.getJSON(t, e.tokA, "/figures/api/pipeline-runs/schedule/", `{"schedule":null,"next_run":null,"running":false}`)
	next := time.Date(2023, 11, 18, 2, 0, 0, 0, time.UTC)
	running := false
	e2 := e.withConfig(t, func(c *Config) {
		c.Schedule = func() (string, time.Time, bool) { return "daily@02:00", next, running }
	})
	e2.getJSON(t, e.tokB, "/figures/api/pipeline-runs/schedule", `{"schedule":"daily@02:00","next_run":"2023-11-18T02:00:00Z","running":false}`)
	running, next = true, time.Time{}
	e2.getJSON(t, e.tokAll, "/figures/api/pipeline-runs/schedule/", `{"schedule":"daily@02:00","next_run":null,"running":true}`)
}

// TestPipelineErrors checks the errors of a run: global callers only,
// filtered by run, their recorded data passed through, and valid against
// the OpenAPI description.
func TestPipelineErrors(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		for _, pe := range []store.PipelineError{
			{RunID: 2, ErrorType: store.ErrorCourse, CourseID: courseA2, SiteID: 1, Data: map[string]any{"msg": "outline missing"}},
			{RunID: 2, ErrorType: store.ErrorGrades, CourseID: courseB1, UserID: 12, SiteID: 2, Data: map[string]any{"msg": "no grade", "attempt": 2}},
			{RunID: 1, ErrorType: store.ErrorSite, Data: map[string]any{}},
		} {
			if err := e.st.RecordError(ctx, pe); err != nil {
				t.Fatal(err)
			}
		}
		// A row written by something else, whose data is not JSON.
		exec(t, e.db, `INSERT INTO figures_pipelineerror (created, modified, error_type, error_data, course_id, user_id, site_id, run_id)
VALUES (?, ?, 'UNSPECIFIED', 'plain text', '', NULL, NULL, NULL)`, e.db.Time(fixtureNow), e.db.Time(fixtureNow))

		code, body := e.get(t, e.tokAll, "/figures/api/pipeline-runs/errors/?run=2")
		if code != http.StatusOK {
			t.Fatalf("errors of run 2: %d %s", code, body)
		}
		v, err := decodeJSON(body)
		if err != nil {
			t.Fatal(err)
		}
		page := v.(map[string]any)
		results := page["results"].([]any)
		if page["count"] != float64(2) || len(results) != 2 {
			t.Fatalf("errors of run 2: %s", body)
		}
		first, second := results[0].(map[string]any), results[1].(map[string]any)
		if first["error_type"] != "COURSE" || first["course_id"] != courseA2 || first["user_id"] != nil || first["site_id"] != float64(1) ||
			first["run"] != float64(2) || first["error_data"].(map[string]any)["msg"] != "outline missing" {
			t.Errorf("first error: %v", first)
		}
		if second["user_id"] != float64(12) || second["error_data"].(map[string]any)["attempt"] != float64(2) {
			t.Errorf("second error: %v", second)
		}

		// Every row, the non-JSON one included, is valid against the
		// description.
		_, specBody := e.get(t, e.tokAll, "/figures/api/openapi.json")
		spec, _ := decodeJSON(specBody)
		c := &schemaChecker{schemas: spec.(map[string]any)["components"].(map[string]any)["schemas"].(map[string]any)}
		code, body = e.get(t, e.tokAll, "/figures/api/pipeline-runs/errors/?ordering=-id")
		all, _ := decodeJSON(body)
		rows := all.(map[string]any)["results"].([]any)
		if code != http.StatusOK || len(rows) != 4 {
			t.Fatalf("every error: %d %s", code, body)
		}
		if rows[0].(map[string]any)["error_data"] != "plain text" || rows[0].(map[string]any)["run"] != nil {
			t.Errorf("non-JSON error data: %v", rows[0])
		}
		for _, msg := range c.check("errors", map[string]any{"$ref": "#/components/schemas/PipelineError"}, rows[0]) {
			t.Error(msg)
		}
		for _, r := range rows {
			for _, msg := range c.check("errors", map[string]any{"$ref": "#/components/schemas/PipelineError"}, r) {
				t.Error(msg)
			}
		}

		e.getJSON(t, e.tokAll, "/figures/api/pipeline-runs/errors/?run=1&error_type=site&ordering=created",
			`{"count":1,"next":null,"previous":null,"results":[{"id":`+jsonNumber(rows[1].(map[string]any)["id"])+`,"run":1,
			 "created":"`+rows[1].(map[string]any)["created"].(string)+`","error_type":"SITE","course_id":"","user_id":null,"site_id":null,"error_data":{}}]}`)
		code, body = e.get(t, e.tokAll, "/figures/api/pipeline-runs/errors/?run=2&format=csv")
		lines := strings.Split(strings.TrimSpace(string(body)), "\n")
		if code != http.StatusOK || len(lines) != 3 || lines[0] != "id,run,created,error_type,course_id,user_id,site_id,error_data" ||
			!strings.Contains(lines[2], `,"GRADES","`+courseB1+`",12,2,"{""attempt"":2,""msg"":""no grade""}"`) {
			t.Errorf("CSV: %d\n%s", code, body)
		}
		if code, body := e.get(t, e.tokAll, "/figures/api/pipeline-runs/errors/?run=two"); code != http.StatusBadRequest {
			t.Errorf("non-integer run: %d %s", code, body)
		}
		// Site-bound callers may not read them: they name other sites'
		// courses and learners.
		for _, p := range []string{"/figures/api/pipeline-runs/errors/?run=2", "/figures/api/pipeline-runs/errors/?format=csv"} {
			code, body := e.get(t, e.tokA, p)
			if code != http.StatusForbidden || strings.Contains(string(body), "BetaU") {
				t.Errorf("%s, site-bound caller: %d %s", p, code, body)
			}
		}
	})
}

func jsonNumber(v any) string {
	b, _ := jsonMarshal(v)
	return string(b)
}
