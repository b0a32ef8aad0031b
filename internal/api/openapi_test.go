package api

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// schemaChecker validates JSON values (as decoded by encoding/json) against
// the subset of OpenAPI 3.0 schemas the description uses: $ref, allOf,
// oneOf, nullable, type, enum, format (date, date-time, uri, uri-reference), pattern,
// properties, required, additionalProperties and items. It is written here
// rather than imported: the subset is small, and a test dependency for it
// would outweigh it.
type schemaChecker struct {
	schemas map[string]any
}

func (c *schemaChecker) check(where string, s map[string]any, v any) []string {
	if r, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(r, "#/components/schemas/")
		target, ok := c.schemas[name].(map[string]any)
		if !ok {
			return []string{where + ": unknown $ref " + r}
		}
		return c.check(where, target, v)
	}
	if v == nil {
		if s["nullable"] == true {
			return nil
		}
		if _, typed := s["type"]; typed || s["allOf"] != nil || s["$ref"] != nil {
			return []string{where + ": null not allowed"}
		}
	}
	var errs []string
	if all, ok := s["allOf"].([]any); ok {
		for _, sub := range all {
			errs = append(errs, c.check(where, sub.(map[string]any), v)...)
		}
	}
	if one, ok := s["oneOf"].([]any); ok {
		n := 0
		for _, sub := range one {
			if len(c.check(where, sub.(map[string]any), v)) == 0 {
				n++
			}
		}
		if n != 1 {
			errs = append(errs, fmt.Sprintf("%s: %v matches %d of oneOf, want 1", where, v, n))
		}
	}
	if enum, ok := s["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			if e == v {
				found = true
			}
		}
		if !found {
			errs = append(errs, fmt.Sprintf("%s: %v not in enum %v", where, v, enum))
		}
	}
	switch s["type"] {
	case nil:
	case "integer":
		f, ok := v.(float64)
		if !ok || f != math.Trunc(f) {
			return append(errs, fmt.Sprintf("%s: %v is not an integer", where, v))
		}
	case "number":
		if _, ok := v.(float64); !ok {
			return append(errs, fmt.Sprintf("%s: %v is not a number", where, v))
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return append(errs, fmt.Sprintf("%s: %v is not a boolean", where, v))
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			return append(errs, fmt.Sprintf("%s: %v is not a string", where, v))
		}
		errs = append(errs, checkFormat(where, s, str)...)
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return append(errs, fmt.Sprintf("%s: %v is not an array", where, v))
		}
		if items, ok := s["items"].(map[string]any); ok {
			for i, it := range arr {
				errs = append(errs, c.check(fmt.Sprintf("%s[%d]", where, i), items, it)...)
			}
		}
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return append(errs, fmt.Sprintf("%s: %v is not an object", where, v))
		}
		props, _ := s["properties"].(map[string]any)
		for _, r := range asStrings(s["required"]) {
			if _, ok := obj[r]; !ok {
				errs = append(errs, where+": missing "+r)
			}
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if ps, ok := props[k].(map[string]any); ok {
				errs = append(errs, c.check(where+"."+k, ps, obj[k])...)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					errs = append(errs, where+": unexpected property "+k)
				}
			case map[string]any:
				errs = append(errs, c.check(where+"."+k, ap, obj[k])...)
			}
		}
	default:
		errs = append(errs, fmt.Sprintf("%s: schema type %v not supported by the checker", where, s["type"]))
	}
	return errs
}

func checkFormat(where string, s map[string]any, str string) []string {
	var errs []string
	switch s["format"] {
	case "date":
		if _, err := time.Parse("2006-01-02", str); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %q is not a date", where, str))
		}
	case "date-time":
		if _, err := time.Parse(time.RFC3339Nano, str); err != nil || !strings.HasSuffix(str, "Z") {
			errs = append(errs, fmt.Sprintf("%s: %q is not a UTC date-time", where, str))
		}
	case "uri":
		if u, err := url.Parse(str); err != nil || !u.IsAbs() {
			errs = append(errs, fmt.Sprintf("%s: %q is not an absolute URI", where, str))
		}
	case "uri-reference":
		// Absolute with a public URL or a trusted proxy, path-absolute
		// otherwise.
		if u, err := url.Parse(str); err != nil || !(u.IsAbs() || strings.HasPrefix(str, "/")) {
			errs = append(errs, fmt.Sprintf("%s: %q is not an absolute or path-absolute URI", where, str))
		}
	}
	if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(str) {
		errs = append(errs, fmt.Sprintf("%s: %q does not match %s", where, str, p))
	}
	return errs
}

func asStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		out = append(out, x.(string))
	}
	return out
}

// exampleIDs are fixture objects of site 1 for the {id} paths, chosen for
// their NULLs where the type has some.
var exampleIDs = map[string]string{
	"users-general": "11", "users-detail": "14", "user-index": "10", "learner-metrics": "10", "enrollment-metrics": "2",
	"course-enrollments": "100", "course-daily-metrics": "4", "site-daily-metrics": "2", "course-mau-metrics": "1",
	"site-mau-metrics": "1", "admin/sites": "1",
}

