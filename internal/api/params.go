package api

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/course"
	"github.com/figures-analytics/figures/internal/database"
)

// Bounds on what a request may ask for. The original had none: a
// megabyte of ?search= reached the database ("LIKE pattern too complex" on
// SQLite, a 500) and its log line.
const (
	// maxParamChars bounds every single-valued parameter (search, username,
	// email, name, display_name, number_contains, ordering, dates, ...):
	// the widest text column it can match is 255 characters.
	maxParamChars = 255
	// maxSearchTerms bounds the terms of ?search=, each of which is a
	// substring match on several columns of every candidate row.
	maxSearchTerms = 10
	// maxListValues bounds the items of a list parameter (user_ids,
	// course_ids, course), repeated or comma-separated; SQLite allows
	// 32,766 placeholders in a statement.
	maxListValues = 10000
	// maxListBytes bounds a list parameter's whole text.
	maxListBytes = 256 << 10
)

// listParams are the parameters that hold lists.
var listParams = map[string]bool{"user_ids": true, "course_ids": true, "course": true}

// checkParams bounds every query parameter, so that no oversized value
// reaches a statement, a log line or an error message: a 400 in
// django-filter's shape names each parameter and its length.
func checkParams(q url.Values) error {
	errs := fieldErrors{}
	for name, vals := range q {
		shown := name
		if utf8.RuneCountInString(name) > maxParamChars {
			shown = clipRunes(name, 40) + "…"
			errs.add(shown, fmt.Sprintf("Parameter name of %d characters: at most %d.", utf8.RuneCountInString(name), maxParamChars))
			continue
		}
		if listParams[name] {
			size, items := 0, 0
			for _, v := range vals {
				size += len(v)
				items += strings.Count(v, ",") + 1
			}
			if size > maxListBytes || items > maxListValues {
				errs.add(name, fmt.Sprintf("Ensure this list has at most %d values (it has %d).", maxListValues, items))
			}
			continue
		}
		if len(vals) > maxListValues {
			errs.add(name, fmt.Sprintf("Given %d times: at most %d.", len(vals), maxListValues))
			continue
		}
		for _, v := range vals {
			if n := utf8.RuneCountInString(v); n > maxParamChars {
				errs.add(name, fmt.Sprintf("Ensure this value has at most %d characters (it has %d).", maxParamChars, n))
				break
			}
		}
	}
	if terms := searchTerms(q.Get("search")); len(terms) > maxSearchTerms {
		errs.add("search", fmt.Sprintf("Use at most %d search terms (there are %d).", maxSearchTerms, len(terms)))
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// clipRunes returns s's first n characters.
func clipRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// params reads a request's query parameters, collecting every invalid one
// so that a 400 lists them all at once.
type params struct {
	q    url.Values
	errs fieldErrors
}

func newParams(r *http.Request) *params {
	return &params{q: r.URL.Query(), errs: fieldErrors{}}
}

// err returns the collected errors, or nil.
func (p *params) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	return p.errs
}

// str returns a parameter's value ("" when absent).
func (p *params) str(name string) string { return p.q.Get(name) }

// boolean reads a django-filter boolean: True/true/2 and False/false/3,
// as Django's NullBooleanSelect accepts; "" and "1"/"unknown" (its "no
// choice") leave the filter off. Anything else is a 400, where the original
// silently ignored the filter.
func (p *params) boolean(name string) (v, ok bool) {
	s := p.q.Get(name)
	switch strings.ToLower(s) {
	case "true", "2":
		return true, true
	case "false", "3":
		return false, true
	case "", "1", "unknown":
		return false, false
	}
	p.errs.add(name, fmt.Sprintf("%q is not a valid boolean: use true or false.", s))
	return false, false
}

// date reads YYYY-MM-DD.
func (p *params) date(name string) (calendar.Date, bool) {
	s := p.q.Get(name)
	if s == "" {
		return calendar.Date{}, false
	}
	d, err := calendar.Parse(s)
	if err != nil {
		p.errs.add(name, "Enter a valid date (YYYY-MM-DD).")
		return calendar.Date{}, false
	}
	return d, true
}

// dateRange reads the django-filter date range named name on both
// django-filter generations: name_0/name_1 (1.x) and name_after/name_before
// (2.x), each end inclusive and optional.
func (p *params) dateRange(name string) (from, to calendar.Date) {
	for _, n := range []string{name + "_0", name + "_after"} {
		if d, ok := p.date(n); ok {
			from = d
		}
	}
	for _, n := range []string{name + "_1", name + "_before"} {
		if d, ok := p.date(n); ok {
			to = d
		}
	}
	return from, to
}

// integer reads a whole number.
func (p *params) integer(name string) (int64, bool) {
	s := p.q.Get(name)
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		p.errs.add(name, "Enter a whole number.")
		return 0, false
	}
	return v, true
}

