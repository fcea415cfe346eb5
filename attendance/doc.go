// Package attendance derives each summoned appraiser's attendance from the hearing's
// append-only log (chuting.HearingStream) and the summons, and computes what follows from
// it (DOMAIN.md §4 #34–#43):
//
//   - Status, a pure function, gives one appraiser's status for one summons: appeared
//     remotely or in person, late, left early, walked out, excused, technical failure,
//     absent without cause (and no-show, pending, cancelled when nothing is settled). Statuses
//     are never stored: the court adds facts to the log (an appearance in person, a
//     correction with who and why), and the status is derived again.
//   - FollowUp runs the legal consequences of an absence without cause: the opinion barred,
//     a fee-refund task for the court, the institution and the bureau told (#36, #38, #39).
//   - Rates and Record count units (a summoned appraiser on a summons) by appraiser,
//     institution, category, court and month (#42); MonthlyReports stores the monthly
//     reports as CSV and XLSX (统计报表, #43).
//
// The scheduler builds the Service and runs its periodic jobs (the follow-up sweep and the
// monthly reports); the HTTP API reads through it.
package attendance
