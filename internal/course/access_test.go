package course

import (
	"reflect"
	"testing"
	"time"
)

// visibleSubsections returns a learner's subsections and their possible
// points (default library selections), by block id.
func visibleSubsections(o *Outline, l Learner, now time.Time) map[string]float64 {
	out := map[string]float64{}
	for _, s := range o.ForLearner(l, now).Subsections() {
		out[BlockID(s.UsageKey)] = s.Possible()
	}
	return out
}

// TestForLearner checks one learner structure per rule of
// course-visibility.md on testdata/visibility, whose expected values were
// worked out from its files: course start 2026-01-01, days_early_for_beta
// 3, content groups (partition 10: A=1, B=2), an experiment (partition
// 20: groups 0 and 1), an inactive partition 30.
func TestForLearner(t *testing.T) {
	o, err := ImportOLX("testdata/visibility", ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)
	if got := o.RestrictedPartitions(); !reflect.DeepEqual(got, []int{10, 20, 50}) {
		t.Errorf("restricted partitions %v, want [10 20 50] (30 is inactive, 51 and 99 unknown)", got)
	}
	if !o.Cohorted || o.DaysEarlyForBeta == nil || *o.DaysEarlyForBeta != 3 || len(o.Partitions) != 3 {
		t.Fatalf("course settings: cohorted %v beta %v partitions %+v", o.Cohorted, o.DaysEarlyForBeta, o.Partitions)
	}
	// Everyone's content: s_open 1, s_mixed 1 (p_unrel is unreleased),
	// s_weight0 0, s_track 0 (its unit is for verified learners), s_ignored
	// 1 (its restrictions name no active partition), s_exp (its unmapped
	// child p_extra 1, plus the group's), s_lib (lp1 and lp2 by default),
	// s_liball 2, s_ee 1. s_nested is there for group B (its unit is for A:
	// nobody passes both).
	plain := map[string]float64{"s_open": 1, "s_mixed": 1, "s_weight0": 0, "s_track": 0, "s_ignored": 1, "s_exp": 1,
		"s_lib": 3, "s_liball": 2, "s_ee": 1}
	with := func(extra map[string]float64) map[string]float64 {
		m := map[string]float64{}
		for k, v := range plain {
			m[k] = v
		}
		for k, v := range extra {
			if v < 0 {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}
	for _, tc := range []struct {
		name string
		l    Learner
		now  time.Time
		want map[string]float64
	}{
		{"no group anywhere", Learner{}, now, plain},
		{"experiment group 0", Learner{Groups: map[int]int{20: 0}}, now, with(map[string]float64{"s_exp": 2})},
		{"experiment group 1", Learner{Groups: map[int]int{20: 1}}, now, with(map[string]float64{"s_exp": 3})},
		{"verified track", Learner{Groups: map[int]int{50: 2}}, now, with(map[string]float64{"s_track": 1})},
		{"content group A", Learner{Groups: map[int]int{10: 1}}, now, with(map[string]float64{"s_cohortA": 1})},
		{"content group B: s_nested without its unit", Learner{Groups: map[int]int{10: 2}}, now, with(map[string]float64{"s_nested": 0})},
		{"beta tester: s_beta opens 3 days early, s_future not yet", Learner{Beta: true}, now, with(map[string]float64{"s_beta": 1})},
		{"a month later: everything released", Learner{}, now.AddDate(0, 1, 15), with(map[string]float64{"s_future": 2, "s_parentwins": 1, "s_beta": 1, "s_mixed": 5})},
		{"staff: everything, every branch", Learner{Staff: true}, now, map[string]float64{"s_open": 1, "s_future": 2, "s_mixed": 5, "s_parentwins": 1,
			"s_beta": 1, "s_weight0": 0, "s_staff": 1, "s_track": 1, "s_cohortA": 1, "s_nested": 1, "s_ignored": 1, "s_exp": 4, "s_lib": 3, "s_liball": 2, "s_ee": 1}},
		{"before the course starts: nothing", Learner{}, time.Date(2025, 12, 30, 0, 0, 0, 0, time.UTC), map[string]float64{}},
		{"a beta tester 3 days early sees the start", Learner{Beta: true}, time.Date(2025, 12, 30, 0, 0, 0, 0, time.UTC), plain},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := visibleSubsections(o, tc.l, tc.now); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
		})
	}

	// Self-paced: only the course start applies (R2.4's safe default).
	sp := *o
	sp.SelfPaced = true
	want := with(map[string]float64{"s_future": 2, "s_parentwins": 1, "s_beta": 1, "s_mixed": 5})
	if got := visibleSubsections(&sp, Learner{}, now); !reflect.DeepEqual(got, want) {
		t.Errorf("self-paced: got %v\nwant %v", got, want)
	}

	// Signatures: equal exactly when the structure is.
	r := o.RestrictedPartitions()
	for _, tc := range []struct {
		a, b Learner
		same bool
	}{
		{Learner{Groups: map[int]int{10: 1, 99: 3}}, Learner{Groups: map[int]int{10: 1}}, true},
		{Learner{Groups: map[int]int{10: 1}}, Learner{Groups: map[int]int{10: 2}}, false},
		{Learner{Beta: true}, Learner{}, false},
		{Learner{Staff: true, Groups: map[int]int{10: 1}}, Learner{Staff: true}, true},
	} {
		if got := o.Signature(tc.a, r) == o.Signature(tc.b, r); got != tc.same {
			t.Errorf("signatures of %+v and %+v equal: %v, want %v", tc.a, tc.b, got, tc.same)
		}
	}
}