// TestOpenAPI validates every described endpoint's real answer (JSON) on
// the fixture against its schema, and checks that every resource is
// described.
func TestOpenAPI(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		code, body := e.get(t, e.tokAll, "/figures/api/openapi.json")
		if code != 200 {
			t.Fatalf("openapi.json: %d", code)
		}
		v, err := decodeJSON(body)
		if err != nil {
			t.Fatal(err)
		}
		doc := v.(map[string]any)
		if doc["openapi"] != "3.0.3" {
			t.Errorf("openapi = %v", doc["openapi"])
		}
		c := &schemaChecker{schemas: doc["components"].(map[string]any)["schemas"].(map[string]any)}
		paths := doc["paths"].(map[string]any)
		for _, p := range rootPrefixes {
			if paths[Prefix+p+"/"] == nil {
				t.Errorf("%s is served but not described", p)
			}
		}
		checked := 0
		for path, item := range paths {
			if path == "/metrics" || path == Prefix+"openapi.json" {
				continue
			}
			op := item.(map[string]any)["get"].(map[string]any)
			resp := op["responses"].(map[string]any)["200"].(map[string]any)
			sch := resp["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)
			real := strings.ReplaceAll(path, "{course_id}", courseA1)
			if strings.Contains(real, "{id}") {
				res := strings.TrimSuffix(strings.TrimPrefix(real, Prefix), "/{id}/")
				id, ok := exampleIDs[res]
				if !ok {
					t.Fatalf("%s: no example id", path)
				}
				real = strings.ReplaceAll(real, "{id}", id)
			}
			// The lists are read whole, for every row's variety of NULLs.
			for _, q := range []string{"", "?limit=1000&page_size=100"} {
				code, body := e.get(t, e.tokAll, real+q)
				if code != 200 {
					t.Errorf("%s: status %d: %s", real+q, code, body)
					continue
				}
				got, err := decodeJSON(body)
				if err != nil {
					t.Fatalf("%s: %v", real, err)
				}
				for _, msg := range c.check(real+q, sch, got) {
					t.Error(msg)
				}
				checked++
			}
		}
		if checked < 2*50 {
			t.Errorf("checked %d answers, expected every path", checked)
		}
	})
}

// TestSchemaChecker shows the checker rejects what the schemas forbid.
func TestSchemaChecker(t *testing.T) {
	e := sqliteEnv(t)
	_, body := e.get(t, e.tokAll, "/figures/api/openapi.json")
	v, _ := decodeJSON(body)
	doc := v.(map[string]any)
	c := &schemaChecker{schemas: doc["components"].(map[string]any)["schemas"].(map[string]any)}
	ref := map[string]any{"$ref": "#/components/schemas/CourseDailyMetrics"}
	good := `{"id":3,"average_progress":"0.35","created":"2023-11-16T02:00:12.345678Z","modified":"2023-11-16T02:00:00Z","date_for":"2023-11-16","course_id":"c","enrollment_count":3,"active_learners_today":2,"average_days_to_complete":null,"num_learners_completed":1,"site":1}`
	gv, _ := decodeJSON([]byte(good))
	if errs := c.check("good", ref, gv); len(errs) > 0 {
		t.Fatalf("good document rejected: %v", errs)
	}
	for _, tc := range []struct{ from, to, want string }{
		{`"id":3`, `"id":3.5`, "is not an integer"},
		{`"average_progress":"0.35"`, `"average_progress":0.35`, "is not a string"},
		{`"average_progress":"0.35"`, `"average_progress":"0.3"`, "does not match"},
		{`"date_for":"2023-11-16"`, `"date_for":"16/11/2023"`, "is not a date"},
		{`"created":"2023-11-16T02:00:12.345678Z"`, `"created":"2023-11-16 02:00:12"`, "is not a UTC date-time"},
		{`"site":1`, `"site":1,"extra":true`, "unexpected property extra"},
		{`,"site":1`, ``, "missing site"},
		{`"enrollment_count":3`, `"enrollment_count":null`, "null not allowed"},
	} {
		bad, _ := decodeJSON([]byte(strings.Replace(good, tc.from, tc.to, 1)))
		errs := c.check("bad", ref, bad)
		if len(errs) == 0 || !strings.Contains(strings.Join(errs, "; "), tc.want) {
			t.Errorf("%s → %s: errors %v, want %q", tc.from, tc.to, errs, tc.want)
		}
	}
	one := map[string]any{"oneOf": []any{map[string]any{"type": "string", "format": "date"}, map[string]any{"type": "boolean", "enum": []any{false}}}}
	for _, tc := range []struct {
		v  any
		ok bool
	}{{"2023-11-15", true}, {false, true}, {true, false}, {"soon", false}} {
		if errs := c.check("oneOf", one, tc.v); (len(errs) == 0) != tc.ok {
			t.Errorf("oneOf %v: errors %v", tc.v, errs)
		}
	}
}
