package synth

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/figures-analytics/figures/internal/course"
	"github.com/figures-analytics/figures/internal/lms"
)

// Kinds of module a StudentModule row can be for.
const (
	kindCourse uint8 = iota
	kindChapter
	kindSequential
	kindVideo
	// kindProblem is a block whose score the platform keeps in
	// StudentModule grade/max_grade: capa, drag-and-drop-v2, LTI, ...
	kindProblem
	// kindUnscored is a stateful block scored elsewhere (ORA and SGA go
	// through the submissions API): a row with state and no grade.
	kindUnscored
	kindLibrary
)

// csmScored lists the block types that publish their score into
// StudentModule; other scorable types (openassessment, edx_sga) keep it in
// the submissions tables.
var csmScored = map[string]bool{
	"problem": true, "drag-and-drop-v2": true, "lti": true, "lti_consumer": true,
	"done": true, "staffgradedxblock": true,
}

// module is a block that gets StudentModule rows.
type module struct {
	key, typ string
	kind     uint8
	rawMax   float64
	// sub is the index of the outline subsection holding the block (-1
	// for the course and chapters).
	sub int32
	// children are a library's child modules (at most 64: a learner's
	// selection is kept as a bit mask), maxCount how many a learner sees
	// (-1: all).
	children []int32
	maxCount int
	// acc is the block's access (an index into courseModel.accesses; 0:
	// everyone may open it).
	acc int32
}

// unit is what a learner opens in one step: a vertical of a generated
// course, or a few blocks of a real course's subsection.
type unit struct {
	chapter, seq int32
	// chapterPos, seqPos and position are the 1-based positions the
	// course, chapter and subsection rows record when the unit opens.
	chapterPos, seqPos, position int
	items                        []int32
	// acc is the unit's access: a learner who may not open it skips it.
	acc int32
}

// courseModel is one course of the synthetic LMS: its outline, its modules
// and the path a learner walks through it.
type courseModel struct {
	idx         int
	id          string
	key         course.Key
	org         string
	site        int
	real        bool
	gen         *genCourse
	outline     *course.Outline
	olxPath     string
	displayName string
	// start, end and published are microseconds since the epoch; end is
	// 0 for a course without an end date.
	start, end, published int64
	selfPaced             bool
	policy                gradingPolicy
	policyHash            string
	courseVersion         string
	popularity            float64

	modules []module
	units   []unit
	subs    []*course.Subsection
	// blockSub maps a scorable block's usage key to its subsection index.
	blockSub map[string]int
	hashes   map[string]string

	// accesses are the distinct Access values of the course's units and
	// blocks (0 is the zero Access); blockAccess maps a block's usage key
	// to its index.
	accesses    []course.Access
	accessIndex map[string]int32
	blockAccess map[string]int32
	// restricted are the partitions some block is restricted on; groups
	// the course's modes and cohorts (planGroups), cohortIDs its cohorts'
	// ids in cohortSpecs order; structures its learners' structures by
	// signature.
	restricted []int
	groups     *lms.CourseGroups
	cohortIDs  []int
	structures map[string]*structure
}

// intern returns the index of an Access in accesses.
func (c *courseModel) intern(a course.Access) int32 {
	b, _ := json.Marshal(a)
	k := string(b)
	if i, ok := c.accessIndex[k]; ok {
		return i
	}
	if c.accessIndex == nil {
		c.accessIndex = map[string]int32{}
		c.accesses = []course.Access{{}}
		zero, _ := json.Marshal(course.Access{})
		c.accessIndex[string(zero)] = 0
		if k == string(zero) {
			return 0
		}
	}
	c.accesses = append(c.accesses, a)
	i := int32(len(c.accesses) - 1)
	c.accessIndex[k] = i
	return i
}

