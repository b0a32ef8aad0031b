package pipeline

import (
	"fmt"
	"testing"

	"github.com/figures-analytics/figures/internal/lms"
)

// The legacy sample is deterministic whatever the enrollments' order, a
// larger sample contains a smaller one, and it comes back in course and id
// order.
func TestSampleEnrollments(t *testing.T) {
	var all []lms.Enrollment
	for id := 1; id <= 1000; id++ {
		all = append(all, lms.Enrollment{ID: id, UserID: id, CourseID: fmt.Sprintf("course-v1:O+C%d+R", id%7)})
	}
	reversed := make([]lms.Enrollment, len(all))
	for i, e := range all {
		reversed[len(all)-1-i] = e
	}
	a, b := sampleEnrollments(all, 50), sampleEnrollments(reversed, 50)
	if len(a) != 50 || len(b) != 50 {
		t.Fatalf("sample sizes %d and %d, want 50", len(a), len(b))
	}
	for i := range a {
		if a[i].ID != b[i].ID {
			t.Fatalf("samples differ with the input's order: %v vs %v", a, b)
		}
		if i > 0 && (a[i-1].CourseID > a[i].CourseID || a[i-1].CourseID == a[i].CourseID && a[i-1].ID >= a[i].ID) {
			t.Errorf("sample not in course and id order at %d: %v, %v", i, a[i-1], a[i])
		}
	}
	big := map[int]bool{}
	for _, e := range sampleEnrollments(all, 200) {
		big[e.ID] = true
	}
	low := 0
	for _, e := range a {
		if !big[e.ID] {
			t.Errorf("enrollment %d is in the sample of 50, not in that of 200", e.ID)
		}
		if e.ID <= 500 {
			low++
		}
	}
	// A random sample, not the first ids: about half from each half.
	if low < 10 || low > 40 {
		t.Errorf("%d of 50 sampled ids are in the lower half", low)
	}
	if got := sampleEnrollments(all[:10], 50); len(got) != 10 {
		t.Errorf("a sample larger than its population: %d", len(got))
	}
	if got := sampleEnrollments(all, 0); len(got) != 0 {
		t.Errorf("an empty sample: %d", len(got))
	}
}
