package course

import (
	"os"
	"reflect"
	"testing"
)

// realCourse imports one of the shared real course exports, skipping when
// the data folder is absent.
func realCourse(t *testing.T, name string) *Outline {
	t.Helper()
	dir := "../../../shared/data/" + name + "/course"
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("real course %s not available (%v): these tests need the shared data folder next to the repository", name, err)
	}
	o, err := ImportOLX(dir, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// The expected counts of the two real courses were established by reading
// their XML, not by running this importer:
//
//   - chapters and subsections: the <chapter> pointers of course/{run}.xml and
//     the <sequential> pointers of each chapter file (no block of either
//     course is visible_to_staff_only);
//   - graded subsections: the sequential files carrying graded="true"
//     (policy.json of both courses only holds course-level settings);
//   - scorable blocks: the problem, openassessment, drag-and-drop-v2,
//     edx_sga, staffgradedxblock, done and has_score="true" lti elements under
//     each sequential's verticals, with the 6-child library_content
//     (max_count="2") counting 2;
//   - points: each capa problem's inputs under response elements, by hand
//     for the notable ones (openedx-demo: the 8-dropdown problem
//     85f3f7f9… = 8, the 4-input customresponse 53083a81… = 4, one problem
//     with weight="1.0"; 2014: the Multiple Choice Questions and Numerical
//     Input pages = 3 each, the javascriptresponse problem d7daeff2… = 0
//     because the platform no longer registers that response type), ORA rubrics
//     as the sum of each criterion's best option (openedx-demo 5+4+1 = 10 and
//     3, 2014 10+3+6 = 19), edx_sga weight="1.0" = 1, the LTIs, DnD, done and
//     staff-graded blocks 1 each;
//   - all of it cross-checked with an independent Python ElementTree recount
//     of both exports applying the same rules (it agreed on every
//     subsection).
//
// reference/edx-platform.md §4 estimates "≈12 + 2 LTI" for Advanced
// Assessment Tools; the XML gives 10 capa points + 2 library problems + 2 LTI
// = 14.
func TestRealCourses(t *testing.T) {
	for _, tc := range []struct {
		name     string
		summary  Summary
		possible map[string]float64 // subsections with points, by display name
		warnings []string
	}{
		{
			name: "openedx-demo-course",
			summary: Summary{CourseID: "course-v1:OpenedX+DemoX+DemoCourse", Chapters: 6, Subsections: 17, GradedSubsections: 3,
				ScorableBlocks: 33, SubsectionsWithPoints: 6, PointsPossible: 55},
			possible: map[string]float64{
				"Other Learning Tools":           1,
				"Basic Assessment Tools":         20, // 12 problems
				"Intermediate  Assessment Tools": 15, // DnD 1, capa 1, ORA 10, SGA 1, staff-graded 1, done 1
				"Advanced  Assessment Tools":     14, // 7 capa = 10, 2 of 6 library problems, 2 LTI
				"Specialty Assessment Tools":     2,
				"Social Learning Tools":          3, // ORA
			},
		},
		{
			name: "edx-demo-course-2014",
			summary: Summary{CourseID: "course-v1:edX+DemoX+Demo_Course", Chapters: 5, Subsections: 10, GradedSubsections: 3,
				ScorableBlocks: 23, SubsectionsWithPoints: 5, PointsPossible: 44},
			possible: map[string]float64{
				"Lesson 1 - Getting Started": 3,
				"Homework - Question Styles": 11, // 8 problems, one of them 0
				"Homework - Labs and Demos":  5,
				"Homework - Essays":          19, // ORA, ungraded
				"edX Exams":                  6,
			},
			warnings: []string{"problem/d7daeff25e4f4026bdd269ae69e03e02.xml: problem d7daeff25e4f4026bdd269ae69e03e02: <javascriptresponse> is not a response type the platform registers (any more): it scores nothing"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := realCourse(t, tc.name)
			s := o.Summarize()
			possible := map[string]float64{}
			for _, sub := range s.SubsectionList {
				if sub.Possible > 0 {
					possible[sub.DisplayName] = sub.Possible
				}
			}
			s.SubsectionList = nil
			if !reflect.DeepEqual(s, tc.summary) {
				t.Errorf("summary:\n got %+v\nwant %+v", s, tc.summary)
			}
			if !reflect.DeepEqual(possible, tc.possible) {
				t.Errorf("possible by subsection:\n got %v\nwant %v", possible, tc.possible)
			}
			if !reflect.DeepEqual(o.Warnings, tc.warnings) {
				t.Errorf("warnings:\n got %q\nwant %q", o.Warnings, tc.warnings)
			}
		})
	}
}
