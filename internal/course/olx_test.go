package course

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func wt(f float64) *float64 { return &f }

func utc(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

const fx = "block-v1:FigX+F101+2024+type@"

// TestImportOLXFixture checks every value the importer derives from the
// authored fixture course in testdata/basic. The expected values were worked
// out by hand from the fixture files; the comments say why each is what it is.
func TestImportOLXFixture(t *testing.T) {
	o, err := ImportOLX("testdata/basic", ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if o.CourseID != "course-v1:FigX+F101+2024" {
		t.Errorf("CourseID = %q", o.CourseID)
	}
	// policy.json's course entry overrides the root's display_name.
	if o.DisplayName != "Fixture Course (from policy)" {
		t.Errorf("DisplayName = %q", o.DisplayName)
	}
	if o.Source != "olx:testdata/basic" {
		t.Errorf("Source = %q", o.Source)
	}
	if len(o.Version) != 16 {
		t.Errorf("Version = %q, want 16 hex digits", o.Version)
	}

	// Chapters: ch1, ch2, ch_staff (visible_to_staff_only: kept, marked)
	// and the inline ch3.
	var chapters []string
	for _, c := range o.Chapters {
		chapters = append(chapters, fmt.Sprintf("%s %s staff=%v", c.UsageKey, c.DisplayName, c.Access.StaffOnly))
	}
	wantChapters := []string{fx + "chapter+block@ch1 Week 1 staff=false", fx + "chapter+block@ch2 Week 2 staff=false",
		fx + "chapter+block@ch_staff Staff notes staff=true", fx + "chapter+block@ch3 Inline Chapter staff=false"}
	if !reflect.DeepEqual(chapters, wantChapters) {
		t.Errorf("chapters:\n got %q\nwant %q", chapters, wantChapters)
	}
	if o.Structure != StructureVersion || !reflect.DeepEqual(o.Start, utc("2024-01-01T00:00:00Z")) || o.SelfPaced || o.DaysEarlyForBeta != nil {
		t.Errorf("course settings: structure %d start %v self-paced %v beta %v", o.Structure, o.Start, o.SelfPaced, o.DaysEarlyForBeta)
	}
	// Staff see the two staff-only subsections too.
	if n := len(o.ForLearner(Learner{Staff: true}, *utc("2025-01-01T00:00:00Z")).Subsections()); n != 9 {
		t.Errorf("staff see %d subsections, want 9", n)
	}
	learner := o.ForLearner(Learner{}, *utc("2025-01-01T00:00:00Z"))

	type subWant struct {
		key, name string
		graded    bool
		format    string
		start     *time.Time
		due       *time.Time
		possible  float64
	}
	subs := []subWant{
		// graded and format in the XML; start inherited from the chapter;
		// due in the XML (+00:00). p_mc 1.5 (weight from policy) + p_points
		// 6 + p_weight0 0 + p_bad 0 (cannot be built); p_staff is staff-only.
		{"hw1", "Homework 1", true, "Homework", utc("2024-02-01T00:00:00Z"), utc("2024-02-15T23:59:00Z"), 7.5},
		// Own start; p_noresp 0 + p_weight25 2.5 (nested vertical); the
		// staff-only vertical v_staff is left out.
		{"lesson1", "Lesson 1", false, "", utc("2024-02-03T00:00:00Z"), nil, 2.5},
		// Only html, video and discussion.
		{"empty_seq", "Reading only", false, "", utc("2024-02-01T00:00:00Z"), nil, 0},
		// XML says graded="false"; policy.json sets graded, format and due.
		// Start inherited from the course root.
		{"exam", "Final exam", true, "Exam", utc("2024-01-01T00:00:00Z"), utc("2024-03-01T12:00:00Z"), 2},
		// graded inherited from chapter ch2; format is not inheritable.
		// Without a recorded selection lib1 (max_count 2) shows its first
		// two children, lp1 (1) and the html lh1 (0); lib2 lq1 (1).
		{"lib_seq", "Randomized practice", true, "", utc("2024-01-01T00:00:00Z"), nil, 2},
		// dnd 4 + ora 7 + lti 3 + lti_consumer 1 + sga 50 + staff-graded 2 +
		// done 1 + two inline problems 1 each.
		{"xblocks_seq", "Other XBlocks", true, "", utc("2024-01-01T00:00:00Z"), nil, 70},
		{"seq_inline_ch", "In inline chapter", true, "Quiz", utc("2024-01-01T00:00:00Z"), nil, 1},
	}
	got := learner.Subsections()
	if len(got) != len(subs) {
		t.Fatalf("%d subsections, want %d", len(got), len(subs))
	}
	for i, w := range subs {
		s := got[i]
		if s.UsageKey != fx+"sequential+block@"+w.key || s.DisplayName != w.name || s.Graded != w.graded || s.Format != w.format {
			t.Errorf("subsection %d = %s %q graded=%v format=%q, want %s %q graded=%v format=%q",
				i, s.UsageKey, s.DisplayName, s.Graded, s.Format, w.key, w.name, w.graded, w.format)
		}
		if !reflect.DeepEqual(s.Start, w.start) || !reflect.DeepEqual(s.Due, w.due) {
			t.Errorf("%s: start %v due %v, want %v %v", w.key, s.Start, s.Due, w.start, w.due)
		}
		if p := s.Possible(); p != w.possible {
			t.Errorf("%s: possible %v, want %v", w.key, p, w.possible)
		}
	}

	lib1, lib2 := fx+"library_content+block@lib1", fx+"library_content+block@lib2"
	type blockWant struct {
		sub, key, typ string
		weight        *float64
		raw           float64
		graded        bool
		library       string
		staff         bool
	}
	blocks := []blockWant{
		{"hw1", "problem+block@p_mc", "problem", wt(1.5), 1, true, "", false},
		// Dropdowns 1 + 1 + 3 (points="3") and a text input 1; weight="null".
		{"hw1", "problem+block@p_points", "problem", nil, 6, true, "", false},
		{"hw1", "problem+block@p_weight0", "problem", wt(0), 1, true, "", false},
		// <stringresponse> without answer: the platform scores it 0.
		// visible_to_staff_only on the problem itself.
		{"hw1", "problem+block@p_staff", "problem", nil, 1, true, "", true},
		{"hw1", "problem+block@p_bad", "problem", nil, 0, true, "", false},
		{"lesson1", "problem+block@p_noresp", "problem", nil, 0, false, "", false},
		// Two text inputs worth 2 points each.
		{"lesson1", "problem+block@p_weight25", "problem", wt(2.5), 4, false, "", false},
		// In the staff-only vertical v_staff.
		{"lesson1", "problem+block@p_staffunit", "problem", wt(0), 1, false, "", true},
		{"staff_seq", "problem+block@p_staffseq", "problem", nil, 1, true, "", true},
		// Two checkbox responses.
		{"exam", "problem+block@p_exam", "problem", nil, 2, true, "", false},
		{"lib_seq", "problem+block@lp1", "problem", nil, 1, true, lib1, false},
		{"lib_seq", "problem+block@lp2", "problem", nil, 1, true, lib1, true},
		{"lib_seq", "problem+block@lp3", "problem", nil, 2, true, lib1, false},
		{"lib_seq", "problem+block@lp4", "problem", nil, 1, true, lib1, false},
		{"lib_seq", "problem+block@lq1", "problem", nil, 1, true, lib2, false},
		{"lib_seq", "problem+block@lq2", "problem", nil, 1, true, lib2, false},
		{"xblocks_seq", "drag-and-drop-v2+block@dnd1", "drag-and-drop-v2", wt(4), 1, true, "", false},
		// Criteria best options 5 + 2 + 0 (feedback only).
		{"xblocks_seq", "openassessment+block@ora1", "openassessment", nil, 7, true, "", false},
		{"xblocks_seq", "lti+block@lti_scored", "lti", wt(3), 3, true, "", false},
		{"xblocks_seq", "lti_consumer+block@ltic", "lti_consumer", nil, 1, true, "", false},
		{"xblocks_seq", "edx_sga+block@sga1", "edx_sga", nil, 50, true, "", false},
		{"xblocks_seq", "staffgradedxblock+block@sg1", "staffgradedxblock", wt(2), 2, true, "", false},
		{"xblocks_seq", "done+block@done1", "done", nil, 1, true, "", false},
		// display_name "Derived Name!" cleaned as opaque-keys does.
		{"xblocks_seq", "problem+block@Derived_Name_", "problem", nil, 1, true, "", false},
		// No name at all: the tag and the SHA-1 of the element as lxml
		// serializes it (computed with lxml's etree.tostring, as the
		// platform's importer hashes it).
		{"xblocks_seq", "problem+block@problem_42a7f021446b", "problem", nil, 1, true, "", false},
		// Under the staff-only chapter.
		{"staff_only_child", "problem+block@p_soc", "problem", nil, 3, false, "", true},
		{"seq_inline_ch", "problem+block@p_ic", "problem", nil, 1, true, "", false},
	}
	var all []blockWant
	for _, s := range o.Subsections() {
		for _, b := range s.Blocks {
			all = append(all, blockWant{strings.TrimPrefix(s.UsageKey, fx+"sequential+block@"), strings.TrimPrefix(b.UsageKey, fx), b.Type, b.Weight, b.RawPossible, b.Graded, b.Library, b.Access.StaffOnly})
			if b.RawUnknown {
				t.Errorf("%s: RawUnknown set by an OLX import", b.UsageKey)
			}
		}
	}
	if !reflect.DeepEqual(all, blocks) {
		t.Errorf("blocks differ")
		for i := 0; i < max(len(all), len(blocks)); i++ {
			var g, w blockWant
			if i < len(all) {
				g = all[i]
			}
			if i < len(blocks) {
				w = blocks[i]
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("block %d:\n got %+v\nwant %+v", i, g, w)
			}
		}
	}

	wantLibs := []Library{
		// lp2 is staff-only, so a learner never sees it even if selected;
		// the html child is not scorable, but a selection may pick it.
		{UsageKey: lib1, MaxCount: 2, Children: []string{fx + "problem+block@lp1", fx + "problem+block@lp3", fx + "problem+block@lp4"},
			Members: []string{fx + "problem+block@lp1", fx + "html+block@lh1", fx + "problem+block@lp2", fx + "problem+block@lp3", fx + "problem+block@lp4"}},
		// max_count absent: the field default 1.
		{UsageKey: lib2, MaxCount: 1, Children: []string{fx + "problem+block@lq1", fx + "problem+block@lq2"},
			Members: []string{fx + "problem+block@lq1", fx + "problem+block@lq2"}},
	}
	if !reflect.DeepEqual(got[4].Libraries, wantLibs) {
		t.Errorf("libraries:\n got %+v\nwant %+v", got[4].Libraries, wantLibs)
	}

	wantWarnings := []string{
		"problem/p_bad.xml: problem p_bad: line 2: <stringresponse> without its required answer attribute; the platform cannot build this problem and scores it 0",
		`sequential/xblocks_seq.xml: mystery_block m1: unknown block type "mystery_block": not scored (add a rule to internal/course/scoring.go if it publishes grades)`,
		`sequential/xblocks_seq.xml: line 21 <problem>: inline block without url_name: id "Derived_Name_" derived from its display_name, as the platform does`,
		"sequential/xblocks_seq.xml: line 24 <problem>: inline block without url_name, name or display_name: id problem_42a7f021446b derived from its content, as the platform derives it",
	}
	if !reflect.DeepEqual(o.Warnings, wantWarnings) {
		t.Errorf("warnings:\n got %q\nwant %q", o.Warnings, wantWarnings)
	}

	wantSummary := Summary{CourseID: "course-v1:FigX+F101+2024", Chapters: 3, Subsections: 7, GradedSubsections: 5,
		// 4 + 2 + 0 + 1 + 2 (lp1, lq1) + 9 + 1; staff-only content left out.
		ScorableBlocks: 19, SubsectionsWithPoints: 6, PointsPossible: 85}
	s := o.Summarize()
	s.SubsectionList = nil
	if !reflect.DeepEqual(s, wantSummary) {
		t.Errorf("summary:\n got %+v\nwant %+v", s, wantSummary)
	}

	// The export folder itself gives the same outline.
	o2, err := ImportOLX("testdata/basic/course", ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if o2.Version != o.Version || o2.Source != "olx:testdata/basic/course" {
		t.Errorf("course/ folder import: version %s source %s, want version %s", o2.Version, o2.Source, o.Version)
	}
}

func TestImportOLXCourseID(t *testing.T) {
	base, err := ImportOLX("testdata/basic", ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id, chapter, problem string
	}{
		{"course-v1:NewOrg+N1+R2", "block-v1:NewOrg+N1+R2+type@chapter+block@ch1", "block-v1:NewOrg+N1+R2+type@problem+block@p_mc"},
		{"NewOrg/N1/R2", "i4x://NewOrg/N1/chapter/ch1", "i4x://NewOrg/N1/problem/p_mc"},
	} {
		o, err := ImportOLX("testdata/basic", ImportOptions{CourseID: tc.id})
		if err != nil {
			t.Fatal(err)
		}
		if o.CourseID != tc.id || o.Chapters[0].UsageKey != tc.chapter || o.Chapters[0].Subsections[0].Blocks[0].UsageKey != tc.problem {
			t.Errorf("%s: course %s chapter %s problem %s", tc.id, o.CourseID, o.Chapters[0].UsageKey, o.Chapters[0].Subsections[0].Blocks[0].UsageKey)
		}
		if o.Version == base.Version {
			t.Errorf("%s: version unchanged by a new course key", tc.id)
		}
		if got := o.Summarize().PointsPossible; got != 85 {
			t.Errorf("%s: points %v, want 85", tc.id, got)
		}
	}
	if _, err := ImportOLX("testdata/basic", ImportOptions{CourseID: "not a key"}); err == nil || !strings.Contains(err.Error(), "malformed course id") {
		t.Errorf("bad CourseID: err = %v", err)
	}
}

// tarGz packs the files under dir into a .tar.gz, each name prefixed.
func tarGz(t *testing.T, dir, prefix string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: prefix + filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestImportOLXTarGz(t *testing.T) {
	want, err := ImportOLX("testdata/basic", ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// As Studio exports it: everything under course/.
	nested := tarGz(t, "testdata/basic/course", "course/")
	// course.xml at the archive root, with ./ prefixes as tar -C dir . writes.
	root := tarGz(t, "testdata/basic/course", "./")
	two := append([]byte{}, nested...)
	{
		// Two top-level folders each holding a course.xml.
		var buf bytes.Buffer
		gz := gzip.NewWriter(&buf)
		tw := tar.NewWriter(gz)
		for _, name := range []string{"a/course.xml", "b/course.xml"} {
			data := []byte(`<course url_name="r" org="O" course="C"/>`)
			tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg})
			tw.Write(data)
		}
		tw.Close()
		gz.Close()
		two = buf.Bytes()
	}
	for _, tc := range []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"nested.tar.gz", nested, ""},
		{"root.tar.gz", root, ""},
		{"two.tar.gz", two, "several folders (a, b)"},
		{"plain.tar.gz", []byte("not gzip at all"), "not a .tar.gz archive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := write(tc.name, tc.data)
			o, err := ImportOLX(p, ImportOptions{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), p) {
					t.Fatalf("err = %v, want one naming %s and saying %q", err, p, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.Version != want.Version || !reflect.DeepEqual(o.Summarize(), want.Summarize()) || o.Source != "olx:"+p {
				t.Errorf("archive import differs from the directory import: version %s vs %s, source %s", o.Version, want.Version, o.Source)
			}
		})
	}
}

func TestImportOLXErrors(t *testing.T) {
	empty := t.TempDir()
	for _, tc := range []struct {
		path string
		// want are substrings the error must contain: the export and the file.
		want []string
	}{
		{"testdata/malformed", []string{"course testdata/malformed: problem/bad.xml: malformed XML", "line 4"}},
		{"testdata/missing-pointer", []string{"vertical/v.xml: line 3", "pointer target problem/nowhere.xml missing"}},
		{"testdata/cycle", []string{"unit/u.xml: line 2: <unit url_name=\"u\"> points back to unit/u.xml", "a cycle"}},
		{empty, []string{"course " + empty, "no course.xml in"}},
		{"testdata/does-not-exist", []string{"course testdata/does-not-exist", "no such file"}},
	} {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			o, err := ImportOLX(tc.path, ImportOptions{})
			if err == nil {
				t.Fatalf("no error; outline %+v", o.Summarize())
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// importFiles runs the importer over an in-memory export.
func importFiles(files map[string]string, opts ImportOptions) (*Outline, error) {
	m := fstest.MapFS{}
	for name, data := range files {
		m[name] = &fstest.MapFile{Data: []byte(data)}
	}
	imp := &importer{src: "mem", fsys: m, onStack: map[string]bool{}}
	o, err := imp.run(opts)
	if err != nil {
		return nil, err
	}
	o.ComputeVersion()
	return o, nil
}

// course builds a minimal export whose one chapter holds the given XML.
func course(chapter string, more map[string]string) map[string]string {
	files := map[string]string{
		"course.xml":    `<course url_name="r" org="O" course="C"/>`,
		"course/r.xml":  `<course display_name="T"><chapter url_name="c"/></course>`,
		"chapter/c.xml": chapter,
	}
	for k, v := range more {
		files[k] = v
	}
	return files
}

// TestImportOLXRules covers inheritance, visibility, naming and layout rules
// on small in-memory exports.
func TestImportOLXRules(t *testing.T) {
	const mc = `<multiplechoiceresponse><choicegroup><choice correct="true">a</choice></choicegroup></multiplechoiceresponse>`
	type sub struct {
		key    string
		graded bool
		blocks []string
	}
	for _, tc := range []struct {
		name     string
		files    map[string]string
		subs     []sub
		warnings []string
	}{
		{
			name: "graded=null on a chapter stops the course's graded=true",
			files: map[string]string{
				"course.xml":    `<course url_name="r" org="O" course="C"/>`,
				"course/r.xml":  `<course graded="true"><chapter url_name="c"/><chapter url_name="d"/></course>`,
				"chapter/c.xml": `<chapter graded="null"><sequential url_name="s1"><problem url_name="p1">` + mc + `</problem></sequential></chapter>`,
				"chapter/d.xml": `<chapter><sequential url_name="s2"><problem url_name="p2">` + mc + `</problem></sequential></chapter>`,
			},
			subs: []sub{{"s1", false, []string{"p1"}}, {"s2", true, []string{"p2"}}},
		},
		{
			name: "a staff-only ancestor hides a descendant that says false (learner view)",
			files: course(`<chapter><sequential url_name="s"><vertical url_name="v" visible_to_staff_only="True">`+
				`<problem url_name="p" visible_to_staff_only="false">`+mc+`</problem></vertical>`+
				`<problem url_name="q">`+mc+`</problem></sequential></chapter>`, nil),
			subs: []sub{{"s", false, []string{"q"}}},
		},
		{
			name:  "a colon in a url_name is a folder in the file path",
			files: course(`<chapter><sequential url_name="s"><problem url_name="unit:p"/></sequential></chapter>`, map[string]string{"problem/unit/p.xml": `<problem>` + mc + `</problem>`}),
			subs:  []sub{{"s", false, []string{"unit:p"}}},
		},
		{
			name: "an old-style course.xml defines the course inline",
			files: map[string]string{
				"course.xml": `<course url_name="r" org="O" course="C" display_name="Inline"><chapter url_name="c"><sequential url_name="s" graded="1"><problem url_name="p">` + mc + `</problem></sequential></chapter></course>`,
			},
			subs: []sub{{"s", true, []string{"p"}}},
		},
		{
			// make_name_unique renames the second pointer of a tag that keeps
			// state; the renamed pointer's file does not exist.
			name:  "a second pointer to the same problem loads as an error block",
			files: course(`<chapter><sequential url_name="s"><vertical url_name="v1"><problem url_name="p"/></vertical><vertical url_name="v2"><problem url_name="p"/></vertical></sequential></chapter>`, map[string]string{"problem/p.xml": `<problem>` + mc + `</problem>`}),
			subs:  []sub{{"s", false, []string{"p"}}},
			warnings: []string{`chapter/c.xml: line 1 <problem>: url_name "p" is used twice: the platform renames the second "problem_p_62cb209e9531"`,
				`chapter/c.xml: line 1 <problem>: a second <problem url_name="p">, renamed "problem_p_62cb209e9531": the platform finds no problem/problem_p_62cb209e9531.xml and loads an error block in its place, which scores nothing`},
		},
		{
			// A tag that keeps no state keeps its name: both places hold one
			// block, counted once in a subsection.
			name:     "the same openassessment twice in a subsection counts once",
			files:    course(`<chapter><sequential url_name="s"><vertical url_name="v1"><openassessment url_name="o"/></vertical><vertical url_name="v2"><openassessment url_name="o"/></vertical></sequential></chapter>`, map[string]string{"openassessment/o.xml": `<openassessment><rubric><criterion><option points="2"/></criterion></rubric></openassessment>`}),
			subs:     []sub{{"s", false, []string{"o"}}},
			warnings: []string{"openassessment/o.xml: openassessment o: appears twice in subsection block-v1:O+C+r+type@sequential+block@s; counted once, as the platform's block structure holds it once"},
		},
		{
			// A vertical pointing to itself is renamed, not followed, so it
			// is no cycle on the platform.
			name:  "a vertical that contains itself",
			files: course(`<chapter><sequential url_name="s"><vertical url_name="v"/></sequential></chapter>`, map[string]string{"vertical/v.xml": `<vertical><vertical url_name="v"/><problem url_name="p">` + mc + `</problem></vertical>`}),
			subs:  []sub{{"s", false, []string{"p"}}},
			warnings: []string{`vertical/v.xml: line 1 <vertical>: url_name "v" is used twice: the platform renames the second "vertical_v_99998553e28d"`,
				`vertical/v.xml: line 1 <vertical>: a second <vertical url_name="v">, renamed "vertical_v_99998553e28d": the platform finds no vertical/vertical_v_99998553e28d.xml and loads an error block in its place, which scores nothing`},
		},
		{
			name:  "an empty url_name is named by its content and loads as an error block",
			files: course(`<chapter><sequential url_name=""/><sequential url_name="s2"><problem url_name="p">`+mc+`</problem></sequential></chapter>`, nil),
			subs:  []sub{{"s2", false, []string{"p"}}},
			warnings: []string{`chapter/c.xml: line 1 <sequential>: inline block without url_name, name or display_name: id sequential_59a7bb3f19f1 derived from its content, as the platform derives it`,
				`chapter/c.xml: line 1 <sequential>: an empty <sequential> without any name: the platform finds no sequential/sequential_59a7bb3f19f1.xml and loads an error block in its place, which scores nothing`},
		},
		{
			name:     "a vertical directly under a chapter is graded as a subsection",
			files:    course(`<chapter><vertical url_name="v"><problem url_name="p">`+mc+`</problem></vertical></chapter>`, nil),
			subs:     []sub{{"v", false, []string{"p"}}},
			warnings: []string{"chapter/c.xml: vertical v: a <vertical> directly under a chapter is graded as a subsection"},
		},
		{
			name:     "split_test children are all walked, with a warning",
			files:    course(`<chapter><sequential url_name="s"><split_test url_name="t" user_partition_id="1"><vertical url_name="a"><problem url_name="p">`+mc+`</problem></vertical><vertical url_name="b"><problem url_name="q">`+mc+`</problem></vertical></split_test></sequential></chapter>`, nil),
			subs:     []sub{{"s", false, []string{"p", "q"}}},
			warnings: []string{"chapter/c.xml: split_test t: user_partition_id 1 is not a partition of the course: every learner sees every group's content"},
		},
		{
			name:  "an lti block without has_score and a drafts folder add nothing",
			files: course(`<chapter><sequential url_name="s"><lti url_name="l" weight="5"/></sequential></chapter>`, map[string]string{"drafts/problem/x.xml": `<problem>` + mc + `</problem>`}),
			subs:  []sub{{"s", false, nil}},
		},
		{
			name:     "an unparseable start is warned about and left unset",
			files:    course(`<chapter start="soon"><sequential url_name="s"/></chapter>`, map[string]string{"sequential/s.xml": `<sequential/>`}),
			subs:     []sub{{"s", false, nil}},
			warnings: []string{`sequential/s.xml: sequential s: start "soon" is not a date; left unset`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := importFiles(tc.files, ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var got []sub
			for _, s := range o.ForLearner(Learner{}, *utc("2030-06-01T00:00:00Z")).Subsections() {
				g := sub{key: BlockID(s.UsageKey), graded: s.Graded}
				for _, b := range s.Blocks {
					g.blocks = append(g.blocks, BlockID(b.UsageKey))
				}
				got = append(got, g)
			}
			if !reflect.DeepEqual(got, tc.subs) {
				t.Errorf("subsections:\n got %+v\nwant %+v", got, tc.subs)
			}
			if !reflect.DeepEqual(o.Warnings, tc.warnings) {
				t.Errorf("warnings:\n got %q\nwant %q", o.Warnings, tc.warnings)
			}
		})
	}
}

func TestImportOLXDepthLimit(t *testing.T) {
	// Inline verticals nested past the limit: an error, not a stack overflow.
	inner := `<problem url_name="p"><stringresponse answer="a"><textline/></stringresponse></problem>`
	for i := 0; i < maxTreeDepth+5; i++ {
		inner = `<vertical>` + inner + `</vertical>`
	}
	_, err := importFiles(course(`<chapter><sequential url_name="s">`+inner+`</sequential></chapter>`, nil), ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "chapter/c.xml") || !strings.Contains(err.Error(), "nested more than") {
		t.Fatalf("err = %v", err)
	}
}

func TestParseXML(t *testing.T) {
	deep := strings.Repeat("<a>", maxElementDepth+1) + strings.Repeat("</a>", maxElementDepth+1)
	for _, tc := range []struct {
		name, doc, err string
	}{
		{"two roots", `<a/><b/>`, "a second root element <b>"},
		{"text after root", `<a/> trailing`, "text outside the root element"},
		{"unclosed", `<a><b></a>`, "element <b> closed by </a>"},
		{"truncated", `<a><b>`, "unexpected EOF"},
		{"empty", ``, "no root element"},
		{"too deep", deep, "nested more than 256 deep"},
		{"undefined entity", `<a>&bogus;</a>`, "invalid character entity &bogus;"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseXML([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
		})
	}
	el, err := parseXML([]byte(`<?xml version="1.0"?><!-- c --><p a="1" xml:lang="en">x&nbsp;y<q/>z</p>`))
	if err != nil {
		t.Fatal(err)
	}
	if el.Tag != "p" || !reflect.DeepEqual(el.Attrs, map[string]string{"a": "1"}) || el.Text != "x\u00a0yz" || len(el.Children) != 1 || el.isPointer() {
		t.Errorf("parsed %+v", el)
	}
	ptr, _ := parseXML([]byte(`<problem url_name="x"> </problem>`))
	if !ptr.isPointer() {
		t.Error("an element with only url_name and blank text is a pointer")
	}
}

func TestCapaMaxScore(t *testing.T) {
	for _, tc := range []struct {
		name    string
		xml     string
		raw     float64
		problem string
	}{
		{"one choice", `<problem><multiplechoiceresponse><choicegroup><choice correct="true">a</choice></choicegroup></multiplechoiceresponse></problem>`, 1, ""},
		{"points on inputs", `<problem><optionresponse><optioninput points="4"/><optioninput points=" 2 "/><optioninput/></optionresponse></problem>`, 7, ""},
		{"custom response with four inputs", `<problem><customresponse><textline/><textline/><jsinput/><textline/></customresponse></problem>`, 4, ""},
		{"a response without inputs is worth 0", `<problem><customresponse cfn="f"/></problem>`, 0, ""},
		{"responses anywhere, inputs anywhere below them", `<problem><div><imageresponse><p><imageinput src="a" width="1" height="1"/></p><imageinput src="b" width="1" height="1"/></imageresponse></div></problem>`, 2, ""},
		{"inputs outside responses count nothing", `<problem><textline/><stringresponse answer="a"><textline/></stringresponse></problem>`, 1, ""},
		{"nested responses count the inner inputs twice", `<problem><customresponse><stringresponse answer="a"><textline/></stringresponse></customresponse></problem>`, 2, ""},
		{"no responses", `<problem><p>text</p></problem>`, 0, ""},
		{"radiotextgroup choice-text", `<problem><choicetextresponse><radiotextgroup><choice correct="true">a<numtolerance_input answer="1"/></choice></radiotextgroup></choicetextresponse></problem>`, 1, ""},
		{"an input the response does not allow", `<problem><stringresponse answer="a"><choicegroup/></stringresponse></problem>`, 0, "<stringresponse> cannot hold input <choicegroup>"},
		{"too many inputs", `<problem><numericalresponse answer="1"><textline/><textline/></numericalresponse></problem>`, 0, "<numericalresponse> has 2 inputs, at most 1 allowed"},
		{"missing required attribute", `<problem><formularesponse answer="x"><textline/></formularesponse></problem>`, 0, "without its required samples attribute"},
		{"single-input response without input", `<problem><multiplechoiceresponse/></problem>`, 0, "<multiplechoiceresponse> has no input"},
		{"two correct dropdown options", `<problem><optionresponse><optioninput><option correct="True">a</option><option correct="true">b</option></optioninput></optionresponse></problem>`, 0, "a dropdown with 2 correct options"},
		{"dropdown option without correct", `<problem><optionresponse><optioninput><option>a</option></optioninput></optionresponse></problem>`, 0, "<option> without a correct attribute"},
		{"fractional points", `<problem><optionresponse><optioninput points="1.5"/></optionresponse></problem>`, 0, `points="1.5" is not an integer`},
		{"removed response type", `<problem><javascriptresponse><javascriptinput/></javascriptresponse><stringresponse answer="a"><textline/></stringresponse></problem>`, 1, "<javascriptresponse> is not a response type the platform registers"},
		{"include", `<problem><include file="more.xml"/><stringresponse answer="a"><textline/></stringresponse></problem>`, 1, "<include> files are not read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			el, err := parseXML([]byte(tc.xml))
			if err != nil {
				t.Fatal(err)
			}
			rs := capaMaxScore(el)
			if !rs.scorable || rs.raw != tc.raw {
				t.Errorf("raw = %v (scorable %v), want %v", rs.raw, rs.scorable, tc.raw)
			}
			if (tc.problem == "") != (rs.problem == "") || !strings.Contains(rs.problem, tc.problem) {
				t.Errorf("problem = %q, want one containing %q", rs.problem, tc.problem)
			}
		})
	}
}

func TestScoreRules(t *testing.T) {
	for _, tc := range []struct {
		xml      string
		scorable bool
		raw      float64
		problem  string
	}{
		{`<drag-and-drop-v2 weight="7"/>`, true, 1, ""},
		{`<done/>`, true, 1, ""},
		{`<staffgradedxblock/>`, true, 1, ""},
		{`<staffgradedxblock weight="2.5"/>`, true, 2.5, ""},
		{`<staffgradedxblock weight="lots"/>`, true, 1, `weight="lots" is not a number`},
		{`<edx_sga/>`, true, 100, ""},
		{`<edx_sga points="20"/>`, true, 20, ""},
		{`<edx_sga points="2.5"/>`, true, 100, `points="2.5" is not an integer`},
		{`<lti has_score="true"/>`, true, 1, ""},
		{`<lti has_score="false" weight="3"/>`, false, 0, ""},
		{`<lti_consumer has_score="true" weight="0"/>`, true, 0, ""},
		{`<lti_consumer weight="null" has_score="true"/>`, true, 1, ""},
		{`<openassessment><rubric><criterion><option points="3"/><option points="9"/></criterion><criterion><option points="1"/></criterion></rubric></openassessment>`, true, 10, ""},
		{`<openassessment/>`, true, 0, "no <rubric>"},
		{`<openassessment><rubric><criterion><option points="x"/></criterion></rubric></openassessment>`, true, 0, `points="x", not an integer`},
	} {
		t.Run(tc.xml, func(t *testing.T) {
			el, err := parseXML([]byte(tc.xml))
			if err != nil {
				t.Fatal(err)
			}
			rs := scoreRules[el.Tag](el)
			if rs.scorable != tc.scorable || rs.raw != tc.raw {
				t.Errorf("got scorable=%v raw=%v, want %v %v", rs.scorable, rs.raw, tc.scorable, tc.raw)
			}
			if (tc.problem == "") != (rs.problem == "") || !strings.Contains(rs.problem, tc.problem) {
				t.Errorf("problem = %q, want %q", rs.problem, tc.problem)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	for in, want := range map[string]string{
		"2013-02-05T05:00:00+00:00":         "2013-02-05T05:00:00Z",
		"2020-01-01T00:00:00Z":              "2020-01-01T00:00:00Z",
		"2024-03-01T12:30:00.5+02:00":       "2024-03-01T10:30:00.5Z",
		"2024-03-01T12:30:00":               "2024-03-01T12:30:00Z",
		"2024-03-01":                        "2024-03-01T00:00:00Z",
		" 2024-03-01 08:00:00.000001+00:00": "2024-03-01T08:00:00.000001Z",
	} {
		got, err := parseDate(in)
		if err != nil || got.Format(time.RFC3339Nano) != want {
			t.Errorf("parseDate(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	if _, err := parseDate("Feb 5"); err == nil {
		t.Error("parseDate accepted Feb 5")
	}
}

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{
		"Derived Name!":   "Derived_Name_",
		"a__b  c":         "a_b_c",
		"keep.this-%":     "keep.this-%",
		"Ünïcode wörds?!": "Ünïcode_wörds_",
	} {
		if got := cleanName(in); got != want {
			t.Errorf("cleanName(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzImportProblem feeds arbitrary bytes as a problem file of a small
// export: the importer must return an outline or an error naming the file,
// never panic.
func FuzzImportProblem(f *testing.F) {
	for _, seed := range []string{
		`<problem><stringresponse answer="a"><textline points="3"/></stringresponse></problem>`,
		`<problem><optionresponse><optioninput><option correct="true">a</option></optioninput></optionresponse></problem>`,
		`<problem><vertical url_name="v"/></problem>`,
		`<problem weight="null" visible_to_staff_only="1"/>`,
		`<problem`,
		`<problem>&nbsp;</problem><x/>`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		files := course(`<chapter><sequential url_name="s"><vertical url_name="v"/></sequential></chapter>`, map[string]string{
			"vertical/v.xml": `<vertical><problem url_name="p"/></vertical>`,
			"problem/p.xml":  string(data),
		})
		o, err := importFiles(files, ImportOptions{})
		if err != nil {
			if !strings.Contains(err.Error(), "problem/p.xml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		o.Summarize()
	})
}

// FuzzParseXML checks the parser never panics and that what it accepts
// survives the walk every rule does.
func FuzzParseXML(f *testing.F) {
	for _, seed := range []string{`<a b="c"><d/>text</a>`, `<a>`, `<?xml version="1.0"?><x:y xmlns:x="u" x:a="1"/>`, `<a>&amp;&nbsp;</a>`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := parseXML(data)
		if err != nil {
			return
		}
		el.canonicalHash()
		for _, rule := range scoreRules {
			rule(el)
		}
	})
}

func TestImportOLXStructureErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"a url_name climbing out of the export",
			course(`<chapter><sequential url_name="s"><problem url_name="..:..:secret"/></sequential></chapter>`, nil),
			`chapter/c.xml: line 1: <problem url_name="..:..:secret"> is not a usable url_name`},
		{"the course root file missing",
			map[string]string{"course.xml": `<course url_name="r" org="O" course="C"/>`},
			"course/r.xml: file missing"},
		{"course.xml without course",
			map[string]string{"course.xml": `<course url_name="r" org="O"/>`},
			`course.xml: <course> needs url_name (or slug), org and course attributes (got url_name="r" org="O" course="")`},
		{"course.xml that is not a course",
			map[string]string{"course.xml": `<chapter url_name="r"/>`},
			"course.xml: root element is <chapter>, want <course>"},
		{"a malformed chapter file",
			course(`<chapter><sequential url_name="s"></chapter>`, nil),
			"chapter/c.xml: malformed XML: XML syntax error on line 1: element <sequential> closed by </chapter>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := importFiles(tc.files, ImportOptions{})
			if err == nil || !strings.Contains(err.Error(), "course mem: ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestExports(t *testing.T) {
	root := t.TempDir()
	mk := func(name string) string {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mk("folder/b/course.xml")
	mk("folder/a/course/course.xml")
	mk("folder/c.tar.gz")
	mk("folder/manifest.json")
	mk("folder/notes/readme.txt")
	mk("single/course.xml")
	mk("empty/readme.txt")
	f := filepath.Join(root, "folder")
	for _, tc := range []struct {
		path    string
		want    []string
		wantErr string
	}{
		{f, []string{filepath.Join(f, "a"), filepath.Join(f, "b"), filepath.Join(f, "c.tar.gz")}, ""},
		{filepath.Join(root, "single"), []string{filepath.Join(root, "single")}, ""},
		{filepath.Join(f, "c.tar.gz"), []string{filepath.Join(f, "c.tar.gz")}, ""},
		{filepath.Join(root, "empty"), nil, "no course export in it"},
		{filepath.Join(root, "nowhere"), nil, "no such file"},
	} {
		got, err := Exports(tc.path)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), tc.path) {
				t.Errorf("Exports(%s) = %v, %v; want an error naming it with %q", tc.path, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Exports(%s) = %v, %v; want %v", tc.path, got, err, tc.want)
		}
	}
}
