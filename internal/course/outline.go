// Package course holds a course's structure as the grades app sees it: the
// outline of chapters → subsections (sequentials) → scorable blocks, each
// block with its usage key, type, weight, raw possible points and graded
// flag. Outlines come from an OLX export (a directory or a .tar.gz) or from
// the LMS Course Blocks API, and are cached in the store by course and
// content version.
//
// An outline holds every block a learner could see, with what decides who
// sees it (Access: release dates, staff-only flags and group restrictions
// merged down the tree, as the platform's block transformers collect
// them), and the course settings that go with it (start, self-paced,
// days_early_for_beta, user partitions, cohort_config). ForLearner turns it
// into one learner's structure.
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
	Version string `json:"version"`
	Source  string `json:"source"`
	// Structure is the format version (StructureVersion); 0 for an outline
	// cached by an older figures, which carries no access data.
	Structure int `json:"structure,omitempty"`
	// Start is the course's start (nil: unset, the platform default
	// DefaultStart applies).
	Start     *time.Time `json:"start,omitempty"`
	SelfPaced bool       `json:"self_paced,omitempty"`
	// DaysEarlyForBeta is the course's days_early_for_beta; nil when unset
	// (beta testers then see content at its release like everyone).
	DaysEarlyForBeta *float64 `json:"days_early_for_beta,omitempty"`
	// Cohorted is the course policy's cohort_config.cohorted, which the
	// platform uses when course_groups_coursecohortssettings has no row
	// for the course.
	Cohorted bool `json:"cohorted,omitempty"`
	// Partitions are the course's user partitions (active and inactive).
	Partitions []Partition `json:"partitions,omitempty"`
	Chapters   []Chapter   `json:"chapters"`
	// Warnings are non-fatal problems met while building the outline, each
	// naming the file or block it concerns.
	Warnings []string `json:"warnings,omitempty"`
}

// Chapter is a course section.
type Chapter struct {
	UsageKey    string       `json:"usage_key"`
	DisplayName string       `json:"display_name"`
	Access      Access       `json:"access,omitempty"`
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
	Access Access     `json:"access,omitempty"`
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
	Access  Access `json:"access,omitempty"`
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
	// Members are the usage keys of all the library's children (scorable
	// or not), in order: the candidates a selection is drawn from. Empty
	// in outlines of an older format, where Children stands for them.
	Members []string `json:"members,omitempty"`
	Access  Access   `json:"access,omitempty"`
}

// Possible returns the block's possible points after weighting, as the
// grades app's weighted_score does: the weight when set (0 included) and
// the raw maximum is above 0, otherwise the raw maximum; a block whose raw
// maximum the source could not tell (RawUnknown) takes its weight.
func (b Block) Possible() float64 {
	if b.Weight != nil && (b.RawPossible > 0 || b.RawUnknown) {
		return *b.Weight
	}
	return b.RawPossible
}

// candidates returns the children a selection is drawn from.
func (l Library) candidates() []string {
	if len(l.Members) > 0 {
		return l.Members
	}
	return l.Children
}

// DefaultSelection returns the children a learner sees when no selection is
// recorded for them: the first MaxCount children in course order (all when
// MaxCount is negative or at least the number of children). The platform
// draws that selection at random the first time the learner's outline is
// built; a fixed rule keeps our outline counts and points deterministic.
func (l Library) DefaultSelection() []string {
	sel, _ := l.Selection(nil, false)
	return sel
}

// Selection returns the children a learner with the recorded selection
// (recorded false: none) sees, and whether the platform's choice is fully
// determined by it (ItemBankMixin.make_selection, course-visibility R6.3,
// R6.4). The recorded children that are still children count, in their
// recorded order, at most MaxCount of them (the platform drops a random
// surplus: we drop the last); when fewer than MaxCount remain the platform
// adds random others (we add the first unselected ones in course order).
// The choice is determined when no such adjustment is needed, or when every
// candidate would give the same possible points.
func (l Library) Selection(recorded []string, has bool) (sel []string, determined bool) {
	cands := l.candidates()
	n := l.MaxCount
	if n < 0 || n > len(cands) {
		n = len(cands)
	}
	in := make(map[string]bool, len(cands))
	for _, c := range cands {
		in[c] = true
	}
	chosen := map[string]bool{}
	for _, k := range recorded {
		if in[k] && !chosen[k] && len(sel) < n {
			chosen[k] = true
			sel = append(sel, k)
		}
	}
	valid := 0
	for _, k := range recorded {
		if in[k] {
			valid++
		}
	}
	determined = has && valid == n
	if n == len(cands) {
		determined = true
	}
	for _, k := range cands {
		if len(sel) >= n {
			break
		}
		if !chosen[k] {
			chosen[k] = true
			sel = append(sel, k)
		}
	}
	return sel, determined
}

// VisibleBlocks returns the blocks of s a learner with the given library
// selections sees; selected maps a library usage key to the usage keys of
// its recorded selection, and a library absent from it shows its default
// selection.
func (s *Subsection) VisibleBlocks(selected map[string][]string) []Block {
	out, _ := s.SelectedBlocks(selected)
	return out
}

// SelectedBlocks is VisibleBlocks that also reports whether the platform's
// selection is determined for every library whose choice changes the
// subsection's possible points (see Library.Selection).
func (s *Subsection) SelectedBlocks(selected map[string][]string) ([]Block, bool) {
	if len(s.Libraries) == 0 {
		return s.Blocks, true
	}
	determined := true
	visible := map[string]bool{}
	possible := map[string]float64{}
	for _, b := range s.Blocks {
		possible[b.UsageKey] = b.Possible()
	}
	for _, l := range s.Libraries {
		rec, ok := selected[l.UsageKey]
		sel, det := l.Selection(rec, ok)
		if !det && !l.uniformPossible(possible) {
			determined = false
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
	return out, determined
}

// uniformPossible reports whether every candidate child is worth the same
// possible points (a child that is not scorable, or not visible, is worth
// 0), so that any selection of MaxCount of them gives the same total.
func (l Library) uniformPossible(possible map[string]float64) bool {
	cands := l.candidates()
	for _, k := range cands {
		if possible[k] != possible[cands[0]] {
			return false
		}
	}
	return true
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