func TestLearnerTrack(t *testing.T) {
	modes := []string{"audit", "verified"}
	for _, tc := range []struct {
		mode   string
		active bool
		modes  []string
		group  int
		ok     bool
	}{
		{"audit", true, modes, 1, true},
		{"verified", true, modes, 2, true},
		{"verified", false, modes, 0, false},
		{"credit", true, modes, 2, true},
		{"credit", true, []string{"audit", "verified", "professional"}, 3, true},
		{"credit", true, []string{"audit"}, 1, true},
		{"honor", true, modes, 1, true},
		{"honor", true, []string{"honor"}, 6, true},
		{"masters", true, []string{"masters"}, 7, true},
	} {
		g, ok := LearnerTrack(tc.mode, tc.active, tc.modes)
		if g != tc.group || ok != tc.ok {
			t.Errorf("LearnerTrack(%q, %v, %v) = %d %v, want %d %v", tc.mode, tc.active, tc.modes, g, ok, tc.group, tc.ok)
		}
	}
}

// TestLibrarySelection covers course-visibility R6.3/R6.4 and §11.14 on a
// library of max_count 2 with five children.
func TestLibrarySelection(t *testing.T) {
	k := func(id string) string { return "block-v1:O+C+R+type@problem+block@" + id }
	lib := Library{UsageKey: "lib", MaxCount: 2, Children: []string{k("a"), k("b"), k("c"), k("d"), k("e")},
		Members: []string{k("a"), k("b"), k("c"), k("d"), k("e")}}
	for _, tc := range []struct {
		name       string
		recorded   []string
		has        bool
		max        int
		want       []string
		determined bool
	}{
		{"two valid children: exactly those", []string{k("d"), k("b")}, true, 2, []string{k("d"), k("b")}, true},
		{"one valid and one stale: filled in course order, undetermined", []string{k("d"), k("gone")}, true, 2, []string{k("d"), k("a")}, false},
		{"nothing recorded: the first two, undetermined", nil, false, 2, []string{k("a"), k("b")}, false},
		{"three recorded for two: the first two, undetermined", []string{k("e"), k("c"), k("a")}, true, 2, []string{k("e"), k("c")}, false},
		{"max_count -1: all, determined", nil, false, -1, []string{k("a"), k("b"), k("c"), k("d"), k("e")}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := lib
			l.MaxCount = tc.max
			sel, det := l.Selection(tc.recorded, tc.has)
			if !reflect.DeepEqual(sel, tc.want) || det != tc.determined {
				t.Errorf("got %v %v, want %v %v", sel, det, tc.want, tc.determined)
			}
		})
	}
}
