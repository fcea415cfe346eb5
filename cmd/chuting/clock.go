package main

import "time"

// clock returns the server's clock: time.Now, unless a test in this package set Main.now
// before Run. Only the scheduler, the API and the rooms read it (the demo seed, sessions and
// media use the real time), so a test can serve a summons days ahead and then be at the
// hearing's time, as the end-to-end test does; there is no flag or variable for it.
func (m *Main) clock() func() time.Time {
	if m.now != nil {
		return m.now
	}
	return time.Now
}
