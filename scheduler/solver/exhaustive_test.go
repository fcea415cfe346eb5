package solver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// smallProblem makes an instance small enough to enumerate: one or two working days (Friday
// 2026-10-09 and the make-up Saturday 2026-10-10), 3–5 appraisers in two institutions, 1–2
// rooms, 4–6 summons with one or two windows of one to three hours.
func smallProblem(seed uint64) *Problem {
	rng := rand.New(rand.NewPCG(seed, 7))
	days := 1 + rng.IntN(2)
	p := &Problem{Format: Format, Name: fmt.Sprintf("small-%d", seed),
		Calendar:     Calendar{StartDate: "2026-10-09", NumDays: days, Workdays: []string{"2026-10-10"}},
		Institutions: []Institution{{ID: "i1"}, {ID: "i2"}},
		Categories:   []Category{{ID: "c1"}, {ID: "c2"}},
		Courts:       []Court{{ID: "ct"}},
	}
	dates := []string{"2026-10-09", "2026-10-10"}[:days]
	nA := 3 + rng.IntN(3)
	for i := 0; i < nA; i++ {
		a := Appraiser{ID: fmt.Sprintf("a%d", i+1), Institution: []string{"i1", "i1", "i2"}[i%3],
			MaxPerDay: rng.IntN(3)}
		switch rng.IntN(3) {
		case 0:
			a.Categories = []string{"c1"}
		case 1:
			a.Categories = []string{"c2"}
		default:
			a.Categories = []string{"c1", "c2"}
		}
		if rng.IntN(3) == 0 {
			h := 9 + rng.IntN(8)
			d := dates[rng.IntN(days)]
			a.Busy = []Interval{{Start: fmt.Sprintf("%sT%02d:00", d, h), End: fmt.Sprintf("%sT%02d:30", d, h+1)}}
		}
		p.Appraisers = append(p.Appraisers, a)
	}
	p.Rooms = []Room{{ID: "r1", Institution: "i1"}}
	if rng.IntN(2) == 0 {
		p.Rooms = append(p.Rooms, Room{ID: "r2", Institution: []string{"i1", "i2"}[rng.IntN(2)]})
	}
	nS := 4 + rng.IntN(3)
	for i := 0; i < nS; i++ {
		s := Summons{ID: fmt.Sprintf("s%d", i+1), Court: "ct", DurationMinutes: []int{30, 45, 60, 90}[rng.IntN(4)],
			Mode: []Mode{Remote, InPerson}[rng.IntN(2)]}
		if rng.IntN(2) == 0 {
			first := rng.IntN(nA)
			s.Named = []string{p.Appraisers[first].ID}
			if rng.IntN(3) == 0 {
				for j := 0; j < nA; j++ {
					if j != first && p.Appraisers[j].Institution == p.Appraisers[first].Institution {
						s.Named = append(s.Named, p.Appraisers[j].ID)
						break
					}
				}
			}
		} else {
			s.Pool = &Pool{Institution: []string{"i1", "i1", "i2"}[rng.IntN(3)], Category: []string{"c1", "c2"}[rng.IntN(2)],
				K: 1 + rng.IntN(2)*rng.IntN(2)}
		}
		for w := 1 + rng.IntN(2); w > 0; w-- {
			start := 8*60 + 15*rng.IntN(34)
			end := min(start+60+15*rng.IntN(9), 18*60)
			d := dates[rng.IntN(days)]
			s.Windows = append(s.Windows, Interval{Start: fmt.Sprintf("%sT%02d:%02d", d, start/60, start%60),
				End: fmt.Sprintf("%sT%02d:%02d", d, end/60, end%60)})
		}
		p.Summons = append(p.Summons, s)
	}
	return p
}

// option is one way to schedule a summons, in plain minutes, for the brute force.
type option struct {
	slot       int   // working slot index
	day        int   // working day index
	occS, occE int   // occupation, minutes from the first day's midnight
	resS, resE int   // room reservation
	aps        []int // attendee indices
	room       int   // -1 for in person
}

