package course

import (
	"reflect"
	"strconv"
	"testing"
)

// TestImportOLXPlatformLoader covers the points where figures follows the
// platform's XML course loader (xmodule/modulestore/xml.py, xml_block.py)
// and its grading traversal (grades/scores.py), each on a fixture of its
// own in testdata/a*: the expected subsections, blocks and points were
// worked out by hand from the fixture files, and the derived ids' hashes
// with lxml's etree.tostring and SHA-1, as the platform computes them.
func TestImportOLXPlatformLoader(t *testing.T) {
	type sub struct {
		key      string // type@id
		possible float64
		blocks   []string // type@id possible
	}
	for _, tc := range []struct {
		dir, course string
		subs        []sub
		warnings    []string
		check       func(t *testing.T, o *Outline)
	}{
		{
			// A.1: course.xml names the run with slug; the policy is found
			// under the slug.
			dir: "a1-slug", course: "course-v1:LegacyX+L101+2013_Spring",
			subs: []sub{{"sequential@s", 1, []string{"problem@p 1"}}},
			check: func(t *testing.T, o *Outline) {
				if o.DisplayName != "Slug course" || o.Start == nil || o.Start.Format("2006-01-02") != "2013-02-01" {
					t.Errorf("policy not applied: %q %v", o.DisplayName, o.Start)
				}
			},
		},
		{
			// A.2 and A.5: the videosequence pointer loads its file (root
			// <sequential>) as a hidden block: a subsection with nothing;
			// the sequential pointer loads a file whose root is
			// <videosequence> as a sequential.
			dir: "a2-pointer-tag", course: "course-v1:O+C+r",
			subs: []sub{{"videosequence@vs", 0, nil}, {"sequential@s", 2, []string{"problem@p1 2"}}},
			warnings: []string{
				"videosequence/vs.xml: videosequence vs: a <videosequence> directly under a chapter is graded as a subsection",
				"videosequence/vs.xml: videosequence vs: <videosequence> is no block type of the current platform, which loads it as a hidden block without children: nothing in it counts",
				"sequential/s.xml: sequential s: root element is <videosequence>, but chapter/ch.xml points to it as <sequential>: loaded as a <sequential>, as the platform does",
			},
		},
		{
			// A.3: a malformed policy.json is ignored (the XML's name and
			// start stand); a malformed grading_policy.json is never read.
			dir: "a3-bad-policy", course: "course-v1:O+C+r",
			subs:     []sub{{"sequential@s", 1, []string{"problem@p 1"}}},
			warnings: []string{"policies/r/policy.json: policy: malformed JSON, ignored as the platform ignores it (the course's policy settings are not applied): invalid character '}' looking for beginning of object key string"},
			check: func(t *testing.T, o *Outline) {
				if o.DisplayName != "From the XML" || o.Start.Format("2006-01-02") != "2024-01-01" {
					t.Errorf("XML settings: %q %v", o.DisplayName, o.Start)
				}
			},
		},
		{
			// A.4: every child of the chapter is a subsection; the problem
			// scores its own points (weight 3), the library its selection
			// (max_count 1: lp1), the html nothing; a problem directly under
			// the course is a chapter without subsections.
			dir: "a4-chapter-children", course: "course-v1:O+C+r",
			subs: []sub{
				{"problem@p_direct", 3, []string{"problem@p_direct 3"}},
				{"vertical@v_direct", 2, []string{"problem@p_in_v 2"}},
				{"library_content@lib_direct", 1, []string{"problem@lp1 1", "problem@lp2 1"}},
				{"html@h_direct", 0, nil},
			},
			warnings: []string{
				"course/r.xml: problem p_direct: a <problem> directly under a chapter is graded as a subsection",
				"course/r.xml: vertical v_direct: a <vertical> directly under a chapter is graded as a subsection",
				"course/r.xml: library_content lib_direct: a <library_content> directly under a chapter is graded as a subsection",
				"course/r.xml: html h_direct: a <html> directly under a chapter is graded as a subsection",
				"course/r.xml: problem p_as_chapter: a <problem> directly under the course is graded as a chapter",
			},
			check: func(t *testing.T, o *Outline) {
				if len(o.Chapters) != 2 || o.Chapters[1].UsageKey != "block-v1:O+C+r+type@problem+block@p_as_chapter" || len(o.Chapters[1].Subsections) != 0 {
					t.Errorf("chapters %+v", o.Chapters)
				}
			},
		},
		{
			// A.5: problemset and section under the chapter, videosequence
			// inside a sequential: hidden blocks, their problems count
			// nowhere.
			dir: "a5-hidden-tags", course: "course-v1:O+C+r",
			subs: []sub{{"problemset@ps", 0, nil}, {"section@sec", 0, nil}, {"sequential@s", 1, []string{"problem@p_ok 1"}}},
			warnings: []string{
				"course/r.xml: problemset ps: a <problemset> directly under a chapter is graded as a subsection",
				"course/r.xml: problemset ps: <problemset> is no block type of the current platform, which loads it as a hidden block without children: nothing in it counts",
				"course/r.xml: section sec: a <section> directly under a chapter is graded as a subsection",
				"course/r.xml: section sec: <section> is no block type of the current platform, which loads it as a hidden block without children: nothing in it counts",
				"course/r.xml: videosequence vs: <videosequence> is no block type of the current platform, which loads it as a hidden block without children: nothing in it counts",
			},
		},
		{
			// A.6: filename attributes are followed (the sequential's and a
			// problem's; the element's own attributes win over the file's);
			// inline problems are named by display_name, a repeated name is
			// renamed by the hash of the element, a nameless one is the tag
			// and the hash.
			dir: "a6-filename", course: "course-v1:O+C+r",
			subs: []sub{{"sequential@s", 12, []string{"problem@Legacy_problem 5", "problem@Twice_named 1",
				"problem@problem_Twice_named_979bf9c5735e 2", "problem@problem_8f5f1ffc5838 4"}}},
			warnings: []string{
				`sequential/legacy_seq.xml: line 3 <problem>: inline block without url_name: id "Legacy_problem" derived from its display_name, as the platform does`,
				`sequential/legacy_seq.xml: line 4 <problem>: inline block without url_name: id "Twice_named" derived from its display_name, as the platform does`,
				`sequential/legacy_seq.xml: line 5 <problem>: inline block without url_name: id "Twice_named" derived from its display_name, as the platform does`,
				`sequential/legacy_seq.xml: line 5 <problem>: url_name "Twice_named" is used twice: the platform renames the second "problem_Twice_named_979bf9c5735e"`,
				`sequential/legacy_seq.xml: line 6 <problem>: inline block without url_name, name or display_name: id problem_8f5f1ffc5838 derived from its content, as the platform derives it`,
			},
			check: func(t *testing.T, o *Outline) {
				if s := o.Subsections()[0]; !s.Graded {
					t.Error("graded from the filename file not applied")
				}
			},
		},
		{
			// A.7: randomize and wrapper are walked; videoalpha is a video.
			dir: "a7-containers", course: "course-v1:O+C+r",
			subs: []sub{{"sequential@s", 5, []string{"problem@r1 1", "problem@r2 1", "problem@w1 3"}}},
		},
		{
			// A.8: weight 2 on a problem of raw possible 0 is worth 0; on a
			// problem of raw 4, 2; a problem the platform cannot build is
			// raw 0, so its weight 3 does not apply.
			dir: "a8-weight", course: "course-v1:O+C+r",
			subs: []sub{{"sequential@only_zero", 0, []string{"problem@p_noresp 0"}},
				{"sequential@mixed", 2, []string{"problem@p_weighted 2", "problem@p_broken 0"}}},
			warnings: []string{"course/r.xml: problem p_broken: line 8: <stringresponse> without its required answer attribute; the platform cannot build this problem and scores it 0"},
		},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			o, err := ImportOLX("testdata/"+tc.dir, ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if o.CourseID != tc.course {
				t.Errorf("course %s, want %s", o.CourseID, tc.course)
			}
			short := func(key string) string {
				return BlockType(key) + "@" + BlockID(key)
			}
			var got []sub
			for _, s := range o.Subsections() {
				g := sub{key: short(s.UsageKey), possible: s.Possible()}
				for _, b := range s.Blocks {
					g.blocks = append(g.blocks, short(b.UsageKey)+" "+formatFloat(b.Possible()))
				}
				got = append(got, g)
			}
			if !reflect.DeepEqual(got, tc.subs) {
				t.Errorf("subsections:\n got %+v\nwant %+v", got, tc.subs)
			}
			if !reflect.DeepEqual(o.Warnings, tc.warnings) {
				t.Errorf("warnings:\n got %q\nwant %q", o.Warnings, tc.warnings)
			}
			if tc.check != nil {
				tc.check(t, o)
			}
		})
	}
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
