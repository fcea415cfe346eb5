// Package attendance will derive per-hearing appearance statuses from the append-only event
// log (DOMAIN.md §4 #34–#38) and compute appearance rates per appraiser, institution and
// period. It is built by issue 5; nothing here yet. The events themselves are already
// appended to each hearing's log (chuting.HearingStream) through chuting.Logs.
package attendance
