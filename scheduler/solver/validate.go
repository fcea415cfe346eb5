package solver

import (
	"fmt"
	"sort"
	"strings"
)

// Validate checks everything SCHEDULING.md requires of a problem and that JSON types cannot
// say: the format string, dates and times, unique ids, references to known ids, durations
// that are positive multiples of 15, non-empty windows with end after start, exactly one of
// named and pool, k >= 1, num_days >= 1, and the instance invariant that the named
// appraisers of a remote summons share one institution. It returns nil, a *FieldError, or
// several joined.
func (p *Problem) Validate() error {
	var errs fieldErrors
	if p.Format != Format {
		errs.add("format", "%q is not %q", p.Format, Format)
	}
	validateCalendar(&p.Calendar, &errs)

	insts := indexIDs("institutions", len(p.Institutions), func(i int) string { return p.Institutions[i].ID }, &errs)
	cats := indexIDs("categories", len(p.Categories), func(i int) string { return p.Categories[i].ID }, &errs)
	courts := indexIDs("courts", len(p.Courts), func(i int) string { return p.Courts[i].ID }, &errs)
	aps := indexIDs("appraisers", len(p.Appraisers), func(i int) string { return p.Appraisers[i].ID }, &errs)
	indexIDs("rooms", len(p.Rooms), func(i int) string { return p.Rooms[i].ID }, &errs)
	indexIDs("summons", len(p.Summons), func(i int) string { return p.Summons[i].ID }, &errs)

	for i, a := range p.Appraisers {
		path := fmt.Sprintf("appraisers[%d]", i)
		ref(path+".institution", "institution", a.Institution, insts, &errs)
		seen := map[string]bool{}
		for j, c := range a.Categories {
			cp := fmt.Sprintf("%s.categories[%d]", path, j)
			ref(cp, "category", c, cats, &errs)
			if seen[c] {
				errs.add(cp, "category %q listed twice", c)
			}
			seen[c] = true
		}
		if a.MaxPerDay < 0 {
			errs.add(path+".max_per_day", "must not be negative, got %d", a.MaxPerDay)
		}
		for j, b := range a.Busy {
			validateInterval(fmt.Sprintf("%s.busy[%d]", path, j), b, &errs)
		}
	}
	for i, r := range p.Rooms {
		ref(fmt.Sprintf("rooms[%d].institution", i), "institution", r.Institution, insts, &errs)
	}
	for i := range p.Summons {
		validateSummons(p, i, insts, cats, courts, aps, &errs)
	}
	return errs.err()
}

func validateCalendar(c *Calendar, errs *fieldErrors) {
	if _, ok := parseDate(c.StartDate); !ok {
		errs.add("calendar.start_date", "%q is not YYYY-MM-DD", c.StartDate)
	}
	if c.NumDays < 1 {
		errs.add("calendar.num_days", "must be at least 1, got %d", c.NumDays)
	} else if c.NumDays > maxNumDays {
		errs.add("calendar.num_days", "must be at most %d, got %d", maxNumDays, c.NumDays)
	}
	for i, h := range c.Holidays {
		if _, ok := parseDate(h); !ok {
			errs.add(fmt.Sprintf("calendar.holidays[%d]", i), "%q is not YYYY-MM-DD", h)
		}
	}
	for i, w := range c.Workdays {
		path := fmt.Sprintf("calendar.workdays[%d]", i)
		if d, ok := parseDate(w); !ok {
			errs.add(path, "%q is not YYYY-MM-DD", w)
		} else if !weekend(d) {
			// A make-up working day (调休) is by definition a Saturday or Sunday; a weekday
			// here is a typo for a holiday or a wrong year.
			errs.add(path, "%s is a %s, not a weekend date", w, weekday(d))
		}
	}
}

func validateInterval(path string, iv Interval, errs *fieldErrors) {
	s, ok1 := parseTime(iv.Start)
	if !ok1 {
		errs.add(path+".start", "%q is not YYYY-MM-DDTHH:MM", iv.Start)
	}
	e, ok2 := parseTime(iv.End)
	if !ok2 {
		errs.add(path+".end", "%q is not YYYY-MM-DDTHH:MM", iv.End)
	}
	if ok1 && ok2 && e <= s {
		errs.add(path, "end %s is not after start %s", iv.End, iv.Start)
	}
}

func validateSummons(p *Problem, i int, insts, cats, courts, aps map[string]int, errs *fieldErrors) {
	s := &p.Summons[i]
	path := fmt.Sprintf("summons[%d]", i)
	ref(path+".court", "court", s.Court, courts, errs)
	if s.DurationMinutes <= 0 || s.DurationMinutes%slotMinutes != 0 {
		errs.add(path+".duration_minutes", "%d is not a positive multiple of 15", s.DurationMinutes)
	}
	if s.Mode != Remote && s.Mode != InPerson {
		errs.add(path+".mode", "%q is not %q or %q", s.Mode, Remote, InPerson)
	}
	if len(s.Windows) == 0 {
		errs.add(path+".windows", "must not be empty")
	}
	for j, w := range s.Windows {
		validateInterval(fmt.Sprintf("%s.windows[%d]", path, j), w, errs)
	}
	switch {
	case (s.Named != nil) == (s.Pool != nil):
		errs.add(path, "exactly one of named and pool")
	case s.Named != nil:
		if len(s.Named) == 0 {
			errs.add(path+".named", "must not be empty")
		}
		seen := map[string]bool{}
		instSet := map[string]bool{}
		for j, id := range s.Named {
			np := fmt.Sprintf("%s.named[%d]", path, j)
			if ref(np, "appraiser", id, aps, errs) {
				instSet[p.Appraisers[aps[id]].Institution] = true
			}
			if seen[id] {
				errs.add(np, "appraiser %q listed twice", id)
			}
			seen[id] = true
		}
		if s.Mode == Remote && len(instSet) > 1 {
			list := make([]string, 0, len(instSet))
			for k := range instSet {
				list = append(list, k)
			}
			sort.Strings(list)
			errs.add(path+".named", "a remote summons needs its appraisers in one institution, got %s",
				strings.Join(list, ", "))
		}
	default:
		ref(path+".pool.institution", "institution", s.Pool.Institution, insts, errs)
		ref(path+".pool.category", "category", s.Pool.Category, cats, errs)
		if s.Pool.K < 1 {
			errs.add(path+".pool.k", "must be at least 1, got %d", s.Pool.K)
		}
	}
}

// indexIDs maps the ids of one entity list to their index, reporting empty and duplicate ids.
func indexIDs(list string, n int, id func(int) string, errs *fieldErrors) map[string]int {
	m := make(map[string]int, n)
	for i := 0; i < n; i++ {
		v := id(i)
		path := fmt.Sprintf("%s[%d].id", list, i)
		if v == "" {
			errs.add(path, "must not be empty")
			continue
		}
		if j, dup := m[v]; dup {
			errs.add(path, "duplicate id %q (first at %s[%d])", v, list, j)
			continue
		}
		m[v] = i
	}
	return m
}

// ref reports a reference to an unknown id; it returns whether the id is known.
func ref(path, what, id string, ids map[string]int, errs *fieldErrors) bool {
	if _, ok := ids[id]; !ok {
		errs.add(path, "unknown %s %q", what, id)
		return false
	}
	return true
}
