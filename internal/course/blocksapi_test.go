package course

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

const ak = "block-v1:OrgX+C1+R1+type@"

// blocksJSON is shaped like the LMS answer to
// GET /api/courses/v1/blocks/?all_blocks=true&depth=all&return_type=dict:
// a root key and a map of every block by usage key; fields the platform
// leaves null (format, due, weight of an unweighted problem) are omitted;
// id, block_id, type, display_name, lms_web_url and student_view_url always
// come back.
const blocksJSON = `{
  "root": "` + ak + `course+block@course",
  "blocks": {
    "` + ak + `course+block@course": {"id": "` + ak + `course+block@course", "block_id": "course", "lms_web_url": "http://lms/courses/course-v1:OrgX+C1+R1/jump_to/` + ak + `course+block@course", "student_view_url": "http://lms/xblock/` + ak + `course+block@course", "type": "course", "display_name": "API Course", "graded": false, "has_score": false, "start": "2024-01-01T00:00:00Z", "visible_to_staff_only": false,
      "children": ["` + ak + `chapter+block@ch1", "` + ak + `chapter+block@hidden", "` + ak + `chapter+block@ch2"]},
    "` + ak + `chapter+block@ch1": {"id": "` + ak + `chapter+block@ch1", "block_id": "ch1", "type": "chapter", "display_name": "Week 1", "graded": false, "has_score": false, "start": "2024-01-01T00:00:00Z", "visible_to_staff_only": false,
      "children": ["` + ak + `sequential+block@hw", "` + ak + `sequential+block@reading"]},
    "` + ak + `chapter+block@hidden": {"id": "` + ak + `chapter+block@hidden", "block_id": "hidden", "type": "chapter", "display_name": "Staff", "graded": false, "has_score": false, "visible_to_staff_only": true,
      "children": ["` + ak + `sequential+block@secret"]},
    "` + ak + `sequential+block@secret": {"id": "` + ak + `sequential+block@secret", "block_id": "secret", "type": "sequential", "display_name": "Secret", "graded": true, "format": "Exam", "has_score": false, "visible_to_staff_only": true, "children": []},
    "` + ak + `sequential+block@hw": {"id": "` + ak + `sequential+block@hw", "block_id": "hw", "type": "sequential", "display_name": "Homework", "graded": true, "format": "Homework", "due": "2024-02-10T23:59:00Z", "start": "2024-01-01T00:00:00Z", "has_score": false, "visible_to_staff_only": false,
      "children": ["` + ak + `vertical+block@v1", "` + ak + `vertical+block@vstaff"]},
    "` + ak + `vertical+block@v1": {"id": "` + ak + `vertical+block@v1", "block_id": "v1", "type": "vertical", "display_name": "Unit", "graded": true, "has_score": false, "visible_to_staff_only": false,
      "children": ["` + ak + `problem+block@answered", "` + ak + `problem+block@weighted", "` + ak + `problem+block@fresh", "` + ak + `drag-and-drop-v2+block@dnd", "` + ak + `html+block@text", "` + ak + `library_content+block@lib", "` + ak + `lti_consumer+block@tool"]},
    "` + ak + `problem+block@answered": {"id": "` + ak + `problem+block@answered", "block_id": "answered", "type": "problem", "display_name": "Answered", "graded": true, "has_score": true, "visible_to_staff_only": false},
    "` + ak + `problem+block@weighted": {"id": "` + ak + `problem+block@weighted", "block_id": "weighted", "type": "problem", "display_name": "Weighted", "graded": true, "has_score": true, "weight": 2.0, "visible_to_staff_only": false},
    "` + ak + `problem+block@fresh": {"id": "` + ak + `problem+block@fresh", "block_id": "fresh", "type": "problem", "display_name": "Nobody answered", "graded": true, "has_score": true, "visible_to_staff_only": false},
    "` + ak + `drag-and-drop-v2+block@dnd": {"id": "` + ak + `drag-and-drop-v2+block@dnd", "block_id": "dnd", "type": "drag-and-drop-v2", "display_name": "DnD", "graded": true, "has_score": true, "weight": 1.0, "visible_to_staff_only": false},
    "` + ak + `html+block@text": {"id": "` + ak + `html+block@text", "block_id": "text", "type": "html", "display_name": "Text", "graded": true, "has_score": false, "visible_to_staff_only": false},
    "` + ak + `library_content+block@lib": {"id": "` + ak + `library_content+block@lib", "block_id": "lib", "type": "library_content", "display_name": "Random", "graded": true, "has_score": false, "visible_to_staff_only": false,
      "children": ["` + ak + `problem+block@l1", "` + ak + `problem+block@l2"]},
    "` + ak + `problem+block@l1": {"id": "` + ak + `problem+block@l1", "block_id": "l1", "type": "problem", "display_name": "L1", "graded": true, "has_score": true, "visible_to_staff_only": false},
    "` + ak + `problem+block@l2": {"id": "` + ak + `problem+block@l2", "block_id": "l2", "type": "problem", "display_name": "L2", "graded": true, "has_score": true, "visible_to_staff_only": false},
    "` + ak + `lti_consumer+block@tool": {"id": "` + ak + `lti_consumer+block@tool", "block_id": "tool", "type": "lti_consumer", "display_name": "Tool", "graded": true, "has_score": true, "weight": 3.0, "visible_to_staff_only": false},
    "` + ak + `vertical+block@vstaff": {"id": "` + ak + `vertical+block@vstaff", "block_id": "vstaff", "type": "vertical", "display_name": "Answers", "graded": true, "has_score": false, "visible_to_staff_only": true,
      "children": ["` + ak + `problem+block@key"]},
    "` + ak + `problem+block@key": {"id": "` + ak + `problem+block@key", "block_id": "key", "type": "problem", "display_name": "Key", "graded": true, "has_score": true, "visible_to_staff_only": true},
    "` + ak + `sequential+block@reading": {"id": "` + ak + `sequential+block@reading", "block_id": "reading", "type": "sequential", "display_name": "Reading", "graded": false, "has_score": false, "visible_to_staff_only": false,
      "children": ["` + ak + `vertical+block@v2"]},
    "` + ak + `vertical+block@v2": {"id": "` + ak + `vertical+block@v2", "block_id": "v2", "type": "vertical", "display_name": "Unit 2", "graded": false, "has_score": false, "visible_to_staff_only": false, "children": ["` + ak + `problem+block@practice"]},
    "` + ak + `problem+block@practice": {"id": "` + ak + `problem+block@practice", "block_id": "practice", "type": "problem", "display_name": "Practice", "graded": false, "has_score": true, "weight": 0.0, "visible_to_staff_only": false},
    "` + ak + `chapter+block@ch2": {"id": "` + ak + `chapter+block@ch2", "block_id": "ch2", "type": "chapter", "display_name": "Week 2", "graded": false, "has_score": false, "visible_to_staff_only": false, "children": []}
  }
}`

