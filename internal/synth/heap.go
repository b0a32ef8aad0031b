package synth

import "sort"

// smRow is a StudentModule row waiting in the reorder buffer: compact, so
// that the rows of the enrollments still active while the generator walks
// forward through enrollment dates fit in memory.
type smRow struct {
	created, modified int64
	aux               uint64
	grade             float64
	student           int32
	module            int32
	course            int16
	attempts          uint16
	scored            bool
}

// less orders rows by creation, ties broken by learner, course and
// module, so the write order is a function of the rows alone.
func (a *smRow) less(b *smRow) bool {
	if a.created != b.created {
		return a.created < b.created
	}
	if a.student != b.student {
		return a.student < b.student
	}
	if a.course != b.course {
		return a.course < b.course
	}
	return a.module < b.module
}

// rowHeap is a binary min-heap of rows by creation time. Enrollments are
// simulated in order of enrollment, and no row is created before its
// enrollment, so every row older than the current enrollment can leave the
// heap: it holds only the rows of learners still active, never the table.
type rowHeap struct {
	rows []smRow
	peak int
}

func (h *rowHeap) len() int    { return len(h.rows) }
func (h *rowHeap) min() *smRow { return &h.rows[0] }
func (h *rowHeap) push(r smRow) {
	h.rows = append(h.rows, r)
	h.up(len(h.rows) - 1)
	h.peak = max(h.peak, len(h.rows))
}

func (h *rowHeap) pop() smRow {
	top := h.rows[0]
	n := len(h.rows) - 1
	h.rows[0] = h.rows[n]
	h.rows = h.rows[:n]
	if n > 0 {
		h.down(0)
	}
	if cap(h.rows) > 1<<16 && len(h.rows) < cap(h.rows)/4 {
		// Give memory back after a burst.
		h.rows = append([]smRow(nil), h.rows...)
	}
	return top
}

func (h *rowHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.rows[i].less(&h.rows[p]) {
			return
		}
		h.rows[i], h.rows[p] = h.rows[p], h.rows[i]
		i = p
	}
}

func (h *rowHeap) down(i int) {
	n := len(h.rows)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.rows[r].less(&h.rows[l]) {
			m = r
		}
		if !h.rows[m].less(&h.rows[i]) {
			return
		}
		h.rows[i], h.rows[m] = h.rows[m], h.rows[i]
		i = m
	}
}

// sortSubGrades orders subsection grades in course order.
func sortSubGrades(s []subGrade) { sort.Slice(s, func(a, b int) bool { return s[a].sub < s[b].sub }) }

// sortByModified orders subsection grades by when they were saved.
func sortByModified(s []subGrade) {
	sort.Slice(s, func(a, b int) bool {
		if s[a].modified != s[b].modified {
			return s[a].modified < s[b].modified
		}
		return s[a].sub < s[b].sub
	})
}
