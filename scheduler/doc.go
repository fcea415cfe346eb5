// Package scheduler turns a court's summons into a confirmed hearing and keeps everyone told.
//
//   - Eligibility (eligibility.go) returns the reasons an appraiser may not appear, not a
//     bool: licence, licensed categories, induction training (先培训后上岗), continuing-
//     education hours, proficiency-test suspensions, declared conflicts, the institution's
//     accreditation, scope and labs (DOMAIN.md §4 #7–#12). For named signatories they are
//     warnings; a pool summons never picks an appraiser who has one.
//   - Serving (summons.go) checks a summons as a court submits it: the case number and type,
//     the mode (criminal cases in person by default; remote needs an approved ground), the
//     notice period from service plus travel days, and whom it calls (#1, #2, #6, #14, #15).
//   - The workflow (workflow.go) is an explicit state machine; every step records who took it
//     and why in the summons's history, in the same write that changes its state.
//   - Matching (match.go) places a summons at its earliest feasible slot at once, with the
//     solver (scheduler/solver) over the institution's appraisers, busy times, testimony rooms,
//     existing bookings (fixed) and the holiday calendar with its make-up working days
//     (holidays.go). Optimisation (optimise.go) re-plans the open proposals of each
//     institution together, with the exact lexicographic objective of SCHEDULING.md.
//   - Periodic jobs (cron.go, jobs.go) run with robfig/cron, once per tick across all nodes
//     through the store's leases: reminders, no-show detection, the eligibility sweep and the
//     nightly optimisation.
//   - Calendars (ical.go) are iCalendar feeds of an appraiser's or a room's hearings and each
//     hearing's invitation.
//
// The Service serialises slot choices per institution: a mutex within the process and the
// store's lease across nodes, so summons served at once on two nodes never share a slot.
package scheduler