// fakeLMS serves the OAuth2 token and Blocks API endpoints.
type fakeLMS struct {
	t  *testing.T
	mu sync.Mutex
	// tokens issued so far; each new token is "tok<n>".
	tokens    int
	expiresIn int
	// revoked tokens get a 401 from the Blocks API.
	revoked map[string]bool
	// blocksStatus, when set, is the Blocks API's answer status.
	blocksStatus int
	blocksBody   string
	tokenStatus  int
	calls        []string
}

func (f *fakeLMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/oauth2/access_token":
		id, secret, ok := r.BasicAuth()
		r.ParseForm()
		if r.Method != http.MethodPost || !ok || id != "cid" || secret != "csecret" ||
			r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("token_type") != "jwt" {
			f.t.Errorf("token request: %s basic=%v %q:%q form=%v", r.Method, ok, id, secret, r.PostForm)
		}
		if f.tokenStatus != 0 {
			w.WriteHeader(f.tokenStatus)
			fmt.Fprint(w, `{"error": "invalid_client"}`)
			return
		}
		f.tokens++
		f.calls = append(f.calls, fmt.Sprintf("token tok%d", f.tokens))
		fmt.Fprintf(w, `{"access_token": "tok%d", "expires_in": %d, "token_type": "JWT", "scope": "read write"}`, f.tokens, f.expiresIn)
	case "/api/courses/v1/blocks/":
		auth := r.Header.Get("Authorization")
		f.calls = append(f.calls, "blocks "+auth)
		q := r.URL.Query()
		want := map[string]string{"course_id": "course-v1:OrgX+C1+R1", "all_blocks": "true", "depth": "all", "return_type": "dict",
			"requested_fields": "children,graded,format,due,start,has_score,weight,visible_to_staff_only,display_name"}
		for k, v := range want {
			if q.Get(k) != v {
				f.t.Errorf("blocks query %s = %q, want %q", k, q.Get(k), v)
			}
		}
		tok, _ := strings.CutPrefix(auth, "JWT ")
		if f.revoked[tok] || !strings.HasPrefix(auth, "JWT tok") {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"detail": "Authentication credentials were not provided."}`)
			return
		}
		if f.blocksStatus != 0 {
			w.WriteHeader(f.blocksStatus)
			fmt.Fprint(w, f.blocksBody)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, blocksJSON)
	default:
		http.NotFound(w, r)
	}
}

type staticGrades map[string]float64

func (g staticGrades) MaxGrades(ctx context.Context, courseID string) (map[string]float64, error) {
	if courseID != "course-v1:OrgX+C1+R1" {
		return nil, fmt.Errorf("asked for %s", courseID)
	}
	return g, nil
}

type failingGrades struct{}

func (failingGrades) MaxGrades(context.Context, string) (map[string]float64, error) {
	return nil, errors.New("LMS unreachable")
}

func newFake(t *testing.T) (*fakeLMS, *BlocksClient, *time.Time) {
	f := &fakeLMS{t: t, expiresIn: 3600, revoked: map[string]bool{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := NewBlocksClient(srv.URL+"/", "cid", "csecret", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	return f, c, &now
}

func TestFetchOutline(t *testing.T) {
	f, c, _ := newFake(t)
	grades := staticGrades{ak + "problem+block@answered": 3, ak + "problem+block@l1": 1, ak + "problem+block@dnd": 9}
	o, err := c.FetchOutline(context.Background(), "course-v1:OrgX+C1+R1", FetchOptions{MaxGrades: grades})
	if err != nil {
		t.Fatal(err)
	}
	if o.CourseID != "course-v1:OrgX+C1+R1" || o.DisplayName != "API Course" || o.Source != "blocks-api:"+strings.TrimSuffix(c.base, "/") || len(o.Version) != 16 {
		t.Errorf("outline header: %q %q %q %q", o.CourseID, o.DisplayName, o.Source, o.Version)
	}
	// The staff-only chapter and problem are kept, marked; a learner's
	// structure leaves them out; ch2 is empty.
	if len(o.Chapters) != 3 || !o.Chapters[1].Access.StaffOnly || !o.Chapters[1].Subsections[0].Access.StaffOnly ||
		o.Structure != StructureVersion {
		t.Fatalf("chapters: %+v", o.Chapters)
	}
	full := o
	o = o.ForLearner(Learner{}, time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))
	if len(o.Chapters) != 2 || o.Chapters[0].UsageKey != ak+"chapter+block@ch1" || o.Chapters[1].UsageKey != ak+"chapter+block@ch2" || len(o.Chapters[1].Subsections) != 0 {
		t.Fatalf("learner's chapters: %+v", o.Chapters)
	}
	if n := len(full.ForLearner(Learner{Staff: true}, time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)).Subsections()); n != 3 {
		t.Errorf("staff see %d subsections, want 3", n)
	}
	hw := o.Chapters[0].Subsections[0]
	if hw.UsageKey != ak+"sequential+block@hw" || hw.DisplayName != "Homework" || !hw.Graded || hw.Format != "Homework" ||
		!reflect.DeepEqual(hw.Start, utc("2024-01-01T00:00:00Z")) || !reflect.DeepEqual(hw.Due, utc("2024-02-10T23:59:00Z")) {
		t.Errorf("hw subsection: %+v", hw)
	}
	lib := ak + "library_content+block@lib"
	wantBlocks := []Block{
		// Unweighted: the largest max_grade learners' rows recorded.
		{UsageKey: ak + "problem+block@answered", Type: "problem", RawPossible: 3, Graded: true},
		// Weighted but never answered: raw unknown, possible is the weight.
		{UsageKey: ak + "problem+block@weighted", Type: "problem", Weight: wt(2), RawUnknown: true, Graded: true},
		// Unweighted, never answered: unknown and warned about.
		{UsageKey: ak + "problem+block@fresh", Type: "problem", RawUnknown: true, Graded: true},
		// DnD's max_score() is always 1, whatever a row says.
		{UsageKey: ak + "drag-and-drop-v2+block@dnd", Type: "drag-and-drop-v2", Weight: wt(1), RawPossible: 1, Graded: true},
		{UsageKey: ak + "problem+block@l1", Type: "problem", RawPossible: 1, Graded: true, Library: lib},
		{UsageKey: ak + "problem+block@l2", Type: "problem", RawUnknown: true, Graded: true, Library: lib},
		// LTI: max_score() is the weight.
		{UsageKey: ak + "lti_consumer+block@tool", Type: "lti_consumer", Weight: wt(3), RawPossible: 3, Graded: true},
	}
	if !reflect.DeepEqual(hw.Blocks, wantBlocks) {
		t.Errorf("hw blocks:\n got %+v\nwant %+v", hw.Blocks, wantBlocks)
	}
	wantLibs := []Library{{UsageKey: lib, MaxCount: 1, Children: []string{ak + "problem+block@l1", ak + "problem+block@l2"}}}
	if !reflect.DeepEqual(hw.Libraries, wantLibs) {
		t.Errorf("libraries: %+v", hw.Libraries)
	}
	// 3 + 2 + 0 + 1 + l1 (default selection of 1) 1 + 3.
	if p := hw.Possible(); p != 10 {
		t.Errorf("hw possible = %v, want 10", p)
	}
	reading := o.Chapters[0].Subsections[1]
	if reading.Graded || reading.Format != "" || reading.Due != nil || len(reading.Blocks) != 1 || *reading.Blocks[0].Weight != 0 || reading.Blocks[0].Graded {
		t.Errorf("reading subsection: %+v", reading)
	}
	wantWarnings := []string{
		ak + "problem+block@fresh: unweighted problem with no max_grade recorded in courseware_studentmodule: raw maximum unknown, counted as 0 possible points until a learner answers it",
		ak + "problem+block@l2: unweighted problem with no max_grade recorded in courseware_studentmodule: raw maximum unknown, counted as 0 possible points until a learner answers it",
		lib + ": the Blocks API does not expose max_count; the field default 1 is assumed",
		// The staff-only answer key, now kept in the outline.
		ak + "problem+block@key: unweighted problem with no max_grade recorded in courseware_studentmodule: raw maximum unknown, counted as 0 possible points until a learner answers it",
	}
	if !reflect.DeepEqual(full.Warnings, wantWarnings) {
		t.Errorf("warnings:\n got %q\nwant %q", full.Warnings, wantWarnings)
	}
	if want := []string{"token tok1", "blocks JWT tok1"}; !reflect.DeepEqual(f.calls, want) {
		t.Errorf("calls %q, want %q", f.calls, want)
	}

	// A known max_count replaces the default; the same content gives the
	// same version.
	o2, err := c.FetchOutline(context.Background(), "course-v1:OrgX+C1+R1", FetchOptions{MaxGrades: grades, MaxCounts: map[string]int{lib: -5}})
	if err != nil {
		t.Fatal(err)
	}
	if l := o2.Chapters[0].Subsections[0].Libraries[0]; l.MaxCount != -1 {
		t.Errorf("MaxCount = %d, want -1 (all)", l.MaxCount)
	}
	o3, err := c.FetchOutline(context.Background(), "course-v1:OrgX+C1+R1", FetchOptions{MaxGrades: grades})
	if err != nil {
		t.Fatal(err)
	}
	if o3.Version != o.Version || o2.Version == o.Version {
		t.Errorf("versions %s %s %s: equal content must give equal versions, different content different ones", o.Version, o2.Version, o3.Version)
	}
}

func TestFetchOutlineToken(t *testing.T) {
	ctx := context.Background()
	const id = "course-v1:OrgX+C1+R1"

	t.Run("cached until it expires, then fetched again", func(t *testing.T) {
		f, c, now := newFake(t)
		f.expiresIn = 600
		for _, step := range []time.Duration{0, 500 * time.Second, 80 * time.Second} {
			*now = now.Add(step)
			if _, err := c.FetchOutline(ctx, id, FetchOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		// At 580 s the token is within the 30 s renewal margin of its 600 s life.
		want := []string{"token tok1", "blocks JWT tok1", "blocks JWT tok1", "token tok2", "blocks JWT tok2"}
		if !reflect.DeepEqual(f.calls, want) {
			t.Errorf("calls %q, want %q", f.calls, want)
		}
	})

	t.Run("a 401 fetches a new token and retries once", func(t *testing.T) {
		f, c, _ := newFake(t)
		if _, err := c.FetchOutline(ctx, id, FetchOptions{}); err != nil {
			t.Fatal(err)
		}
		f.revoked["tok1"] = true
		if _, err := c.FetchOutline(ctx, id, FetchOptions{}); err != nil {
			t.Fatal(err)
		}
		want := []string{"token tok1", "blocks JWT tok1", "blocks JWT tok1", "token tok2", "blocks JWT tok2"}
		if !reflect.DeepEqual(f.calls, want) {
			t.Errorf("calls %q, want %q", f.calls, want)
		}
	})

	for _, tc := range []struct {
		name  string
		setup func(f *fakeLMS)
		opts  FetchOptions
		want  []string
	}{
		{"401 again with a fresh token", func(f *fakeLMS) { f.revoked["tok1"], f.revoked["tok2"] = true, true }, FetchOptions{},
			[]string{"course course-v1:OrgX+C1+R1: Blocks API: GET ", "401 Unauthorized with a fresh token", "Authentication credentials"}},
		{"server error", func(f *fakeLMS) { f.blocksStatus, f.blocksBody = 500, "<h1>Server Error (500)</h1>" }, FetchOptions{},
			[]string{"500 Internal Server Error: <h1>Server Error (500)</h1>"}},
		{"forbidden", func(f *fakeLMS) { f.blocksStatus, f.blocksBody = 403, `{"detail": "no"}` }, FetchOptions{},
			[]string{"403 Forbidden", "must be global or course staff"}},
		{"unknown course", func(f *fakeLMS) { f.blocksStatus, f.blocksBody = 404, `{"detail": "Not found."}` }, FetchOptions{},
			[]string{"404 Not Found: no such course"}},
		{"not JSON", func(f *fakeLMS) { f.blocksStatus, f.blocksBody = 200, "<html>login</html>" }, FetchOptions{},
			[]string{"answer is not the blocks JSON"}},
		{"no root", func(f *fakeLMS) { f.blocksStatus, f.blocksBody = 200, `{"root": "x", "blocks": {}}` }, FetchOptions{},
			[]string{`root "x" is not among the 0 blocks returned`}},
		{"bad credentials", func(f *fakeLMS) { f.tokenStatus = 401 }, FetchOptions{},
			[]string{"OAuth2 token: POST ", "401 Unauthorized (check the client id and secret", "invalid_client"}},
		{"max grades fail", func(f *fakeLMS) {}, FetchOptions{MaxGrades: failingGrades{}},
			[]string{"course course-v1:OrgX+C1+R1: max grades: LMS unreachable"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, c, _ := newFake(t)
			tc.setup(f)
			_, err := c.FetchOutline(ctx, id, tc.opts)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestNewBlocksClient(t *testing.T) {
	for _, tc := range []struct{ url, id, secret, want string }{
		{"lms.example.com", "a", "b", "want http(s)://host"},
		{"ftp://lms", "a", "b", "want http(s)://host"},
		{"https://lms", "", "b", "client id and secret are required"},
	} {
		if _, err := NewBlocksClient(tc.url, tc.id, tc.secret, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewBlocksClient(%q, %q, %q) = %v, want %q", tc.url, tc.id, tc.secret, err, tc.want)
		}
	}
	if _, err := (&BlocksClient{}).FetchOutline(context.Background(), "nope", FetchOptions{}); err == nil || !strings.Contains(err.Error(), "malformed course id") {
		t.Errorf("bad course id: %v", err)
	}
}

func TestBuildFromBlocksCycle(t *testing.T) {
	resp := &apiResponse{Root: "r", Blocks: map[string]apiBlock{
		"r": {Type: "course", Children: []string{"c"}},
		"c": {Type: "chapter", Children: []string{"s", "missing"}},
		"s": {Type: "sequential", Children: []string{"v"}},
		"v": {Type: "vertical", Children: []string{"s", "p"}},
		"p": {Type: "problem", HasScore: func() *bool { b := true; return &b }()},
	}}
	o, err := buildFromBlocks("course-v1:A+B+C", resp, map[string]float64{"p": 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := o.Summarize(); s.ScorableBlocks != 1 || s.PointsPossible != 2 {
		t.Errorf("summary %+v", s)
	}
	want := []string{"v: child s is its own ancestor; skipped", "c: child missing is not among the blocks returned; skipped"}
	if !reflect.DeepEqual(o.Warnings, want) {
		t.Errorf("warnings %q, want %q", o.Warnings, want)
	}
}
