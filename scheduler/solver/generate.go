package solver

import (
	"fmt"
	"math/rand/v2"
	"strconv"
)

// Generate makes a realistic, valid random problem for tests and benchmarks: about one
// institution per ten appraisers, each practising two to four of eight categories, with its
// rooms; appraisers with one to three categories, daily caps of 1–3 and busy blocks (an hour,
// a half day, a whole day, a trip over several nights); summons of 30 min to 3 h, remote or
// in person, named (a few popular experts are named far more often) or pooled, with one to
// three windows of a few hours to several days. The horizon starts on Monday 2026-09-21 and
// crosses the Mid-Autumn (2026-09-25) and National Day (2026-10-01..07) holidays with their
// make-up Sunday 2026-09-27 and Saturday 2026-10-10. A few summons are infeasible on purpose
// (a window on a weekend, a pool asking for more appraisers than exist). The same arguments
// always give the same problem.
func Generate(seed int64, summons, appraisers, rooms, days int) *Problem {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x67656e))
	appraisers, days = max(appraisers, 1), max(days, 1)
	p := &Problem{
		Format: Format,
		Name:   fmt.Sprintf("gen-%d-%ds-%da-%dr-%dd", seed, summons, appraisers, rooms, days),
		Generator: map[string]string{"seed": strconv.FormatInt(seed, 10), "summons": strconv.Itoa(summons),
			"appraisers": strconv.Itoa(appraisers), "rooms": strconv.Itoa(rooms), "days": strconv.Itoa(days)},
		Calendar: Calendar{
			StartDate: "2026-09-21",
			NumDays:   days,
			Holidays: []string{"2026-09-25", "2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06",
				"2026-10-07", "2027-01-01"},
			Workdays: []string{"2026-09-27", "2026-10-10"},
		},
	}
	g := generator{p: p, rng: rng}
	g.days = p.Calendar.workingDays()

	for i, name := range categoryNames {
		p.Categories = append(p.Categories, Category{ID: fmt.Sprintf("c%d", i+1), Name: name})
	}
	nInst := min(max(appraisers/10, 2), 150)
	g.instCats = make([][]string, nInst)
	g.members = make([][]int, nInst)
	for i := 0; i < nInst; i++ {
		p.Institutions = append(p.Institutions, Institution{ID: fmt.Sprintf("i%02d", i+1),
			Name: fmt.Sprintf("赣州%s司法鉴定中心", instPlaces[i%len(instPlaces)]) + suffix(i/len(instPlaces))})
		for _, c := range rng.Perm(len(categoryNames))[:2+rng.IntN(3)] {
			g.instCats[i] = append(g.instCats[i], p.Categories[c].ID)
		}
	}
	nCourts := min(max(summons/50, 2), 40)
	for i := 0; i < nCourts; i++ {
		p.Courts = append(p.Courts, Court{ID: fmt.Sprintf("ct%02d", i+1), Name: courtNames[i%len(courtNames)] + suffix(i/len(courtNames))})
	}
	for i := 0; i < appraisers; i++ {
		g.appraiser(i, appraisers, nInst)
	}
	for i := 0; i < rooms; i++ {
		inst := i
		if i >= nInst {
			inst = rng.IntN(nInst)
		}
		p.Rooms = append(p.Rooms, Room{ID: idOf("r", i, rooms), Name: fmt.Sprintf("远程作证室%d", i+1),
			Institution: p.Institutions[inst].ID})
	}
	for i := 0; i < summons; i++ {
		g.summons(i, summons, nCourts)
	}
	return p
}

var (
	categoryNames = []string{"法医临床", "法医病理", "法医精神病", "法医物证", "法医毒物", "文书鉴定", "痕迹鉴定", "声像资料"}
	instPlaces    = []string{"章贡", "南康", "赣县", "信丰", "大余", "上犹", "崇义", "安远", "龙南", "定南", "全南", "宁都", "于都", "兴国", "会昌", "寻乌", "石城", "瑞金"}
	courtNames    = []string{"赣州市中级人民法院", "章贡区人民法院", "南康区人民法院", "赣县区人民法院", "信丰县人民法院", "于都县人民法院", "瑞金市人民法院", "兴国县人民法院"}
	durations     = []int{30, 45, 60, 60, 90, 90, 120, 180}
)

func suffix(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("（%d）", n+1)
}

// idOf returns prefix+i+1, zero-padded to the width of n so that id order is numeric order.
func idOf(prefix string, i, n int) string {
	return fmt.Sprintf("%s%0*d", prefix, len(strconv.Itoa(n)), i+1)
}

type generator struct {
	p        *Problem
	rng      *rand.Rand
	days     []int      // horizon day numbers
	instCats [][]string // categories practised per institution
	members  [][]int    // appraisers per institution
}

// at formats minute-of-day min of day number day.
func at(day, min int) string { return formatTime(day*minutesPerDay + min) }

// randomDay returns a calendar day between the first and the last horizon day.
func (g *generator) randomDay() int {
	first, last := g.days[0], g.days[len(g.days)-1]
	return first + g.rng.IntN(last-first+1)
}

