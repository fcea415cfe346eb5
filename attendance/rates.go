package attendance

import (
	"cmp"
	"context"
	"math"
	"slices"
	"time"

	"github.com/chuting/chuting"
)

// Appearance rates (出庭作证率, #42). No official formula was found (DOMAIN.md §5.6), so the
// product's: each summoned appraiser on each summons is one unit, due when its hearing slot
// starts. A unit is served (counted) once its attendance is settled; pending and cancelled
// ones are not. The rate is appeared ÷ served; excused absences and technical failures,
// which are not the appraiser's doing, are shown apart, with a second rate that leaves them
// out of the denominator.

// Dimension is what rates are grouped by.
type Dimension string

// Dimensions.
const (
	ByAppraiser   Dimension = "appraiser"
	ByInstitution Dimension = "institution"
	ByCategory    Dimension = "category"
	ByCourt       Dimension = "court"
	ByMonth       Dimension = "month" // the period, YYYY-MM in Asia/Shanghai
)

// Dimensions lists every dimension.
func Dimensions() []Dimension {
	return []Dimension{ByAppraiser, ByInstitution, ByCategory, ByCourt, ByMonth}
}

// Tally is the count of units of one group, by status.
type Tally struct {
	Key                string `json:"key"`  // the ID, category or month
	Name               string `json:"name"` // what people call it
	Served             int    `json:"served"`
	Appeared           int    `json:"appeared"`
	Remote             int    `json:"remote"`
	InPerson           int    `json:"in_person"`
	Late               int    `json:"late"`
	LeftEarly          int    `json:"left_early"`
	WalkedOut          int    `json:"walked_out"`
	Excused            int    `json:"excused"`
	TechnicalFailure   int    `json:"technical_failure"`
	AbsentWithoutCause int    `json:"absent_without_cause"`
	NoShow             int    `json:"no_show"`
	Pending            int    `json:"pending"` // due in the period but not settled: not in served
	// Rate is appeared ÷ served, to four places; nil when nothing was served.
	Rate *float64 `json:"rate"`
	// RateExcludingJustified is appeared ÷ (served − excused − technical failures).
	RateExcludingJustified *float64 `json:"rate_excluding_justified"`
}

// Add counts one unit.
func (t *Tally) Add(r Result) {
	switch {
	case r.Status == Pending:
		t.Pending++
		return
	case !r.Status.Settled():
		return
	}
	t.Served++
	if r.Appeared {
		t.Appeared++
		if r.InPerson {
			t.InPerson++
		} else {
			t.Remote++
		}
		if r.Late {
			t.Late++
		}
		if r.LeftEarly {
			t.LeftEarly++
		}
	}
	switch r.Status {
	case WalkedOut:
		t.WalkedOut++
	case Excused:
		t.Excused++
	case TechnicalFailure:
		t.TechnicalFailure++
	case AbsentWithoutCause:
		t.AbsentWithoutCause++
	case NoShow:
		t.NoShow++
	}
}

// finish computes the rates.
func (t *Tally) finish() {
	t.Rate = ratio(t.Appeared, t.Served)
	t.RateExcludingJustified = ratio(t.Appeared, t.Served-t.Excused-t.TechnicalFailure)
}

func ratio(a, b int) *float64 {
	if b <= 0 {
		return nil
	}
	v := math.Round(float64(a)/float64(b)*10000) / 10000
	return &v
}

// Unit is one summoned appraiser's attendance on one summons: what rates count.
type Unit struct {
	Summons     *chuting.Summons
	AppraiserID string
	Category    string
	Due         time.Time // the hearing slot's start
	Result      Result
}

// Units returns the units due in [from, to) that keep selects (nil keeps all): those of the
// summons whose hearing starts then, and of the excused ones (which have no hearing left)
// whose slot started then. Cancelled summons are left out.
func (s *Service) Units(ctx context.Context, from, to time.Time, keep func(sm *chuting.Summons, appraiserID string) bool) ([]Unit, error) {
	ids, err := s.summonsOfHearings(ctx, from, to)
	if err != nil {
		return nil, err
	}
	listed := make(map[string]bool, len(ids))
	for _, id := range ids {
		listed[id] = true
	}
	q := chuting.Equal(chuting.KindSummons, chuting.IndexState, chuting.SummonsExcused.String())
	q.Limit = chuting.MaxLimit
	for {
		page, next, err := chuting.Find[chuting.Summons](ctx, s.store, q)
		if err != nil {
			return nil, err
		}
		for _, sm := range page {
			if sm.Slot != nil && !sm.Slot.Start.Before(from) && sm.Slot.Start.Before(to) && !listed[sm.ID] {
				listed[sm.ID] = true
				ids = append(ids, sm.ID)
			}
		}
		if next == "" {
			break
		}
		q.After = next
	}
	users := map[string][]string{}
	categories := map[string]string{} // opinion ID → category
	var out []Unit
	for _, id := range ids {
		sm, err := chuting.Load[chuting.Summons](ctx, s.store, id)
		if chuting.ErrorCode(err) == chuting.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		if sm.Slot == nil || sm.State == chuting.SummonsCancelled || sm.Slot.Start.Before(from) || !sm.Slot.Start.Before(to) {
			continue
		}
		if keep != nil && !slices.ContainsFunc(sm.Summoned(), func(a string) bool { return keep(sm, a) }) {
			continue
		}
		results, err := s.of(ctx, sm, users)
		if err != nil {
			return nil, err
		}
		category := s.category(ctx, sm, categories)
		for _, r := range results {
			if keep == nil || keep(sm, r.AppraiserID) {
				out = append(out, Unit{Summons: sm, AppraiserID: r.AppraiserID, Category: category, Due: sm.Slot.Start, Result: r})
			}
		}
	}
	return out, nil
}