// indexAccess records the access of every block of the outline.
func (c *courseModel) indexAccess() {
	c.intern(course.Access{})
	c.blockAccess = map[string]int32{}
	for _, s := range c.outline.Subsections() {
		for _, b := range s.Blocks {
			c.blockAccess[b.UsageKey] = c.intern(b.Access)
		}
		for _, l := range s.Libraries {
			c.blockAccess[l.UsageKey] = c.intern(l.Access)
		}
	}
}

// addModule appends a module and returns its index.
func (c *courseModel) addModule(m module) int32 {
	c.modules = append(c.modules, m)
	return int32(len(c.modules) - 1)
}

// modelFromGenerated builds the model of a generated course. Staff-only
// subsections get no learner rows (learners never open them); html blocks
// keep no state. Every unit and block carries its access, which the
// simulation checks before a learner opens it.
func modelFromGenerated(g *genCourse, o *course.Outline) *courseModel {
	c := &courseModel{id: g.Key.String(), key: g.Key, org: g.Key.Org, gen: g, outline: o,
		displayName: g.DisplayName, selfPaced: g.SelfPaced, policy: g.Policy}
	c.indexAccess()
	c.addModule(module{key: g.usage("course", "course"), typ: "course", kind: kindCourse, sub: -1})
	subs := o.Subsections()
	sub := int32(0)
	for ci, ch := range g.Chapters {
		chm := c.addModule(module{key: g.usage("chapter", ch.ID), typ: "chapter", kind: kindChapter, sub: -1})
		seqPos := 0
		for _, s := range ch.Subs {
			if s.StaffOnly {
				sub++
				continue
			}
			seqPos++
			sm := c.addModule(module{key: g.usage("sequential", s.ID), typ: "sequential", kind: kindSequential, sub: sub})
			for vi, v := range s.Verticals {
				u := unit{chapter: chm, seq: sm, chapterPos: ci + 1, seqPos: seqPos, position: vi + 1,
					acc: c.intern(restrict(subs[sub].Access, v.Group))}
				c.addItems(&u, v.Items, sub)
				c.units = append(c.units, u)
			}
			sub++
		}
	}
	c.finish()
	return c
}

// addItems adds a unit's items as modules; a content experiment's branches
// are part of the unit, each block with its own access.
func (c *courseModel) addItems(u *unit, items []genItem, sub int32) {
	g := c.gen
	for _, it := range items {
		switch it.Type {
		case itemVideo:
			u.items = append(u.items, c.addModule(module{key: g.usage(itemVideo, it.ID), typ: itemVideo, kind: kindVideo, sub: sub, acc: u.acc}))
		case itemProblem:
			key := g.usage(itemProblem, it.ID)
			u.items = append(u.items, c.addModule(module{key: key, typ: itemProblem,
				kind: kindProblem, rawMax: it.Problem.rawMax(), sub: sub, acc: c.blockAccess[key]}))
		case itemLibrary:
			key := g.usage(itemLibrary, it.ID)
			lm := module{key: key, typ: itemLibrary, kind: kindLibrary, sub: sub, maxCount: it.Library.MaxCount, acc: c.blockAccess[key]}
			for _, ch := range it.Library.Children[:min(64, len(it.Library.Children))] {
				ck := g.usage(itemProblem, ch.ID)
				lm.children = append(lm.children, c.addModule(module{key: ck,
					typ: itemProblem, kind: kindProblem, rawMax: ch.Problem.rawMax(), sub: sub, acc: c.blockAccess[ck]}))
			}
			u.items = append(u.items, c.addModule(lm))
		case itemSplit:
			for _, br := range it.Split.Branches {
				c.addItems(u, br.Items, sub)
			}
		}
	}
}

