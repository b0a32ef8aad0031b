package course

import (
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// merged is a block's access while the importer walks down the tree: the
// values the platform's collect phase merges (course-visibility R2.1,
// R3.2, R5.1), for a tree (each block has one parent).
type merged struct {
	start     time.Time
	staffOnly bool
	// groups holds, per known partition that restricts the block, the
	// allowed groups (empty: nobody); a partition absent is unrestricted.
	groups map[int][]int
}

// override is a split_test child's restriction (R4.1): the child's own
// group_access for the experiment's partition becomes [group], or no
// restriction when no group of the partition maps to the child.
type override struct {
	partition, group int
	mapped           bool
}

// export returns the merged values as stored: the start only when later
// than the course's.
func (m merged) export(courseStart time.Time) Access {
	a := Access{StaffOnly: m.staffOnly}
	if m.start.After(courseStart) {
		t := m.start
		a.Start = &t
	}
	for p, gs := range m.groups {
		a.Groups = append(a.Groups, Restriction{Partition: p, Groups: append([]int{}, gs...)})
	}
	sort.Slice(a.Groups, func(i, j int) bool { return a.Groups[i].Partition < a.Groups[j].Partition })
	return a
}

// courseSettings reads the course-level settings visibility needs from the
// course block (its attributes with policy.json's course entry applied):
// start, self_paced, days_early_for_beta, cohort_config and
// user_partitions.
func (imp *importer) courseSettings(o *Outline, b *block) {
	if v, ok := b.attrs["start"]; ok && !isNull(v) && strings.TrimSpace(v) != "" {
		if t, err := parseDate(v); err == nil {
			o.Start = &t
		} else {
			imp.warnf(b.file, "course", "start %q is not a date; the platform default %s applies", v, DefaultStart.Format("2006-01-02"))
		}
	}
	if v, ok := b.attrs["self_paced"]; ok {
		o.SelfPaced = parseBool(v)
	}
	if v, ok := b.attrs["days_early_for_beta"]; ok && !isNull(v) && strings.TrimSpace(v) != "" {
		if f, err := parseFloat(v); err == nil {
			o.DaysEarlyForBeta = &f
		} else {
			imp.warnf(b.file, "course", "days_early_for_beta %q is not a number; left unset", v)
		}
	}
	if v, ok := b.attrs["cohort_config"]; ok && !isNull(v) {
		var cc struct {
			Cohorted any `json:"cohorted"`
		}
		if err := json.Unmarshal([]byte(v), &cc); err != nil {
			imp.warnf(b.file, "course", "cohort_config is not a JSON object; ignored")
		} else {
			switch c := cc.Cohorted.(type) {
			case bool:
				o.Cohorted = c
			case string:
				o.Cohorted = parseBool(c)
			}
		}
	}
	if v, ok := b.attrs["user_partitions"]; ok && !isNull(v) {
		o.Partitions = imp.parsePartitions(b, v)
	}
	imp.partitions = o.Partitions
	imp.known = map[int]bool{}
	track := true
	for _, p := range o.Partitions {
		if p.Active {
			imp.known[p.ID] = true
		}
		if p.ID == EnrollmentTrackPartition {
			// The course's own partition 50 takes the place of the
			// enrollment track (R3b.1).
			track = false
		}
	}
	if track {
		imp.known[EnrollmentTrackPartition] = true
	}
	imp.courseStart = o.CourseStart()
}

// parsePartitions reads user_partitions (UserPartition.to_json objects). A
// partition the platform could not load (no id or groups, an unknown or
// read-only scheme) is warned about and left out.
func (imp *importer) parsePartitions(b *block, v string) []Partition {
	var raw []struct {
		ID      *int    `json:"id"`
		Name    string  `json:"name"`
		Scheme  *string `json:"scheme"`
		Version int     `json:"version"`
		Active  *bool   `json:"active"`
		Groups  []struct {
			ID *int `json:"id"`
		} `json:"groups"`
	}
	if err := json.Unmarshal([]byte(v), &raw); err != nil {
		imp.warnf(b.file, "course", "user_partitions is not a list of partitions (%v); ignored", err)
		return nil
	}
	var out []Partition
	for i, r := range raw {
		if r.ID == nil || r.Groups == nil {
			imp.warnf(b.file, "course", "user_partitions[%d] lacks an id or groups; ignored", i)
			continue
		}
		scheme := "random" // version 1 partitions have no scheme
		if r.Scheme != nil {
			scheme = *r.Scheme
		}
		switch scheme {
		case "cohort", "random", "verification":
		default:
			imp.warnf(b.file, "course", "user partition %d has scheme %q, which a course cannot define; ignored", *r.ID, scheme)
			continue
		}
		p := Partition{ID: *r.ID, Name: r.Name, Scheme: scheme, Active: r.Active == nil || *r.Active, Groups: []int{}}
		for _, g := range r.Groups {
			if g.ID != nil {
				p.Groups = append(p.Groups, *g.ID)
			}
		}
		out = append(out, p)
	}
	return out
}

// rootAccess is the course block's own merged access: its start (or the
// default) and its own flags.
func (imp *importer) rootAccess(o *Outline, b *block) merged {
	m := merged{start: o.CourseStart(), groups: map[int][]int{}}
	m.staffOnly = parseStaffOnly(b)
	imp.ownGroups(b, nil, m.groups)
	return m
}

func parseStaffOnly(b *block) bool {
	v, ok := b.attrs["visible_to_staff_only"]
	return ok && parseBool(v)
}

// merge returns b's merged access under a parent's: the later start, the
// staff-only flag of either, and per known partition the intersection of
// the allowed groups. Only values set on b itself count.
func (imp *importer) merge(parent merged, b *block, over *override) merged {
	m := merged{start: parent.start, staffOnly: parent.staffOnly, groups: make(map[int][]int, len(parent.groups))}
	for p, gs := range parent.groups {
		m.groups[p] = gs
	}
	if v, ok := b.attrs["start"]; ok && !isNull(v) && strings.TrimSpace(v) != "" {
		if t, err := parseDate(v); err == nil && t.After(m.start) {
			m.start = t
		}
	}
	if parseStaffOnly(b) {
		m.staffOnly = true
	}
	imp.ownGroups(b, over, m.groups)
	return m
}

// ownGroups intersects into groups the block's own group_access
// restrictions on known partitions. A missing key, null or [] restricts
// nothing.
func (imp *importer) ownGroups(b *block, over *override, groups map[int][]int) {
	own := map[int][]int{}
	if v, ok := b.attrs["group_access"]; ok && !isNull(v) && strings.TrimSpace(v) != "" {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(v), &raw); err != nil {
			imp.warnf(b.file, b.label(), "group_access %q is not a JSON object; ignored", v)
		}
		for k, val := range raw {
			p, err := strconv.Atoi(strings.TrimSpace(k))
			if err != nil {
				imp.warnf(b.file, b.label(), "group_access key %q is not a partition id; ignored", k)
				continue
			}
			var gs []int
			if err := json.Unmarshal(val, &gs); err != nil {
				imp.warnf(b.file, b.label(), "group_access[%s] is not a list of group ids; ignored", k)
				continue
			}
			if len(gs) > 0 {
				own[p] = gs
			}
		}
	}
	if over != nil {
		delete(own, over.partition)
		if over.mapped {
			own[over.partition] = []int{over.group}
		}
	}
	for p, gs := range own {
		if !imp.known[p] {
			continue
		}
		set := dedupSorted(gs)
		if prev, ok := groups[p]; ok {
			set = intersect(prev, set)
		}
		groups[p] = set
	}
}

