// Package scheduler will turn a summons into a confirmed hearing: eligibility of appraisers
// (DOMAIN.md §4 #6–#13), the summons workflow as a state machine, matching summons to
// appraisers, testimony rooms and slots under the court-sched-v1 model
// (../shared/SCHEDULING.md), calendars, and periodic jobs with robfig/cron run once across
// nodes. It is built by issue 3; nothing here yet.
package scheduler