// modelFromOutline builds the model of a real course from its imported
// outline: the course, its chapters and subsections, and its scorable and
// library blocks (the outline does not list html or video, so real courses
// get no video rows). A subsection's blocks are walked three at a time.
func modelFromOutline(o *course.Outline) (*courseModel, error) {
	key, err := course.ParseKey(o.CourseID)
	if err != nil {
		return nil, err
	}
	c := &courseModel{id: o.CourseID, key: key, org: key.Org, real: true, outline: o, displayName: o.DisplayName}
	c.indexAccess()
	c.addModule(module{key: key.UsageKey("course", "course"), typ: "course", kind: kindCourse, sub: -1})
	sub := int32(0)
	for ci, ch := range o.Chapters {
		chm := c.addModule(module{key: ch.UsageKey, typ: "chapter", kind: kindChapter, sub: -1})
		for si := range ch.Subsections {
			s := &ch.Subsections[si]
			sm := c.addModule(module{key: s.UsageKey, typ: "sequential", kind: kindSequential, sub: sub})
			var items []int32
			libs := map[string]int32{}
			for _, l := range s.Libraries {
				libs[l.UsageKey] = -1
			}
			byKey := map[string]course.Block{}
			for _, b := range s.Blocks {
				byKey[b.UsageKey] = b
			}
			for _, b := range s.Blocks {
				if b.Library != "" {
					if libs[b.Library] == -1 {
						var lib course.Library
						for _, l := range s.Libraries {
							if l.UsageKey == b.Library {
								lib = l
							}
						}
						lm := module{key: lib.UsageKey, typ: itemLibrary, kind: kindLibrary, sub: sub, maxCount: lib.MaxCount, acc: c.blockAccess[lib.UsageKey]}
						for _, k := range lib.Children[:min(64, len(lib.Children))] {
							cb := byKey[k]
							lm.children = append(lm.children, c.addModule(c.blockModule(cb, sub)))
						}
						libs[b.Library] = c.addModule(lm)
						items = append(items, libs[b.Library])
					}
					continue
				}
				items = append(items, c.addModule(c.blockModule(b, sub)))
			}
			acc := c.intern(s.Access)
			if len(items) == 0 {
				c.units = append(c.units, unit{chapter: chm, seq: sm, chapterPos: ci + 1, seqPos: si + 1, position: 1, acc: acc})
			}
			for i := 0; i < len(items); i += 3 {
				c.units = append(c.units, unit{chapter: chm, seq: sm, chapterPos: ci + 1, seqPos: si + 1,
					position: i/3 + 1, items: items[i:min(i+3, len(items))], acc: acc})
			}
			sub++
		}
	}
	c.finish()
	return c, nil
}

func (c *courseModel) blockModule(b course.Block, sub int32) module {
	k := kindUnscored
	if csmScored[b.Type] {
		k = kindProblem
	}
	typ := b.Type
	if typ == "" {
		typ = course.BlockType(b.UsageKey)
	}
	return module{key: b.UsageKey, typ: typ, kind: k, rawMax: b.RawPossible, sub: sub, acc: c.blockAccess[b.UsageKey]}
}

func (c *courseModel) finish() {
	c.subs = c.outline.Subsections()
	c.restricted = c.outline.RestrictedPartitions()
	c.blockSub = map[string]int{}
	for i, s := range c.subs {
		for _, b := range s.Blocks {
			if _, dup := c.blockSub[b.UsageKey]; !dup {
				c.blockSub[b.UsageKey] = i
			}
		}
	}
	c.hashes = map[string]string{}
	pol, _ := json.Marshal(c.policy.Graders)
	c.policyHash = b64sha1(string(pol) + strconv.FormatFloat(c.policy.Cutoff, 'g', -1, 64))
	// course_version is a 24-hex ObjectId of the published structure.
	c.courseVersion = (c.outline.Version + strings.Repeat("0", 24))[:24]
}

