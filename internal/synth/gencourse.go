package synth

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/figures-analytics/figures/internal/course"
)

// genCourse is a generated course: the whole block tree an OLX export
// holds, staff-only and non-scorable blocks included. Its learner outline
// (what course.ImportOLX returns for its export) is derived by outline().
type genCourse struct {
	Key         course.Key
	DisplayName string
	Start       time.Time
	SelfPaced   bool
	Policy      gradingPolicy
	Chapters    []genChapter
}

type genChapter struct {
	ID, Name string
	Subs     []genSub
}

type genSub struct {
	ID, Name  string
	Graded    bool
	Format    string
	Due       *time.Time
	StaffOnly bool
	Verticals []genVertical
}

type genVertical struct {
	ID, Name string
	Items    []genItem
}

// Item types of a vertical.
const (
	itemProblem = "problem"
	itemHTML    = "html"
	itemVideo   = "video"
	itemLibrary = "library_content"
)

type genItem struct {
	Type, ID, Name string
	Problem        *genProblem
	Library        *genLibrary
}

// genProblem is a capa problem: one response per input.
type genProblem struct {
	// Weight is the weight attribute; nil when unset.
	Weight *float64
	Inputs []genInput
}

// genInput is one capa input; Points 0 means the attribute is unset (1
// point).
type genInput struct {
	Kind   string // multiplechoice, checkbox, string, numerical, option
	Points int
}

// rawMax is the problem's max_score(): one point per input unless its
// points attribute says otherwise.
func (p *genProblem) rawMax() float64 {
	var m float64
	for _, in := range p.Inputs {
		if in.Points > 0 {
			m += float64(in.Points)
		} else {
			m++
		}
	}
	return m
}

type genLibrary struct {
	MaxCount  int
	SourceLib string
	Children  []genItem
}

// gradingPolicy is a course's grading_policy.json.
type gradingPolicy struct {
	Graders []grader
	// Cutoff is GRADE_CUTOFFS["Pass"].
	Cutoff float64
}

type grader struct {
	Type       string  `json:"type"`
	ShortLabel string  `json:"short_label"`
	MinCount   int     `json:"min_count"`
	DropCount  int     `json:"drop_count"`
	Weight     float64 `json:"weight"`
}

var (
	topics = []string{"Foundations", "Core Concepts", "Working with Data", "Models and Methods",
		"Case Studies", "Applications", "Tools of the Trade", "Advanced Topics", "Putting It Together",
		"Ethics and Practice", "Measurement", "Design Patterns", "History and Context", "Review"}
	lessons = []string{"Overview", "Key Ideas", "Worked Examples", "Practice", "Deep Dive", "Reading",
		"Lab Walkthrough", "Discussion", "Summary", "Challenge", "Recap", "Exploration"}
	units = []string{"Introduction", "Video Lecture", "Reading", "Check Your Understanding",
		"Exercise", "Example", "Quiz", "Activity", "Reflection", "Wrap-up"}
	inputKinds = []string{"multiplechoice", "checkbox", "string", "numerical", "option"}
)