func dedupSorted(gs []int) []int {
	out := append([]int{}, gs...)
	sort.Ints(out)
	k := 0
	for i, g := range out {
		if i == 0 || g != out[k-1] {
			out[k] = g
			k++
		}
	}
	return out[:k]
}

func intersect(a, b []int) []int {
	out := []int{}
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// splitGroups returns a split_test's partition and, per child
// ("{tag}/{url_name}"), the group it shows to (SplitTestTransformer.collect):
// the course partition of user_partition_id (active or not), and for each
// of its current groups the child group_id_to_child names, located by type
// and block id whatever the locator's form. nil when the partition is not
// one of the course's: every child is then shown to everyone.
func (imp *importer) splitGroups(b *block) (int, map[string]int) {
	pid, err := pyInt(b.attrs["user_partition_id"])
	if err != nil {
		return 0, nil
	}
	var part *Partition
	for i := range imp.partitions {
		if imp.partitions[i].ID == pid {
			part = &imp.partitions[i]
		}
	}
	if part == nil {
		imp.warnf(b.file, b.label(), "user_partition_id %d is not a partition of the course: every learner sees every group's content", pid)
		return 0, nil
	}
	var mapping map[string]string
	if v := b.attrs["group_id_to_child"]; v != "" && !isNull(v) {
		if err := json.Unmarshal([]byte(v), &mapping); err != nil {
			imp.warnf(b.file, b.label(), "group_id_to_child is not a JSON object of locators; every learner sees every child")
		}
	}
	out := map[string]int{}
	for _, g := range part.Groups {
		loc, ok := mapping[strconv.Itoa(g)]
		if !ok {
			continue
		}
		out[BlockType(loc)+"/"+BlockID(loc)] = g
	}
	return pid, out
}