func b64sha1(s string) string {
	sum := sha1.Sum([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// readGradingPolicy reads policies/{run}/grading_policy.json of a real
// course export. A course without one grades on its subsections' points.
func readGradingPolicy(dir, run string) (gradingPolicy, error) {
	p := filepath.Join(dir, "policies", run, "grading_policy.json")
	b, err := os.ReadFile(p)
	if os.IsNotExist(err) {
		return gradingPolicy{Cutoff: 0.5}, nil
	}
	if err != nil {
		return gradingPolicy{}, fmt.Errorf("grading policy: %w", err)
	}
	var raw struct {
		Grader  []grader           `json:"GRADER"`
		Cutoffs map[string]float64 `json:"GRADE_CUTOFFS"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return gradingPolicy{}, fmt.Errorf("grading policy %s: %w", p, err)
	}
	pol := gradingPolicy{Graders: raw.Grader, Cutoff: math.Inf(1)}
	for _, v := range raw.Cutoffs {
		pol.Cutoff = math.Min(pol.Cutoff, v)
	}
	if math.IsInf(pol.Cutoff, 1) {
		pol.Cutoff = 0.5
	}
	return pol, nil
}

// percentGrade is the course grade the platform's weighted grader gives for
// per-subsection (earned, possible): per assignment type, the subsections
// of that format with points, padded with zeros to min_count, the lowest
// drop_count dropped, averaged and weighted; rounded to two decimals. A
// course without graders grades on all its graded points.
func (c *courseModel) percentGrade(earned, possible []float64) float64 {
	if len(c.policy.Graders) == 0 {
		var e, p float64
		for i, s := range c.subs {
			if s.Graded {
				e += earned[i]
				p += possible[i]
			}
		}
		if p == 0 {
			return 0
		}
		return math.Round(e/p*100) / 100
	}
	var total float64
	for _, g := range c.policy.Graders {
		var scores []float64
		for i, s := range c.subs {
			if s.Graded && s.Format == g.Type && possible[i] > 0 {
				scores = append(scores, earned[i]/possible[i])
			}
		}
		for len(scores) < g.MinCount {
			scores = append(scores, 0)
		}
		sort.Float64s(scores)
		if g.DropCount > 0 && g.DropCount < len(scores) {
			scores = scores[g.DropCount:]
		}
		if len(scores) == 0 {
			continue
		}
		var sum float64
		for _, s := range scores {
			sum += s
		}
		total += g.Weight * sum / float64(len(scores))
	}
	return math.Round(math.Min(total, 1)*100) / 100
}

// visibleBlocksHash is the subsection's grades_visibleblocks hash for a
// learner of the given structure and library selection: base64(sha1(
// blocks_json)) of the blocks the learner sees, as the platform computes
// it.
func (c *courseModel) visibleBlocksHash(st *structure, sig string, subKey string, sel map[string][]string) string {
	var s *course.Subsection
	for _, x := range st.outline.Subsections() {
		if x.UsageKey == subKey {
			s = x
		}
	}
	if s == nil {
		return ""
	}
	cacheKey := sig + "|" + subKey
	if len(s.Libraries) > 0 {
		var parts []string
		for _, l := range s.Libraries {
			parts = append(parts, strings.Join(sel[l.UsageKey], ","))
		}
		cacheKey += "|" + strings.Join(parts, ";")
	}
	if h, ok := c.hashes[cacheKey]; ok {
		return h
	}
	var b strings.Builder
	b.WriteString(`{"blocks":[`)
	for i, blk := range s.VisibleBlocks(sel) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"graded":` + strconv.FormatBool(blk.Graded) + `,"locator":"` + blk.UsageKey +
			`","raw_possible":` + strconv.FormatFloat(blk.RawPossible, 'f', 1, 64) + `,"weight":`)
		if blk.Weight != nil {
			b.WriteString(strconv.FormatFloat(*blk.Weight, 'f', 1, 64))
		} else {
			b.WriteString("null")
		}
		b.WriteByte('}')
	}
	b.WriteString(`],"course_key":"` + c.id + `","version":1}`)
	h := b64sha1(b.String())
	c.hashes[cacheKey] = h
	return h
}
