package synth

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/course"
)

// The outline the activity is generated from must be exactly what
// `figures course import` reads back from the course's OLX export.
func TestGeneratedOLXRoundTrip(t *testing.T) {
	dir := t.TempDir()
	features := map[string]int{}
	for i := 0; i < 40; i++ {
		r := streamOf(7, streamCourse, uint64(i))
		key := course.Key{Org: "TestOrg", Course: "C" + string(rune('A'+i%26)) + "101", Run: "2025_T" + string(rune('1'+i/26))}
		start := time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)
		g := generateCourse(r, key, "Course & <Things> \"quoted\"", start, i%2 == 0, testFeatures(i))
		want := g.outline()
		path := filepath.Join(dir, g.olxDirName())
		if err := g.writeOLX(path); err != nil {
			t.Fatal(err)
		}
		got, err := course.ImportOLX(path, course.ImportOptions{})
		if err != nil {
			t.Fatalf("import %s: %v", path, err)
		}
		if len(got.Warnings) > 0 {
			t.Errorf("%s: the generated export has warnings: %v", key, got.Warnings)
		}
		got.Source, got.Warnings = "", nil
		a, _ := json.MarshalIndent(want, "", " ")
		b, _ := json.MarshalIndent(got, "", " ")
		if string(a) != string(b) {
			t.Fatalf("%s: imported outline differs from the generated one\ngenerated: %s\nimported:  %s", key, a, b)
		}
		for _, ch := range g.Chapters {
			for _, s := range ch.Subs {
				if s.StaffOnly {
					features["staff-only subsection"]++
					continue
				}
				switch {
				case s.Group != nil:
					features["content-group subsection"]++
				case s.Start != nil && s.Start.After(start.AddDate(1, 0, 0)):
					features["subsection released later"]++
				case s.Start != nil:
					features["subsection released during the course"]++
				}
				for _, v := range s.Verticals {
					if v.Group != nil && v.Group.Partition == course.EnrollmentTrackPartition {
						features["verified-only unit"]++
					}
					for _, it := range v.Items {
						if it.Type == itemSplit {
							features["content experiment"]++
						}
					}
				}
				scorable := 0
				for _, v := range s.Verticals {
					for _, it := range v.Items {
						probs := []genItem{it}
						if it.Type == itemLibrary {
							features["library_content"]++
							probs = it.Library.Children
						}
						for _, p := range probs {
							if p.Problem == nil {
								continue
							}
							scorable++
							if len(p.Problem.Inputs) > 1 {
								features["several inputs"]++
							}
							for _, in := range p.Problem.Inputs {
								if in.Points > 1 {
									features["points"]++
								}
							}
							if w := p.Problem.Weight; w != nil && *w == 0 {
								features["weight 0"]++
							} else if w != nil {
								features["weight"]++
							}
						}
					}
				}
				if scorable == 0 {
					features["subsection without scorable content"]++
				}
				if s.Graded {
					features["graded "+s.Format]++
				}
			}
		}
	}
	// The sample must exercise every feature the round trip is meant to
	// cover.
	for _, f := range []string{"staff-only subsection", "library_content", "several inputs", "points", "weight 0",
		"weight", "subsection without scorable content", "graded Homework", "graded Lab", "graded Exam",
		"content-group subsection", "subsection released later", "subsection released during the course",
		"verified-only unit", "content experiment"} {
		if features[f] == 0 {
			t.Errorf("no generated course has a %s", f)
		}
	}
}

// testFeatures are the features of generated test course i, released
// relative to a fixed date.
func testFeatures(i int) courseFeatures {
	return featuresFor(i, time.Date(2025, 3, 1, 14, 0, 0, 0, time.UTC), time.Date(2035, 1, 1, 9, 0, 0, 0, time.UTC))
}

// A staff-only subsection is in the export and in the outline, marked, and
// left out of a learner's structure; the learner's counts are the
// generated tree's.
func TestGeneratedOutlineMarksStaffOnly(t *testing.T) {
	for i := 0; i < 40; i++ {
		g := generateCourse(streamOf(7, streamCourse, uint64(i)), course.Key{Org: "O", Course: "C", Run: "R"}, "C",
			time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), false, testFeatures(i))
		var subs, staff, problems int
		for _, ch := range g.Chapters {
			for _, s := range ch.Subs {
				if s.StaffOnly {
					staff++
					continue
				}
				subs++
				for _, v := range s.Verticals {
					for _, it := range v.Items {
						switch it.Type {
						case itemProblem:
							problems++
						case itemLibrary:
							problems += len(it.Library.Children)
						case itemSplit:
							for _, b := range it.Split.Branches {
								problems += len(b.Items)
							}
						}
					}
				}
			}
		}
		o := g.outline()
		if got := len(o.Subsections()); got != subs+staff {
			t.Errorf("course %d: outline has %d subsections, want %d", i, got, subs+staff)
		}
		// A staff member sees every subsection but the staff-only ones'
		// are marked for learners.
		marked := 0
		var blocks int
		for _, s := range o.Subsections() {
			if s.Access.StaffOnly {
				marked++
				continue
			}
			blocks += len(s.Blocks)
		}
		if marked != staff {
			t.Errorf("course %d: %d subsections marked staff-only, want %d", i, marked, staff)
		}
		if blocks != problems {
			t.Errorf("course %d: outline has %d scorable blocks outside staff-only subsections, want %d", i, blocks, problems)
		}
		if n := len(o.ForLearner(course.Learner{Staff: true}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)).Subsections()); n != subs+staff {
			t.Errorf("course %d: staff see %d subsections, want %d", i, n, subs+staff)
		}
	}
}