// generateCourse builds a course tree from its own random stream: 4–8
// chapters of 2–4 subsections of 2–4 verticals, each vertical holding html,
// video and 0–3 capa problems; a welcome subsection without scorable
// content; graded Homework and Lab subsections and a final Exam; sometimes
// a staff-only subsection and a library_content block.
func generateCourse(r *rng, key course.Key, name string, start time.Time, selfPaced bool) *genCourse {
	c := &genCourse{Key: key, DisplayName: name, Start: start, SelfPaced: selfPaced}
	nChapters := r.between(4, 8)
	staffOnly := -1
	if r.chance(0.3) {
		staffOnly = r.between(1, nChapters-2) // a chapter index; its second subsection
	}
	wantLibrary := r.chance(0.4)
	haveLab := r.chance(0.5)
	due := start
	for ci := 0; ci < nChapters; ci++ {
		ch := genChapter{ID: r.hex32()}
		switch {
		case ci == 0:
			ch.Name = "Getting Started"
			// A subsection without anything scorable: html and video only.
			ch.Subs = append(ch.Subs, genSub{ID: r.hex32(), Name: "Welcome", Verticals: []genVertical{
				{ID: r.hex32(), Name: "About this course", Items: []genItem{
					{Type: itemHTML, ID: r.hex32(), Name: "Course overview"},
					{Type: itemVideo, ID: r.hex32(), Name: "Welcome video"}}},
				{ID: r.hex32(), Name: "How to succeed", Items: []genItem{
					{Type: itemHTML, ID: r.hex32(), Name: "Grading and deadlines"}}},
			}})
			ch.Subs = append(ch.Subs, genSubsection(r, "Orientation Quiz", false, "", nil))
		case ci == nChapters-1:
			ch.Name = "Final Exam"
			due = due.AddDate(0, 0, 14)
			d := due
			ch.Subs = append(ch.Subs, genSubsection(r, "Final Exam", true, "Exam", &d))
		default:
			ch.Name = fmt.Sprintf("Module %d: %s", ci, topics[r.IntN(len(topics))])
			nSubs := r.between(2, 4)
			for si := 0; si < nSubs; si++ {
				graded, format := false, ""
				var dueAt *time.Time
				switch {
				case si == nSubs-1 || r.chance(0.2):
					graded, format = true, "Homework"
				case haveLab && r.chance(0.3):
					graded, format = true, "Lab"
				}
				if graded {
					due = due.AddDate(0, 0, 7)
					d := due
					dueAt = &d
				}
				title := lessons[r.IntN(len(lessons))]
				if graded {
					title = format + " " + strconv.Itoa(ci) + "." + strconv.Itoa(si+1)
				}
				s := genSubsection(r, title, graded, format, dueAt)
				if ci == staffOnly && si == 1 {
					s.StaffOnly = true
					s.Name = "Instructor Notes (staff only)"
				}
				ch.Subs = append(ch.Subs, s)
			}
		}
		c.Chapters = append(c.Chapters, ch)
	}
	if wantLibrary {
		// Put a randomized problem bank in a middle chapter's first
		// subsection, as its own vertical.
		ci := r.between(1, max(1, nChapters-2))
		s := &c.Chapters[ci].Subs[0]
		lib := &genLibrary{MaxCount: r.between(2, 3), SourceLib: "library-v1:" + key.Org + "+QuestionBank"}
		for k := r.between(4, 6); k > 0; k-- {
			lib.Children = append(lib.Children, genItem{Type: itemProblem, ID: r.hex32(),
				Name: "Bank question " + strconv.Itoa(len(lib.Children)+1), Problem: genProblemOf(r)})
		}
		s.Verticals = append(s.Verticals, genVertical{ID: r.hex32(), Name: "Question bank",
			Items: []genItem{{Type: itemLibrary, ID: r.hex32(), Name: "Randomized questions", Library: lib}}})
	}
	c.Policy = policyFor(r, c)
	return c
}

func genSubsection(r *rng, name string, graded bool, format string, due *time.Time) genSub {
	s := genSub{ID: r.hex32(), Name: name, Graded: graded, Format: format, Due: due}
	n := r.between(2, 4)
	for vi := 0; vi < n; vi++ {
		v := genVertical{ID: r.hex32(), Name: units[r.IntN(len(units))]}
		if r.chance(0.6) {
			v.Items = append(v.Items, genItem{Type: itemHTML, ID: r.hex32(), Name: "Reading"})
		}
		if r.chance(0.45) {
			v.Items = append(v.Items, genItem{Type: itemVideo, ID: r.hex32(), Name: "Lecture video"})
		}
		np := r.weighted([]float64{0.25, 0.4, 0.23, 0.12})
		if graded && np == 0 {
			np = 1
		}
		for k := 0; k < np; k++ {
			v.Items = append(v.Items, genItem{Type: itemProblem, ID: r.hex32(),
				Name: "Question " + strconv.Itoa(vi+1) + "." + strconv.Itoa(k+1), Problem: genProblemOf(r)})
		}
		if len(v.Items) == 0 {
			v.Items = append(v.Items, genItem{Type: itemHTML, ID: r.hex32(), Name: "Notes"})
		}
		s.Verticals = append(s.Verticals, v)
	}
	return s
}

