package synth

import (
	"fmt"
	"math"
	"sort"
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
	Features    courseFeatures
}

// courseFeatures are what decides, in a generated course, which learners
// see which content (course-visibility.md): the course's partitions and
// release dates.
type courseFeatures struct {
	// Cohorts: a cohorted course with content groups A and B, each
	// opening a subsection of its own.
	Cohorts bool
	// Track: a unit for verified learners only.
	Track bool
	// Experiment: a content experiment (split_test) of two groups.
	Experiment bool
	// Release, when set, is when Module 1's first subsection opens
	// (during the history); BetaDays is then the course's
	// days_early_for_beta.
	Release  *time.Time
	BetaDays int
	// Later is when the course's last subsection opens: long after the
	// history, so it is unreleased whenever figures runs.
	Later time.Time
}

// The partitions of generated courses.
const (
	contentGroups = 10 // cohort scheme: groups 1 (A) and 2 (B)
	experiment    = 20 // random scheme: groups 0 (Control) and 1 (Variant)
)

// restriction is a group_access entry: one partition, one group.
type restriction struct{ Partition, Group int }

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
	// Start is the subsection's own release date; nil when unset.
	Start *time.Time
	// Group restricts the subsection to one group; nil for everyone.
	Group     *restriction
	Verticals []genVertical
}

type genVertical struct {
	ID, Name string
	// Group restricts the unit to one group; nil for everyone.
	Group *restriction
	Items []genItem
}

// Item types of a vertical.
const (
	itemProblem = "problem"
	itemHTML    = "html"
	itemVideo   = "video"
	itemLibrary = "library_content"
	itemSplit   = "split_test"
)

type genItem struct {
	Type, ID, Name string
	Problem        *genProblem
	Library        *genLibrary
	Split          *genSplit
}