// number reads a decimal number.
func (p *params) number(name string) (float64, bool) {
	s := p.q.Get(name)
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		// NaN and infinities parse, but are no stored value (MariaDB
		// answered a 500 for them).
		p.errs.add(name, "Enter a number.")
		return 0, false
	}
	return v, true
}

// normalizeCourseID undoes the query string's decoding of a literal '+'
// into a space, as every Figures view does before parsing a course id.
func normalizeCourseID(s string) string { return strings.ReplaceAll(s, " ", "+") }

// courseID reads one course id and validates it; a malformed id is a 400
// (the original answered 500).
func (p *params) courseID(name string) (string, bool) {
	s := p.q.Get(name)
	if s == "" {
		return "", false
	}
	id, err := parseCourseID(s)
	if err != nil {
		p.errs.add(name, err.Error())
		return "", false
	}
	return id, true
}

// parseCourseID normalizes and validates a course id.
func parseCourseID(s string) (string, error) {
	if n := utf8.RuneCountInString(s); n > maxParamChars {
		return "", fmt.Errorf("malformed course id of %d characters: at most %d", n, maxParamChars)
	}
	k, err := course.ParseKey(normalizeCourseID(s))
	if err != nil {
		return "", err
	}
	return k.String(), nil
}

// courseIDs reads every course id given as name, repeated (course=A&course=B)
// or comma-separated (course_ids=A,B), validated and without duplicates.
func (p *params) courseIDs(name string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range p.q[name] {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			id, err := parseCourseID(s)
			if err != nil {
				p.errs.add(name, err.Error())
				continue
			}
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}

// intList reads a comma-separated list of integers; items that are not
// digits are dropped, as the original's user_ids filter does.
func (p *params) intList(name string) []int64 {
	var out []int64
	for _, v := range p.q[name] {
		for _, s := range strings.Split(v, ",") {
			if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil && n >= 0 {
				out = append(out, n)
			}
		}
	}
	return out
}

// format reads ?format=: "json" (the default) or "csv".
func (p *params) format() string {
	switch f := p.q.Get("format"); f {
	case "", "json":
		return "json"
	case "csv":
		return "csv"
	default:
		p.errs.add("format", fmt.Sprintf("Unknown format %q: use json or csv.", f))
		return "json"
	}
}

// where builds a SQL WHERE clause whose arguments follow its placeholders.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// in adds "expr IN (?, ...)" for a non-empty list, and a condition that
// matches nothing for an empty one.
func (w *where) in(expr string, vals []any) {
	if len(vals) == 0 {
		w.add("1 = 0")
		return
	}
	w.add(expr+" IN ("+database.Placeholders(len(vals))+")", vals...)
}

// sql returns " WHERE c1 AND c2 ..." or "".
func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// likeEscape is the LIKE escape character: not the backslash, whose
// meaning in string literals differs between MySQL and the others.
const likeEscape = "!"

// likeContains returns the LIKE pattern for a case-insensitive substring
// match of term against LOWER(column).
func likeContains(term string) string {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return "%" + r.Replace(strings.ToLower(term)) + "%"
}

// icontains adds a case-insensitive substring filter on expr.
func (w *where) icontains(expr, term string) {
	w.add("LOWER("+expr+") LIKE ? ESCAPE '"+likeEscape+"'", likeContains(term))
}

// iexact adds a case-insensitive equality filter on expr.
func (w *where) iexact(expr, val string) {
	w.add("LOWER("+expr+") = ?", strings.ToLower(val))
}

// textFilter is a query-string filter on a text column, matched as the
// original's filter sets match text: case-insensitively, on a substring
// (icontains) or, with exact, on the whole value (iexact).
type textFilter struct {
	param, col string
	exact      bool
}

// textFilters applies the filters whose parameters are given, in order, so
// that a list declares its text filters as a table.
func (p *params) textFilters(w *where, fs ...textFilter) {
	for _, f := range fs {
		v := p.str(f.param)
		switch {
		case v == "":
		case f.exact:
			w.iexact(f.col, v)
		default:
			w.icontains(f.col, v)
		}
	}
}

// search adds DRF SearchFilter semantics: the terms of ?search= (split on
// whitespace and commas) must each match, case-insensitively as a
// substring, at least one of fields.
func (p *params) search(w *where, fields ...string) {
	for _, t := range searchTerms(p.q.Get("search")) {
		ors := make([]string, len(fields))
		args := make([]any, len(fields))
		for i, f := range fields {
			ors[i] = "LOWER(" + f + ") LIKE ? ESCAPE '" + likeEscape + "'"
			args[i] = likeContains(t)
		}
		w.add("("+strings.Join(ors, " OR ")+")", args...)
	}
}

// searchTerms splits ?search= as DRF's SearchFilter does: on whitespace
// and commas.
func searchTerms(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
}

// ordering describes an endpoint's ?ordering=: the accepted names and the
// SQL each sorts by, the default order, and the unique key appended last so
// that pages never overlap.
type ordering struct {
	// fields maps an ordering name to its SQL sort expressions.
	fields map[string][]string
	// def is the default ORDER BY list (without the tie-breaker).
	def string
	// tie is the unique tie-breaker, e.g. "l.user_id".
	tie string
}

// orderBy returns the ORDER BY list for ?ordering=. A name the endpoint does
// not sort by is a 400 (DRF dropped it silently, which hid typos).
func (p *params) orderBy(o ordering) string {
	v := p.q.Get("ordering")
	var parts []string
	for _, name := range strings.Split(v, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		dir := ""
		field := name
		if strings.HasPrefix(name, "-") {
			dir, field = " DESC", name[1:]
		}
		exprs, ok := o.fields[field]
		if !ok {
			names := make([]string, 0, len(o.fields))
			for k := range o.fields {
				names = append(names, k)
			}
			sort.Strings(names)
			if len(names) == 0 {
				p.errs.add("ordering", fmt.Sprintf("Unknown ordering field %q: this endpoint has a fixed order.", field))
			} else {
				p.errs.add("ordering", fmt.Sprintf("Unknown ordering field %q: use one of %s (prefix - for descending).", field, strings.Join(names, ", ")))
			}
			continue
		}
		for _, e := range exprs {
			parts = append(parts, e+dir)
		}
	}
	if len(parts) == 0 {
		if o.def != "" {
			parts = append(parts, o.def)
		}
	}
	parts = append(parts, o.tie)
	return strings.Join(parts, ", ")
}

// nullsFirst sorts a nullable column the way MySQL does (NULL before any
// value ascending, after descending) on every database, so that the order
// does not depend on the store.
func nullsFirst(col string) []string {
	return []string{"CASE WHEN " + col + " IS NULL THEN 0 ELSE 1 END", col}
}
