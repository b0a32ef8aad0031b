// Package course holds a course's structure as the grades app sees it: the
// outline of chapters → subsections (sequentials) → scorable blocks, each
// block with its usage key, type, weight, raw possible points and graded
// flag. Outlines come from an OLX export (a directory or a .tar.gz) or from
// the LMS Course Blocks API, and are cached in the store by course and
// content version.
//
// Staff-only content (visible_to_staff_only, inherited) is not part of any
// learner's outline and is left out at import.
//
// A block's possible points are its weight when set, else its raw maximum,
// which ImportOLX computes as the block's own max_score() does:
//
//   - problem (capa): the sum over the registered response elements of the
//     sum over the registered input elements inside each of int(points or 1);
//     0, with a warning, when the platform cannot build the problem;
//   - openassessment: the sum over rubric criteria of the largest option
//     points;
//   - drag-and-drop-v2 and done: 1;
//   - staffgradedxblock: its weight (default 1.0);
//   - edx_sga: its points (default 100);
//   - lti and lti_consumer: their weight (default 1.0), only with
//     has_score true.
//
// Other known blocks (html, video, discussion, poll, survey, …) are not
// scorable; an unknown type is reported in Outline.Warnings. From the Course
// Blocks API (BlocksClient) raw maxima come from the type where it fixes
// them, else from the largest max_grade learners' rows recorded (MaxGrades).
// docs/OUTLINES.md gives every rule with its source.
package course

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Outline is one course's structure, in course order.
type Outline struct {
	CourseID    string `json:"course_id"`
	DisplayName string `json:"display_name"`
	// Version identifies the content: a hash of the outline's substance, so
	// a re-import of unchanged content keeps it and any change alters it.
	Version  string    `json:"version"`
	Source   string    `json:"source"`
	Chapters []Chapter `json:"chapters"`
	// Warnings are non-fatal problems met while building the outline, each
	// naming the file or block it concerns.
	Warnings []string `json:"warnings,omitempty"`
}

// Chapter is a course section.
type Chapter struct {
	UsageKey    string       `json:"usage_key"`
	DisplayName string       `json:"display_name"`
	Subsections []Subsection `json:"subsections"`
}

// Subsection is a sequential: the unit the grades app scores.
type Subsection struct {
	UsageKey    string `json:"usage_key"`
	DisplayName string `json:"display_name"`
	Graded      bool   `json:"graded"`
	// Format is the assignment type ("Homework"); empty when unset.
	Format string     `json:"format,omitempty"`
	Start  *time.Time `json:"start,omitempty"`
	Due    *time.Time `json:"due,omitempty"`
	// Blocks are the scorable blocks under the subsection, in course order,
	// library_content children included (marked with Library).
	Blocks []Block `json:"blocks"`
	// Libraries are the library_content blocks under the subsection.
	Libraries []Library `json:"libraries,omitempty"`
}

// Block is a scorable block (has_score): a capa problem or another XBlock
// that publishes a grade.
type Block struct {
	UsageKey string `json:"usage_key"`
	Type     string `json:"type"`
	// Weight is the block's weight when set (0 included); nil when unset.
	Weight *float64 `json:"weight,omitempty"`
	// RawPossible is the block's raw maximum score (max_score()).
	RawPossible float64 `json:"raw_possible"`
	// RawUnknown is set when the source could not tell the raw maximum (a
	// Blocks API import of a problem whose type does not fix it and for
	// which no learner's StudentModule row recorded a max_grade);
	// RawPossible is then 0, so Possible() is 0 for an unweighted block and
	// the weight for a weighted one.
	RawUnknown bool `json:"raw_unknown,omitempty"`
	// Graded is the block's graded flag as inherited from its ancestors.
	Graded bool `json:"graded"`
	// Library is the usage key of the library_content block this block is a
	// child of; empty for other blocks.
	Library string `json:"library,omitempty"`
}

// Library is a library_content block: each learner sees only the children
// recorded in their StudentModule state for it (its "selected" list).
type Library struct {
	UsageKey string `json:"usage_key"`
	// MaxCount is how many children a learner sees; -1 means all.
	MaxCount int `json:"max_count"`
	// Children are the usage keys of the library's scorable children, in
	// order.
	Children []string `json:"children"`
}

// Possible returns the block's possible points after weighting: the weight
// when set (0 included), otherwise the raw maximum.
func (b Block) Possible() float64 {
	if b.Weight != nil {
		return *b.Weight
	}
	return b.RawPossible
}

// DefaultSelection returns the children a learner sees when no selection is
// recorded for them: the first MaxCount children in course order (all when
// MaxCount is negative or at least the number of children). The platform
// draws that selection at random the first time the learner's outline is
// built; a fixed rule keeps our outline counts and points deterministic.
func (l Library) DefaultSelection() []string {
	if l.MaxCount < 0 || l.MaxCount >= len(l.Children) {
		return l.Children
	}
	return l.Children[:l.MaxCount]
}

// VisibleBlocks returns the blocks of s a learner with the given library
// selections sees; selected maps a library usage key to the usage keys of
// its selected children, and a library absent from it shows its default
// selection.
func (s *Subsection) VisibleBlocks(selected map[string][]string) []Block {
	if len(s.Libraries) == 0 {
		return s.Blocks
	}
	visible := map[string]bool{}
	for _, l := range s.Libraries {
		sel, ok := selected[l.UsageKey]
		if !ok {
			sel = l.DefaultSelection()
		}
		for _, k := range sel {
			visible[k] = true
		}
	}
	out := make([]Block, 0, len(s.Blocks))
	for _, b := range s.Blocks {
		if b.Library == "" || visible[b.UsageKey] {
			out = append(out, b)
		}
	}
	return out
}

// Possible returns the subsection's possible points for a learner with no
// recorded library selection.
func (s *Subsection) Possible() float64 {
	var p float64
	for _, b := range s.VisibleBlocks(nil) {
		p += b.Possible()
	}
	return p
}

// Subsections returns every subsection in course order.
func (o *Outline) Subsections() []*Subsection {
	var out []*Subsection
	for i := range o.Chapters {
		for j := range o.Chapters[i].Subsections {
			out = append(out, &o.Chapters[i].Subsections[j])
		}
	}
	return out
}

// ComputeVersion sets Version to a hash of the outline's substance (not its
// source or warnings), so the same content imported twice has one version.
func (o *Outline) ComputeVersion() {
	c := *o
	c.Version, c.Source, c.Warnings = "", "", nil
	b, _ := json.Marshal(c)
	sum := sha256.Sum256(b)
	o.Version = hex.EncodeToString(sum[:8])
}