// genSplit is a content experiment: branch i is shown to the experiment's
// group i.
type genSplit struct {
	Branches []genVertical
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
func generateCourse(r *rng, key course.Key, name string, start time.Time, selfPaced bool, f courseFeatures) *genCourse {
	c := &genCourse{Key: key, DisplayName: name, Start: start, SelfPaced: selfPaced, Features: f}
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
	c.addFeatures(r)
	return c
}

// addFeatures adds the course's visibility features to its tree (after
// the grading policy is drawn, which they leave unchanged): a last
// subsection released long after the history, and as the features say a
// subsection released during it, content-group subsections, a
// verified-only unit and a content experiment, all in the modules.
func (c *genCourse) addFeatures(r *rng) {
	f := c.Features
	last := &c.Chapters[len(c.Chapters)-1]
	later := f.Later.UTC()
	bonus := genSubsection(r, "Bonus Module (opens later)", false, "", nil)
	bonus.Start = &later
	last.Subs = append(last.Subs, bonus)
	m1 := &c.Chapters[1]
	m2 := &c.Chapters[len(c.Chapters)-2]
	if f.Release != nil {
		t := f.Release.UTC()
		m1.Subs[0].Start = &t
	}
	if f.Cohorts {
		a := genSubsection(r, "Group A Studio", false, "", nil)
		a.Group = &restriction{contentGroups, 1}
		m1.Subs = append(m1.Subs, a)
		b := genSubsection(r, "Group B Studio", false, "", nil)
		b.Group = &restriction{contentGroups, 2}
		m2.Subs = append(m2.Subs, b)
	}
	if f.Track {
		s := &m1.Subs[len(m1.Subs)-1]
		v := genVertical{ID: r.hex32(), Name: "Verified learners' practice", Group: &restriction{course.EnrollmentTrackPartition, 2}}
		for k := r.between(1, 2); k > 0; k-- {
			v.Items = append(v.Items, genItem{Type: itemProblem, ID: r.hex32(), Name: "Practice " + strconv.Itoa(len(v.Items)+1), Problem: genProblemOf(r)})
		}
		s.Verticals = append(s.Verticals, v)
	}
	if f.Experiment {
		s := &m2.Subs[0]
		sp := &genSplit{}
		for g := 0; g < 2; g++ {
			b := genVertical{ID: r.hex32(), Name: []string{"Control", "Variant"}[g]}
			b.Items = append(b.Items, genItem{Type: itemProblem, ID: r.hex32(), Name: "Experiment question", Problem: genProblemOf(r)})
			sp.Branches = append(sp.Branches, b)
		}
		s.Verticals = append(s.Verticals, genVertical{ID: r.hex32(), Name: "Try this", Items: []genItem{
			{Type: itemSplit, ID: r.hex32(), Name: "Experiment", Split: sp}}})
	}
}

// partitions are the course's user partitions.
func (c *genCourse) partitions() []course.Partition {
	var out []course.Partition
	if c.Features.Cohorts {
		out = append(out, course.Partition{ID: contentGroups, Name: "Content groups", Scheme: "cohort", Active: true, Groups: []int{1, 2}})
	}
	if c.Features.Experiment {
		out = append(out, course.Partition{ID: experiment, Name: "Experiment", Scheme: "random", Active: true, Groups: []int{0, 1}})
	}
	return out
}

// restrict adds a group restriction to merged access, intersecting it
// with one of the same partition (as course.ImportOLX merges them).
func restrict(a course.Access, r *restriction) course.Access {
	if r == nil {
		return a
	}
	out := a
	out.Groups = nil
	found := false
	for _, x := range a.Groups {
		if x.Partition == r.Partition {
			found = true
			gs := []int{}
			for _, g := range x.Groups {
				if g == r.Group {
					gs = append(gs, g)
				}
			}
			x = course.Restriction{Partition: x.Partition, Groups: gs}
		}
		out.Groups = append(out.Groups, x)
	}
	if !found {
		out.Groups = append(out.Groups, course.Restriction{Partition: r.Partition, Groups: []int{r.Group}})
		sort.Slice(out.Groups, func(i, j int) bool { return out.Groups[i].Partition < out.Groups[j].Partition })
	}
	return out
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

// outline returns the outline of the course: what course.ImportOLX returns
// for the course's export, worked out from the generated tree (staff-only
// subsections marked, release dates and group restrictions merged down);
// html and video are not scorable.
func (c *genCourse) outline() *course.Outline {
	start := c.Start.UTC().Truncate(time.Second)
	o := &course.Outline{CourseID: c.Key.String(), DisplayName: c.DisplayName, Chapters: []course.Chapter{},
		Structure: course.StructureVersion, Start: &start, SelfPaced: c.SelfPaced, Cohorted: c.Features.Cohorts, Partitions: c.partitions()}
	if c.Features.BetaDays > 0 {
		d := float64(c.Features.BetaDays)
		o.DaysEarlyForBeta = &d
	}
	for _, ch := range c.Chapters {
		oc := course.Chapter{UsageKey: c.usage("chapter", ch.ID), DisplayName: ch.Name, Subsections: []course.Subsection{}}
		for _, s := range ch.Subs {
			acc := course.Access{StaffOnly: s.StaffOnly}
			// start is the subsection's own, or inherited from the course.
			shown := start
			if s.Start != nil {
				shown = s.Start.UTC().Truncate(time.Second)
				if shown.After(start) {
					t := shown
					acc.Start = &t
				}
			}
			acc = restrict(acc, s.Group)
			os := course.Subsection{UsageKey: c.usage("sequential", s.ID), DisplayName: s.Name,
				Graded: s.Graded, Format: s.Format, Start: &shown, Access: acc, Blocks: []course.Block{}}
			if s.Due != nil {
				d := *s.Due
				os.Due = &d
			}
			for _, v := range s.Verticals {
				c.outlineItems(&os, v.Items, restrict(acc, v.Group), s.Graded)
			}
			oc.Subsections = append(oc.Subsections, os)
		}
		o.Chapters = append(o.Chapters, oc)
	}
	o.ComputeVersion()
	return o
}

// outlineItems adds a unit's scorable items to a subsection.
func (c *genCourse) outlineItems(os *course.Subsection, items []genItem, acc course.Access, graded bool) {
	for _, it := range items {
		switch it.Type {
		case itemProblem:
			os.Blocks = append(os.Blocks, c.problemBlock(it, graded, "", acc))
		case itemLibrary:
			lk := c.usage(itemLibrary, it.ID)
			lib := course.Library{UsageKey: lk, MaxCount: it.Library.MaxCount, Children: []string{}, Access: acc}
			for _, ch := range it.Library.Children {
				b := c.problemBlock(ch, graded, lk, acc)
				lib.Children = append(lib.Children, b.UsageKey)
				lib.Members = append(lib.Members, b.UsageKey)
				os.Blocks = append(os.Blocks, b)
			}
			os.Libraries = append(os.Libraries, lib)
		case itemSplit:
			for g, br := range it.Split.Branches {
				c.outlineItems(os, br.Items, restrict(restrict(acc, br.Group), &restriction{experiment, g}), graded)
			}
		}
	}
}

func (c *genCourse) problemBlock(it genItem, graded bool, library string, acc course.Access) course.Block {
	b := course.Block{UsageKey: c.usage(itemProblem, it.ID), Type: itemProblem,
		RawPossible: it.Problem.rawMax(), Graded: graded, Library: library, Access: acc}
	if it.Problem.Weight != nil {
		w := *it.Problem.Weight
		b.Weight = &w
	}
	return b
}
