package course

// Summary is what `figures course inspect --json` prints: an outline's
// counts, as a learner with no recorded library selection sees it.
type Summary struct {
	CourseID              string              `json:"course_id"`
	Chapters              int                 `json:"chapters"`
	Subsections           int                 `json:"subsections"`
	GradedSubsections     int                 `json:"graded_subsections"`
	ScorableBlocks        int                 `json:"scorable_blocks"`
	SubsectionsWithPoints int                 `json:"subsections_with_points"`
	PointsPossible        float64             `json:"points_possible"`
	SubsectionList        []SubsectionSummary `json:"subsection_list"`
}

// SubsectionSummary is one entry of Summary.SubsectionList.
type SubsectionSummary struct {
	UsageKey    string  `json:"usage_key"`
	DisplayName string  `json:"display_name"`
	Graded      bool    `json:"graded"`
	Format      *string `json:"format"`
	Possible    float64 `json:"possible"`
}

// Summarize counts the outline's content for learners: staff-only content
// is left out; content released later or restricted to some learners
// (groups, tracks, experiment branches: every branch) counts. A
// library_content block counts as the children a learner with no recorded
// selection sees (Library.DefaultSelection); a weight-0 block is still a
// scorable block.
func (o *Outline) Summarize() Summary {
	o = o.learnerContent()
	s := Summary{CourseID: o.CourseID, Chapters: len(o.Chapters), SubsectionList: []SubsectionSummary{}}
	for _, sub := range o.Subsections() {
		s.Subsections++
		if sub.Graded {
			s.GradedSubsections++
		}
		blocks := sub.VisibleBlocks(nil)
		s.ScorableBlocks += len(blocks)
		p := sub.Possible()
		if p > 0 {
			s.SubsectionsWithPoints++
		}
		s.PointsPossible += p
		var format *string
		if sub.Format != "" {
			f := sub.Format
			format = &f
		}
		s.SubsectionList = append(s.SubsectionList, SubsectionSummary{
			UsageKey: sub.UsageKey, DisplayName: sub.DisplayName, Graded: sub.Graded, Format: format, Possible: p,
		})
	}
	return s
}

// learnerContent returns the outline without its staff-only content.
func (o *Outline) learnerContent() *Outline {
	out := *o
	out.Chapters = []Chapter{}
	return o.filter(func(a Access) bool { return !a.StaffOnly }, &out)
}
