package pipeline

import (
	"context"
	"math"
	"math/big"

	"github.com/figures-analytics/figures/internal/store"
)

// aggregates writes a day's course and site metrics, the day's monthly
// active enrollments and the month-to-date MAU rows. withProgress says
// whether the courses' average progress is computed from the enrollment
// data now (a run for the day) or left as stored (a backfill, which cannot
// know past progress).
func (rn *runner) aggregates(ctx context.Context, day *dayActivity, withProgress bool) error {
	d := day.date
	courses := rn.scope.CourseIDs()
	counts, err := rn.st.CourseCountsOn(ctx, courses, d, rn.cfg.Completion)
	if err != nil {
		return err
	}
	var mae []store.ActiveEnrollment
	for _, c := range courses {
		for u := range day.modified[c] {
			for _, site := range rn.scope.CourseSites[c] {
				mae = append(mae, store.ActiveEnrollment{SiteID: site, CourseID: c, UserID: u, Day: d})
			}
		}
	}
	if err := rn.st.SaveActiveEnrollments(ctx, mae); err != nil {
		return err
	}
	for _, site := range rn.scope.Sites {
		if err := ctx.Err(); err != nil {
			return err
		}
		var avg map[string]float64
		if withProgress {
			if avg, err = rn.st.AverageProgress(ctx, site.ID); err != nil {
				return err
			}
		}
		siteCourses := rn.scope.SiteCourses[site.ID]
		var rows []store.CourseDaily
		enrollments, courseCount := 0, 0
		activeUsers := map[int]bool{}
		for _, c := range siteCourses {
			cc := counts[c]
			row := store.CourseDaily{SiteID: site.ID, CourseID: c, DateFor: d,
				EnrollmentCount: cc.Enrollments, ActiveLearnersToday: len(day.modified[c]),
				NumLearnersCompleted: cc.Completions}
			if v, ok := avg[c]; ok {
				q := quantize2(v)
				row.AverageProgress = &q
			}
			if len(cc.DaysToComplete) > 0 {
				sum := 0
				for _, n := range cc.DaysToComplete {
					sum += n
				}
				v := int(math.RoundToEven(float64(sum) / float64(len(cc.DaysToComplete))))
				row.AverageDaysToComplete = &v
			}
			rows = append(rows, row)
			enrollments += cc.Enrollments
			if cc.FirstEnrollment != nil && cc.FirstEnrollment.Before(d.End()) {
				courseCount++
			}
			for u := range day.modified[c] {
				activeUsers[u] = true
			}
		}
		if err := rn.st.SaveCourseDaily(ctx, rows, !withProgress); err != nil {
			return err
		}
		mtd, byCourse, err := rn.st.MonthToDate(ctx, site.ID, d)
		if err != nil {
			return err
		}
		if err := rn.st.SaveMonthly(ctx, site.ID, d, mtd, byCourse, siteCourses); err != nil {
			return err
		}
		if len(rn.cfg.Courses) > 0 {
			// A site's daily row sums all its courses; with a course filter
			// only some were counted.
			continue
		}
		users, err := rn.st.SiteUserCount(ctx, site, d)
		if err != nil {
			return err
		}
		prev, err := rn.st.PreviousCumulative(ctx, site.ID, d)
		if err != nil {
			return err
		}
		today := len(activeUsers)
		cum := prev + today
		if err := rn.st.SaveSiteDaily(ctx, store.SiteDaily{SiteID: site.ID, DateFor: d,
			CumulativeActiveUserCount: &cum, TodaysActiveUserCount: &today, TotalUserCount: users,
			CourseCount: courseCount, TotalEnrollmentCount: enrollments, MAU: &mtd}); err != nil {
			return err
		}
	}
	rn.rep.Days = append(rn.rep.Days, d)
	return nil
}

// quantize2 rounds v to two decimals half to even, exactly as Python's
// Decimal(v).quantize(Decimal('.00')) does: on v's exact binary value, not
// on a decimal approximation of it.
func quantize2(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	r := new(big.Rat).SetFloat64(v)
	r.Mul(r, big.NewRat(100, 1))
	// Split into integer part and remainder, then round half to even.
	num, den := r.Num(), r.Denom()
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	if m.Sign() != 0 {
		twice := new(big.Int).Mul(new(big.Int).Abs(m), big.NewInt(2))
		switch c := twice.Cmp(den); {
		case c > 0, c == 0 && q.Bit(0) == 1:
			if num.Sign() < 0 {
				q.Sub(q, big.NewInt(1))
			} else {
				q.Add(q, big.NewInt(1))
			}
		}
	}
	f, _ := new(big.Rat).SetFrac(q, big.NewInt(100)).Float64()
	return f
}