func genProblemOf(r *rng) *genProblem {
	p := &genProblem{}
	for n := 1 + r.weighted([]float64{0.6, 0.3, 0.1}); n > 0; n-- {
		in := genInput{Kind: inputKinds[r.IntN(len(inputKinds))]}
		if (in.Kind == "string" || in.Kind == "numerical" || in.Kind == "option") && r.chance(0.2) {
			in.Points = r.between(2, 3)
		}
		p.Inputs = append(p.Inputs, in)
	}
	var w float64
	switch r.weighted([]float64{0.62, 0.18, 0.12, 0.04, 0.04}) {
	case 0:
		return p // no weight: possible is the raw maximum
	case 1:
		w = 1
	case 2:
		w = float64(r.between(2, 5))
	case 3:
		w = 0 // counts nothing: Studio allows it and courses use it
	case 4:
		w = 0.5
	}
	p.Weight = &w
	return p
}

// policyFor writes a grading policy over the formats the course uses.
func policyFor(r *rng, c *genCourse) gradingPolicy {
	counts := map[string]int{}
	for _, ch := range c.Chapters {
		for _, s := range ch.Subs {
			if s.Graded && !s.StaffOnly {
				counts[s.Format]++
			}
		}
	}
	type part struct {
		format, label string
		weight        float64
	}
	parts := []part{{"Homework", "HW", 0.5}, {"Lab", "Lab", 0.2}, {"Exam", "Final", 0.3}}
	var total float64
	for _, p := range parts {
		if counts[p.format] > 0 {
			total += p.weight
		}
	}
	var pol gradingPolicy
	for _, p := range parts {
		n := counts[p.format]
		if n == 0 {
			continue
		}
		g := grader{Type: p.format, ShortLabel: p.label, MinCount: n, Weight: math.Round(p.weight/total*100) / 100}
		if n > 2 {
			g.DropCount = 1
		}
		pol.Graders = append(pol.Graders, g)
	}
	pol.Cutoff = []float64{0.5, 0.6, 0.7}[r.IntN(3)]
	return pol
}

// usage returns the usage key of a block of the course.
func (c *genCourse) usage(typ, id string) string { return c.Key.UsageKey(typ, id) }

// outline returns the learner outline of the course: what the grades app
// sees and what course.ImportOLX returns for the course's export. Staff-only
// subsections are left out; html and video are not scorable.
func (c *genCourse) outline() *course.Outline {
	o := &course.Outline{CourseID: c.Key.String(), DisplayName: c.DisplayName, Chapters: []course.Chapter{}}
	for _, ch := range c.Chapters {
		oc := course.Chapter{UsageKey: c.usage("chapter", ch.ID), DisplayName: ch.Name, Subsections: []course.Subsection{}}
		for _, s := range ch.Subs {
			if s.StaffOnly {
				continue
			}
			// start is inherited from the course block.
			start := c.Start.UTC().Truncate(time.Second)
			os := course.Subsection{UsageKey: c.usage("sequential", s.ID), DisplayName: s.Name,
				Graded: s.Graded, Format: s.Format, Start: &start, Blocks: []course.Block{}}
			if s.Due != nil {
				d := *s.Due
				os.Due = &d
			}
			for _, v := range s.Verticals {
				for _, it := range v.Items {
					switch it.Type {
					case itemProblem:
						os.Blocks = append(os.Blocks, c.problemBlock(it, s.Graded, ""))
					case itemLibrary:
						lk := c.usage(itemLibrary, it.ID)
						lib := course.Library{UsageKey: lk, MaxCount: it.Library.MaxCount}
						for _, ch := range it.Library.Children {
							b := c.problemBlock(ch, s.Graded, lk)
							lib.Children = append(lib.Children, b.UsageKey)
							os.Blocks = append(os.Blocks, b)
						}
						os.Libraries = append(os.Libraries, lib)
					}
				}
			}
			oc.Subsections = append(oc.Subsections, os)
		}
		o.Chapters = append(o.Chapters, oc)
	}
	o.ComputeVersion()
	return o
}

func (c *genCourse) problemBlock(it genItem, graded bool, library string) course.Block {
	b := course.Block{UsageKey: c.usage(itemProblem, it.ID), Type: itemProblem,
		RawPossible: it.Problem.rawMax(), Graded: graded, Library: library}
	if it.Problem.Weight != nil {
		w := *it.Problem.Weight
		b.Weight = &w
	}
	return b
}