// category is the appraisal category a summons is about: its pool's, or its opinion's.
func (s *Service) category(ctx context.Context, sm *chuting.Summons, cache map[string]string) string {
	if sm.Pool != nil && sm.Pool.Category != "" {
		return sm.Pool.Category
	}
	if sm.OpinionID == "" {
		return ""
	}
	if c, ok := cache[sm.OpinionID]; ok {
		return c
	}
	c := ""
	if o, err := chuting.Load[chuting.Opinion](ctx, s.store, sm.OpinionID); err == nil {
		c = o.Category
	}
	cache[sm.OpinionID] = c
	return c
}

// Table is a set of tallies grouped by one dimension, with their total.
type Table struct {
	By    Dimension `json:"by"`
	From  string    `json:"from"` // the first day, YYYY-MM-DD (Asia/Shanghai)
	To    string    `json:"to"`   // the last day
	Rows  []Tally   `json:"rows"`
	Total Tally     `json:"total"`
}

// keyOf returns the group of u under by.
func keyOf(u Unit, by Dimension) string {
	switch by {
	case ByAppraiser:
		return u.AppraiserID
	case ByInstitution:
		return u.Summons.InstitutionID
	case ByCategory:
		return u.Category
	case ByCourt:
		return u.Summons.CourtID
	case ByMonth:
		return u.Due.In(chuting.ChinaZone()).Format("2006-01")
	}
	return ""
}

// Group tallies units by one dimension, naming each group from the store (an appraiser's,
// institution's or court's name), rows in name order; from and to (exclusive) label the
// table. Units of a group with no key (a summons with no category) are tallied under "".
func (s *Service) Group(ctx context.Context, units []Unit, by Dimension, from, to time.Time) Table {
	groups := map[string]*Tally{}
	t := Table{By: by, From: chuting.DateOf(from.In(chuting.ChinaZone())).String(),
		To: chuting.DateOf(to.Add(-time.Nanosecond).In(chuting.ChinaZone())).String(), Rows: []Tally{},
		Total: Tally{Key: "total", Name: "合计 / total"}}
	for _, u := range units {
		k := keyOf(u, by)
		g := groups[k]
		if g == nil {
			g = &Tally{Key: k, Name: s.name(ctx, by, k)}
			groups[k] = g
		}
		g.Add(u.Result)
		t.Total.Add(u.Result)
	}
	for _, g := range groups {
		g.finish()
		t.Rows = append(t.Rows, *g)
	}
	slices.SortFunc(t.Rows, func(a, b Tally) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Key, b.Key)) })
	t.Total.finish()
	return t
}

// name returns what people call a group's key.
func (s *Service) name(ctx context.Context, by Dimension, key string) string {
	switch by {
	case ByAppraiser:
		if a, err := chuting.Load[chuting.Appraiser](ctx, s.store, key); err == nil {
			return a.Name
		}
	case ByInstitution:
		if in, err := chuting.Load[chuting.Institution](ctx, s.store, key); err == nil {
			return in.Name
		}
	case ByCourt:
		if c, err := chuting.Load[chuting.Court](ctx, s.store, key); err == nil {
			return c.Name
		}
	case ByCategory:
		if key == "" {
			return "（未分类）/ (none)"
		}
	}
	return key
}

// Rates returns the tallies of the units due from the first instant of from's day to the
// end of to's day (Asia/Shanghai), that keep selects, grouped by by.
func (s *Service) Rates(ctx context.Context, by Dimension, from, to chuting.Date,
	keep func(sm *chuting.Summons, appraiserID string) bool) (Table, error) {
	start, end := dayStart(from), dayStart(to).AddDate(0, 0, 1)
	units, err := s.Units(ctx, start, end, keep)
	if err != nil {
		return Table{}, err
	}
	return s.Group(ctx, units, by, start, end), nil
}

// dayStart is the first instant of d in Asia/Shanghai.
func dayStart(d chuting.Date) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, chuting.ChinaZone())
}
