package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/lms"
)

// runCourseCmd executes the CLI with args and returns its standard output and
// error output.
func runCourseCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	root := newRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), errOut.String(), err
}

const courseFixture = "../../internal/course/testdata/basic"

func TestCourseInspectJSON(t *testing.T) {
	out, errOut, err := runCourseCmd(t, "course", "inspect", courseFixture, "--json")
	if err != nil {
		t.Fatal(err)
	}
	// The exact shape other tools read: these keys and no others.
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	var keys []string
	for k := range doc {
		keys = append(keys, k)
	}
	want := []string{"chapters", "course_id", "graded_subsections", "points_possible", "scorable_blocks", "subsection_list", "subsections", "subsections_with_points"}
	if !sameCourseKeys(keys, want) {
		t.Errorf("keys %v, want %v", keys, want)
	}
	for k, v := range map[string]string{"course_id": `"course-v1:FigX+F101+2024"`, "chapters": "3", "subsections": "7",
		"graded_subsections": "5", "scorable_blocks": "19", "subsections_with_points": "6", "points_possible": "85"} {
		if string(doc[k]) != v {
			t.Errorf("%s = %s, want %s", k, doc[k], v)
		}
	}
	var list []map[string]any
	if err := json.Unmarshal(doc["subsection_list"], &list); err != nil || len(list) != 7 {
		t.Fatalf("subsection_list: %v (%d entries)", err, len(list))
	}
	first := map[string]any{"usage_key": "block-v1:FigX+F101+2024+type@sequential+block@hw1", "display_name": "Homework 1", "graded": true, "format": "Homework", "possible": 7.5}
	second := map[string]any{"usage_key": "block-v1:FigX+F101+2024+type@sequential+block@lesson1", "display_name": "Lesson 1", "graded": false, "format": nil, "possible": 2.5}
	if !reflect.DeepEqual(list[0], first) || !reflect.DeepEqual(list[1], second) {
		t.Errorf("subsection_list starts %v, %v", list[0], list[1])
	}
	if !strings.Contains(errOut, `warning: sequential/xblocks_seq.xml: mystery_block m1: unknown block type "mystery_block"`) {
		t.Errorf("warnings not on standard error: %q", errOut)
	}
}

func TestCourseImport(t *testing.T) {
	storeURL := "sqlite:///" + filepath.Join(t.TempDir(), "s.db")
	out, _, err := runCourseCmd(t, "course", "import", courseFixture, "--store", storeURL)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "course-v1:FigX+F101+2024 version ") ||
		!strings.Contains(out, ": 3 chapters, 7 subsections (5 graded), 19 scorable blocks, 85 points in 6 subsections; stored (olx:"+courseFixture+")") ||
		!strings.Contains(out, "\n  warning: problem/p_bad.xml: ") {
		t.Errorf("first import printed:\n%s", out)
	}
	out, _, err = runCourseCmd(t, "course", "import", courseFixture+"/course", "--store", storeURL)
	if err != nil || !strings.Contains(out, "; unchanged (olx:") {
		t.Errorf("second import: %v\n%s", err, out)
	}
	out, _, err = runCourseCmd(t, "course", "import", courseFixture, "--store", storeURL, "--course-id", "course-v1:New+N+1")
	if err != nil || !strings.HasPrefix(out, "course-v1:New+N+1 version ") || !strings.Contains(out, "; stored (") {
		t.Errorf("import under another key: %v\n%s", err, out)
	}
	_, errOut, err := runCourseCmd(t, "course", "import", courseFixture, "../../internal/course/testdata/cycle", "--store", storeURL)
	if err == nil || !strings.Contains(err.Error(), "1 of 2 exports not imported: ../../internal/course/testdata/cycle") || !strings.Contains(errOut, "a cycle") {
		t.Errorf("a failing path: %v\n%s", err, errOut)
	}
	// A folder of exports imports each of them.
	folder := t.TempDir()
	for name, target := range map[string]string{"a": courseFixture, "b": "../../internal/course/testdata/cycle"} {
		abs, err := filepath.Abs(target)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(abs, filepath.Join(folder, name)); err != nil {
			t.Fatal(err)
		}
	}
	out, errOut, err = runCourseCmd(t, "course", "import", folder, "--store", storeURL)
	if err == nil || !strings.Contains(err.Error(), "1 of 2 exports not imported: "+filepath.Join(folder, "b")) ||
		!strings.Contains(out, "course-v1:FigX+F101+2024 version ") || !strings.Contains(errOut, "a cycle") {
		t.Errorf("a folder of exports: %v\n%s\n%s", err, out, errOut)
	}
	for _, args := range [][]string{
		{"course", "import", courseFixture},
		{"course", "import", courseFixture, courseFixture, "--store", storeURL, "--course-id", "course-v1:A+B+C"},
		{"course", "fetch", "--store", storeURL},
	} {
		if _, _, err := runCourseCmd(t, args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

func sameCourseKeys(a, b []string) bool {
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return len(a) == len(b)
}

func TestCourseFetch(t *testing.T) {
	const ck = "block-v1:O+C+R+type@"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/oauth2/access_token":
			fmt.Fprint(w, `{"access_token": "t", "expires_in": 3600}`)
		case "/api/courses/v1/blocks/":
			if r.Header.Get("Authorization") != "JWT t" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			fmt.Fprint(w, `{"root": "`+ck+`course+block@course", "blocks": {
  "`+ck+`course+block@course": {"type": "course", "display_name": "C", "children": ["`+ck+`chapter+block@c"]},
  "`+ck+`chapter+block@c": {"type": "chapter", "display_name": "Ch", "children": ["`+ck+`sequential+block@s"]},
  "`+ck+`sequential+block@s": {"type": "sequential", "display_name": "S", "graded": true, "format": "Homework", "children": ["`+ck+`problem+block@p"]},
  "`+ck+`problem+block@p": {"type": "problem", "display_name": "P", "graded": true, "has_score": true}}}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	lmsURL := "sqlite:///" + filepath.Join(dir, "lms.db")
	db, err := database.Open(context.Background(), lmsURL, database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := lms.CreateSchema(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(context.Background(), `INSERT INTO courseware_studentmodule
		(module_type, module_id, student_id, state, grade, created, modified, max_grade, done, course_id)
		VALUES ('problem', ?, 1, '{}', 1, '2024-01-01 00:00:00', '2024-01-01 00:00:00', 4, 'na', 'course-v1:O+C+R')`, ck+"problem+block@p"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	storeURL := "sqlite:///" + filepath.Join(dir, "store.db")
	out, errOut, err := runCourseCmd(t, "course", "fetch", "--lms-url", srv.URL, "--client-id", "id", "--client-secret", "s",
		"--course", "course-v1:O+C+R", "--store", storeURL, "--lms", lmsURL)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	// The problem's raw maximum, 4, comes from the LMS's max_grade.
	if !strings.HasPrefix(out, "course-v1:O+C+R version ") || !strings.Contains(out, ": 1 chapters, 1 subsections (1 graded), 1 scorable blocks, 4 points in 1 subsections; stored (blocks-api:"+srv.URL+")") {
		t.Errorf("fetch printed:\n%s", out)
	}
}
