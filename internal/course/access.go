package course

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// StructureVersion is the outline format that carries what per-learner
// visibility needs (Access on chapters, subsections and blocks, the
// course's partitions and dates). Outlines cached by an older figures have
// Structure 0: they hold no staff-only content and no access data, and
// ForLearner returns them unchanged (every learner sees all of it).
const StructureVersion = 2

// DefaultStart is the platform's start date of a course whose start is
// unset (xmodule/course_metadata_utils.py DEFAULT_START_DATE).
var DefaultStart = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// EnrollmentTrackPartition is the id of the platform's dynamic
// enrollment-track partition; its group ids are fixed per mode slug
// (TrackGroup).
const EnrollmentTrackPartition = 50

// ContentGatingPartition is the id of the content-type-gating partition
// (Feature-Based Enrollments). It only ever gates, never removes a block
// from the grading structure (course-visibility R3c.2), so restrictions on
// it are ignored.
const ContentGatingPartition = 51

// Access is what decides whether a block is in a learner's structure,
// merged down the tree at import as the platform's transformers collect
// it: a block carries its ancestors' restrictions, so a block is visible
// exactly when its own Access passes.
type Access struct {
	// Start is the merged release date (StartDateTransformer: the latest
	// explicit start along the path from the course); nil when it is the
	// course's start.
	Start *time.Time `json:"start,omitempty"`
	// StaffOnly is the merged visible_to_staff_only: set on the block or
	// any ancestor.
	StaffOnly bool `json:"staff_only,omitempty"`
	// Groups are the merged group_access restrictions, one per partition
	// that restricts the block (the intersection of the block's and its
	// ancestors' allowed groups), sorted by partition. A restriction with
	// no group lets nobody (but staff) through. Only the course's active
	// partitions and the enrollment-track partition are kept; references to
	// others are ignored, as the platform ignores them.
	Groups []Restriction `json:"groups,omitempty"`
}

// Restriction is one partition's allowed groups.
type Restriction struct {
	Partition int   `json:"partition"`
	Groups    []int `json:"groups"`
}

// Partition is one of the course's user partitions (course policy
// user_partitions).
type Partition struct {
	ID     int    `json:"id"`
	Name   string `json:"name,omitempty"`
	Scheme string `json:"scheme"`
	Active bool   `json:"active"`
	Groups []int  `json:"groups"`
}

// HasGroup reports whether g is one of the partition's current groups.
func (p Partition) HasGroup(g int) bool {
	for _, x := range p.Groups {
		if x == g {
			return true
		}
	}
	return false
}

// Learner is what decides which blocks of a course one learner sees: their
// signature. Learners with equal signatures see the same structure.
type Learner struct {
	// Staff bypasses release dates, staff-only content and partitions
	// (global staff, course staff, instructors, limited staff, org staff).
	Staff bool
	// Beta is a beta tester of the course: content opens
	// days_early_for_beta days early for them.
	Beta bool
	// Groups maps a partition id to the learner's group in it; a partition
	// absent from it means no group.
	Groups map[int]int
}

// CourseStart returns the course's start, the platform default when unset.
func (o *Outline) CourseStart() time.Time {
	if o.Start != nil {
		return *o.Start
	}
	return DefaultStart
}