func (g *generator) appraiser(i, n, nInst int) {
	p, rng := g.p, g.rng
	inst := i % nInst
	if rng.IntN(3) == 0 {
		inst = rng.IntN(nInst)
	}
	g.members[inst] = append(g.members[inst], i)
	a := Appraiser{ID: idOf("a", i, n), Institution: p.Institutions[inst].ID, Name: fmt.Sprintf("鉴定人%d", i+1)}
	cats := g.instCats[inst]
	for _, c := range rng.Perm(len(cats))[:1+rng.IntN(min(3, len(cats)))] {
		a.Categories = append(a.Categories, cats[c])
	}
	switch r := rng.IntN(20); {
	case r < 3:
		a.MaxPerDay = 1
	case r < 6:
		a.MaxPerDay = 3
	}
	for b := rng.IntN(4); b > 0; b-- {
		d := g.randomDay()
		var iv Interval
		switch rng.IntN(4) {
		case 0: // an hour
			h := 8*60 + 30*rng.IntN(18)
			iv = Interval{Start: at(d, h), End: at(d, h+60)}
		case 1: // a half day
			if rng.IntN(2) == 0 {
				iv = Interval{Start: at(d, 8*60), End: at(d, 12*60+30)}
			} else {
				iv = Interval{Start: at(d, 13*60+30), End: at(d, 18*60)}
			}
		case 2: // a whole day
			iv = Interval{Start: at(d, 0), End: at(d+1, 0)}
		default: // a trip over nights
			iv = Interval{Start: at(d, 18*60), End: at(d+2+rng.IntN(3), 12*60)}
		}
		a.Busy = append(a.Busy, iv)
	}
	p.Appraisers = append(p.Appraisers, a)
}

func (g *generator) summons(i, n, nCourts int) {
	p, rng := g.p, g.rng
	s := Summons{ID: idOf("s", i, n), Court: p.Courts[rng.IntN(nCourts)].ID,
		DurationMinutes: durations[rng.IntN(len(durations))], Mode: InPerson}
	if rng.IntN(100) < 55 {
		s.Mode = Remote
	}
	if rng.IntN(2) == 0 {
		// Named: a popular expert more often than not (u² skews to the first appraisers).
		u := rng.Float64()
		first := int(u * u * float64(len(p.Appraisers)))
		inst := g.instOf(first)
		s.Named = []string{p.Appraisers[first].ID}
		want := 1
		if r := rng.IntN(10); r >= 6 {
			want = 2 + r/9
		}
		for _, o := range rng.Perm(len(g.members[inst])) {
			if len(s.Named) >= want {
				break
			}
			if id := p.Appraisers[g.members[inst][o]].ID; id != s.Named[0] {
				s.Named = append(s.Named, id)
			}
		}
	} else {
		inst := rng.IntN(len(p.Institutions))
		for len(g.members[inst]) == 0 {
			inst = rng.IntN(len(p.Institutions))
		}
		cat := p.Appraisers[g.members[inst][rng.IntN(len(g.members[inst]))]].Categories[0]
		size := 0
		for _, a := range g.members[inst] {
			if contains(p.Appraisers[a].Categories, cat) {
				size++
			}
		}
		k := 1
		switch r := rng.IntN(100); {
		case r < 3 && size <= 2:
			k = size + 1 // infeasible on purpose: a small group asked for one too many
		case r < 13:
			k = min(3, size)
		case r < 43:
			k = min(2, size)
		}
		s.Pool = &Pool{Institution: p.Institutions[inst].ID, Category: cat, K: k}
	}
	for w := 1 + rng.IntN(3)*rng.IntN(2); w > 0; w-- {
		s.Windows = append(s.Windows, g.window(s.DurationMinutes))
	}
	if rng.IntN(100) == 0 { // a window on a weekend that is no working day
		d := g.days[0] - 2 // the Saturday before the start
		s.Windows = []Interval{{Start: at(d, 9*60), End: at(d, 17*60)}}
	}
	p.Summons = append(p.Summons, s)
}

func (g *generator) instOf(a int) int {
	for i, m := range g.members {
		for _, x := range m {
			if x == a {
				return i
			}
		}
	}
	return 0
}

// window returns an acceptable interval of a few hours to several days, at least an hour
// longer than the hearing.
func (g *generator) window(dur int) Interval {
	rng := g.rng
	d := g.days[rng.IntN(len(g.days))]
	start := 8*60 + 30*rng.IntN(17)
	if rng.IntN(10) == 0 {
		start += 10 // not on a slot boundary
	}
	switch r := rng.IntN(10); {
	case r < 4:
		start = min(start, 17*60-dur)
		return Interval{Start: at(d, start), End: at(d, min(start+max(120, dur+60)+30*rng.IntN(5), 18*60))}
	case r < 7:
		return Interval{Start: at(d, start), End: at(d, 18*60)}
	case r < 9:
		return Interval{Start: at(d, start), End: at(d+1+rng.IntN(2), 18*60)}
	}
	return Interval{Start: at(d, start), End: at(d+3+rng.IntN(3), 18*60)}
}