// bruteForce returns the optimal (N, Δ) of a small problem by enumerating every
// combination of options, written from the spec text without the solver's code.
func bruteForce(p *Problem) (int, int) {
	days := []string{"2026-10-09", "2026-10-10"}[:p.Calendar.NumDays]
	mins := func(s string) int { // minutes from 2026-10-09T00:00; only these two days occur
		var y, mo, d, h, mi int
		fmt.Sscanf(s, "%d-%d-%dT%d:%d", &y, &mo, &d, &h, &mi)
		return (d-9)*1440 + h*60 + mi
	}
	slotStart := func(t int) int {
		k := t % 28
		off := 8*60 + 30 + 15*k
		if k >= 14 {
			off = 14*60 + 15*(k-14)
		}
		return (t/28)*1440 + off
	}
	apIdx := map[string]int{}
	for i, a := range p.Appraisers {
		apIdx[a.ID] = i
	}
	opts := make([][]option, len(p.Summons))
	t0 := make([]int, len(p.Summons))
	for i, s := range p.Summons {
		first := 1 << 30
		for _, w := range s.Windows {
			first = min(first, mins(w.Start))
		}
		t0[i] = -1
		for t := 0; t < 28*len(days); t++ {
			if slotStart(t) >= first {
				t0[i] = t
				break
			}
		}
		var sets [][]int
		if s.Named != nil {
			var set []int
			for _, id := range s.Named {
				set = append(set, apIdx[id])
			}
			sets = [][]int{set}
		} else {
			var el []int
			for i, a := range p.Appraisers {
				if a.Institution == s.Pool.Institution && contains(a.Categories, s.Pool.Category) {
					el = append(el, i)
				}
			}
			var rec func(from int, cur []int)
			rec = func(from int, cur []int) {
				if len(cur) == s.Pool.K {
					sets = append(sets, append([]int(nil), cur...))
					return
				}
				for j := from; j < len(el); j++ {
					rec(j+1, append(cur, el[j]))
				}
			}
			rec(0, nil)
		}
		inst := ""
		if s.Pool != nil {
			inst = s.Pool.Institution
		} else {
			inst = p.Appraisers[apIdx[s.Named[0]]].Institution
		}
		for t := 0; t < 28*len(days); t++ {
			S := slotStart(t)
			E := S + s.DurationMinutes
			lunchOrNight := (t%28 < 14 && E > (t/28)*1440+12*60) || E > (t/28)*1440+17*60+30
			in := false
			for _, w := range s.Windows {
				in = in || (S >= mins(w.Start) && E <= mins(w.End))
			}
			if lunchOrNight || !in {
				continue
			}
			occS, occE := S, E
			if s.Mode == InPerson {
				occS, occE = S-60, E+60
			}
			for _, set := range sets {
				ok := true
				for _, a := range set {
					for _, b := range p.Appraisers[a].Busy {
						if occS < mins(b.End) && mins(b.Start) < occE {
							ok = false
						}
					}
				}
				if !ok {
					continue
				}
				o := option{slot: t, day: t / 28, occS: occS, occE: occE, resS: S, resE: E + 15, aps: set, room: -1}
				if s.Mode == InPerson {
					opts[i] = append(opts[i], o)
					continue
				}
				for r, room := range p.Rooms {
					if room.Institution == inst {
						o.room = r
						opts[i] = append(opts[i], o)
					}
				}
			}
		}
	}

	bestN, bestD := -1, 0
	var chosen []option
	var dfs func(i, n, delta int)
	dfs = func(i, n, delta int) {
		left := len(p.Summons) - i
		if n+left < bestN || (n+left == bestN && delta >= bestD) {
			return
		}
		if i == len(p.Summons) {
			bestN, bestD = n, delta
			return
		}
		for _, o := range opts[i] {
			ok := true
			for _, c := range chosen {
				for _, a := range o.aps {
					for _, b := range c.aps {
						if a == b && o.occS < c.occE && c.occS < o.occE {
							ok = false
						}
					}
				}
				if o.room >= 0 && o.room == c.room && o.resS < c.resE && c.resS < o.resE {
					ok = false
				}
			}
			for _, a := range o.aps {
				cap := p.Appraisers[a].MaxPerDay
				if cap == 0 {
					cap = 2
				}
				same := 1
				for _, c := range chosen {
					if c.day == o.day && containsInt(c.aps, a) {
						same++
					}
				}
				ok = ok && same <= cap
			}
			if ok {
				chosen = append(chosen, o)
				dfs(i+1, n+1, delta+o.slot-t0[i])
				chosen = chosen[:len(chosen)-1]
			}
		}
		dfs(i+1, n, delta)
	}
	dfs(0, 0, 0)
	return bestN, bestD
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// TestExhaustive checks on random small instances that Solve reaches the optimum of (N, Δ)
// found by enumeration, and that Greedy does not always.
func TestExhaustive(t *testing.T) {
	const instances = 40
	greedyWorse := 0
	for seed := uint64(1); seed <= instances; seed++ {
		p := smallProblem(seed)
		if err := p.Validate(); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		wantN, wantD := bruteForce(p)
		s, rep := Solve(context.Background(), p, Options{Seed: int64(seed), TimeLimit: 5 * time.Second})
		score, v := Check(p, s)
		if len(v) != 0 {
			t.Fatalf("seed %d: violations %v", seed, v)
		}
		if score.N != wantN || score.Delta != wantD {
			t.Errorf("seed %d: Solve %v, optimum N=%d Δ=%d (%s, %d nodes)", seed, score, wantN, wantD, rep.Method, rep.Nodes)
		}
		if !rep.Optimal {
			t.Errorf("seed %d: optimality not proven (%s)", seed, rep.Method)
		}
		// The branch and bound alone, from an empty incumbent, must find it too.
		m := compile(p, nil)
		st := newState(m)
		var best snapshot
		st.save(&best)
		b := bnb{st: st, m: m, order: m.order(orderSpec), best: &best, limit: 1 << 30,
			ctx: context.Background(), deadline: time.Now().Add(time.Minute)}
		b.run()
		if b.stopped || best.score.N != wantN || best.score.Delta != wantD {
			t.Errorf("seed %d: branch and bound alone %v (stopped %v), optimum N=%d Δ=%d", seed, best.score, b.stopped, wantN, wantD)
		}
		g, gv := Check(p, Greedy(p))
		if len(gv) != 0 {
			t.Fatalf("seed %d: greedy violations %v", seed, gv)
		}
		if g.N < wantN || (g.N == wantN && g.Delta > wantD) {
			greedyWorse++
		}
	}
	t.Logf("greedy sub-optimal on %d of %d instances", greedyWorse, instances)
	if greedyWorse == 0 {
		t.Error("greedy is optimal on every instance: the instances are too easy to test anything")
	}
}