// RestrictedPartitions returns the partitions some block is restricted on,
// sorted: the only ones whose groups can change a learner's structure.
func (o *Outline) RestrictedPartitions() []int {
	seen := map[int]bool{}
	add := func(a Access) {
		for _, r := range a.Groups {
			seen[r.Partition] = true
		}
	}
	for _, ch := range o.Chapters {
		add(ch.Access)
		for _, s := range ch.Subsections {
			add(s.Access)
			for _, b := range s.Blocks {
				add(b.Access)
			}
		}
	}
	out := make([]int, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Ints(out)
	return out
}

// Partition returns the course partition with the given id.
func (o *Outline) Partition(id int) (Partition, bool) {
	for _, p := range o.Partitions {
		if p.ID == id {
			return p, true
		}
	}
	return Partition{}, false
}

// Signature returns a key equal for two learners exactly when they see the
// same structure of this course at the same time: staff, or beta (when the
// course opens early for beta testers) and the group in each partition
// some block is restricted on. restricted is RestrictedPartitions().
func (o *Outline) Signature(l Learner, restricted []int) string {
	if l.Staff {
		return "staff"
	}
	var b strings.Builder
	b.WriteString("learner")
	if l.Beta && o.DaysEarlyForBeta != nil {
		b.WriteString(" beta")
	}
	for _, p := range restricted {
		b.WriteString(" ")
		b.WriteString(strconv.Itoa(p))
		b.WriteString(":")
		if g, ok := l.Groups[p]; ok {
			b.WriteString(strconv.Itoa(g))
		} else {
			b.WriteString("-")
		}
	}
	return b.String()
}

// ForLearner returns the learner's structure at time now, as
// CourseGradeFactory().read() sees it: the chapters, subsections and
// scorable blocks that pass the learner's release dates, staff-only flags
// and partitions (course-visibility §9 steps 1, 3–7), with Access cleared.
// Library selections are left to the progress computation. Before the
// course's start a learner who is neither staff nor an early beta tester
// sees nothing. A self-paced course applies only its start, not the
// subsections' (the safe default of R2.4). An outline of an older format
// (Structure < StructureVersion) is returned as it is.
func (o *Outline) ForLearner(l Learner, now time.Time) *Outline {
	if o.Structure < StructureVersion {
		return o
	}
	out := &Outline{CourseID: o.CourseID, DisplayName: o.DisplayName, Version: o.Version, Source: o.Source,
		Structure: o.Structure, Start: o.Start, SelfPaced: o.SelfPaced, Chapters: []Chapter{}}
	early := time.Duration(0)
	if l.Beta && o.DaysEarlyForBeta != nil {
		early = time.Duration(*o.DaysEarlyForBeta * float64(24*time.Hour))
	}
	courseStart := o.CourseStart()
	if !l.Staff && !now.After(courseStart.Add(-early)) {
		return out
	}
	pass := func(a Access) bool {
		if l.Staff {
			return true
		}
		if a.StaffOnly {
			return false
		}
		if a.Start != nil && !o.SelfPaced && !now.After(a.Start.Add(-early)) {
			return false
		}
		for _, r := range a.Groups {
			g, ok := l.Groups[r.Partition]
			if !ok || !slices.Contains(r.Groups, g) {
				return false
			}
		}
		return true
	}
	return o.filter(pass, out)
}

// filter copies into out the chapters, subsections, blocks and libraries
// whose Access passes, with Access cleared; a library keeps the children
// that pass.
func (o *Outline) filter(pass func(Access) bool, out *Outline) *Outline {
	for _, ch := range o.Chapters {
		if !pass(ch.Access) {
			continue
		}
		nc := Chapter{UsageKey: ch.UsageKey, DisplayName: ch.DisplayName, Subsections: []Subsection{}}
		for _, s := range ch.Subsections {
			if !pass(s.Access) {
				continue
			}
			ns := s
			ns.Access = Access{}
			ns.Blocks = make([]Block, 0, len(s.Blocks))
			for _, b := range s.Blocks {
				if pass(b.Access) {
					b.Access = Access{}
					ns.Blocks = append(ns.Blocks, b)
				}
			}
			ns.Libraries = nil
			for _, lib := range s.Libraries {
				if !pass(lib.Access) {
					continue
				}
				nl := lib
				nl.Access = Access{}
				nl.Children = []string{}
				for _, k := range lib.Children {
					if hasBlock(ns.Blocks, k) {
						nl.Children = append(nl.Children, k)
					}
				}
				ns.Libraries = append(ns.Libraries, nl)
			}
			nc.Subsections = append(nc.Subsections, ns)
		}
		out.Chapters = append(out.Chapters, nc)
	}
	return out
}

func hasBlock(bs []Block, key string) bool {
	for _, b := range bs {
		if b.UsageKey == key {
			return true
		}
	}
	return false
}

// TrackGroup returns the enrollment-track partition's group id of a course
// mode slug (settings.COURSE_ENROLLMENT_MODES): fixed per slug, not the
// course_modes_coursemode row id.
func TrackGroup(slug string) (int, bool) {
	g, ok := trackGroups[slug]
	return g, ok
}

var trackGroups = map[string]int{
	"audit": 1, "verified": 2, "professional": 3, "no-id-professional": 4, "credit": 5, "honor": 6,
	"masters": 7, "executive-education": 8, "unpaid-executive-education": 9, "paid-executive-education": 10,
	"unpaid-bootcamp": 11, "paid-bootcamp": 12,
}

// LearnerTrack returns a learner's group in the enrollment-track partition
// (EnrollmentTrackPartitionScheme.get_group_for_user): no group for an
// inactive or missing enrollment; otherwise the group of their mode's slug
// when the course has a mode of that slug (credit counts as the course's
// professional mode, else its verified one), and audit's otherwise.
// courseModes are the slugs of the course's course_modes_coursemode rows,
// expired ones included.
func LearnerTrack(mode string, active bool, courseModes []string) (int, bool) {
	if !active {
		return 0, false
	}
	has := func(s string) bool {
		for _, m := range courseModes {
			if m == s {
				return true
			}
		}
		return false
	}
	slug := ""
	switch {
	case mode == "credit":
		if has("professional") {
			slug = "professional"
		} else if has("verified") {
			slug = "verified"
		}
	case has(mode):
		slug = mode
	}
	if g, ok := trackGroups[slug]; ok {
		return g, true
	}
	return trackGroups["audit"], true
}

// HasRestrictions reports whether any block is restricted (released after
// the course's start, staff-only or limited to groups): when none is, every
// learner of a started course sees the whole outline.
func (o *Outline) HasRestrictions() bool {
	restricted := func(a Access) bool { return a.Start != nil || a.StaffOnly || len(a.Groups) > 0 }
	for _, ch := range o.Chapters {
		if restricted(ch.Access) {
			return true
		}
		for _, s := range ch.Subsections {
			if restricted(s.Access) {
				return true
			}
			for _, b := range s.Blocks {
				if restricted(b.Access) {
					return true
				}
			}
			for _, l := range s.Libraries {
				if restricted(l.Access) {
					return true
				}
			}
		}
	}
	return false
}
