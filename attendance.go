package chuting

import "time"

// Attendance records (DOMAIN.md §4 #34–#43). Statuses are never stored: package attendance
// derives them from the hearing's append-only log (HearingStream) and the summons. What is
// stored here is what the law attaches to an absence without cause, and the monthly reports.

// Attendance event types appended by the court through the API, besides those the rooms
// append (chuting.go). Append only: never rename one.
const (
	AttendanceInPerson  = "appeared_in_person"   // the clerk recorded an appearance in court; At is the arrival
	AttendanceCorrected = "attendance_corrected" // the court corrected a status: Status, who (ActorID), why (Reason)
)

// Absence causes the court records when a summoned appraiser did not appear (#35). They have
// different consequences: only an absence without cause bars the opinion and opens a fee
// refund (#36–#38).
const (
	CauseWithoutCause     = "without_cause"     // 无故拒不出庭
	CauseTechnicalFailure = "technical_failure" // network failure, device damage, power cut (在线诉讼规则 art. 25)
)

// Exclusion is one reason an opinion may not be the basis for finding facts: a summons on
// which signatories were absent without cause (民诉法 art. 81; 刑诉法 art. 192(3); #36).
type Exclusion struct {
	SummonsID    string    `json:"summons_id"`
	CourtID      string    `json:"court_id"`
	CaseNo       string    `json:"case_no"`
	AppraiserIDs []string  `json:"appraiser_ids"` // those absent without cause
	At           time.Time `json:"at"`
	Basis        string    `json:"basis"` // the rule, zh-CN
	// Lifted is set when the court corrected the absence to something else; the entry stays.
	Lifted       time.Time `json:"lifted,omitzero"`
	LiftedReason string    `json:"lifted_reason,omitempty"`
}

// RefundState is where a fee-refund task stands.
type RefundState string

// Fee-refund states.
const (
	RefundOpen RefundState = "open" // the court has yet to decide on the refund
	RefundDone RefundState = "done" // the court closed it, with a note
)

// RefundDays is how long a court has to rule on the refund of the appraisal fee after an
// absence without cause (证据规定 art. 81: within 3 days of a party's request).
const RefundDays = 3

// FeeRefund is the court's task to rule on refunding the appraisal fee after appraisers were
// absent without cause (民诉法 art. 81; 证据规定 art. 81; #36). There is one per summons; the
// server opens it, and the court closes it with a note. Its ID is derived from the summons,
// so opening it twice is harmless.
type FeeRefund struct {
	Meta
	SummonsID     string      `json:"summons_id"`
	HearingID     string      `json:"hearing_id,omitempty"`
	CourtID       string      `json:"court_id"`
	InstitutionID string      `json:"institution_id"`
	OpinionID     string      `json:"opinion_id,omitempty"`
	CaseNo        string      `json:"case_no"`
	AppraiserIDs  []string    `json:"appraiser_ids"` // those absent without cause
	Opened        time.Time   `json:"opened"`        // when the absence was recorded
	Due           time.Time   `json:"due"`           // Opened + RefundDays
	State         RefundState `json:"state"`
	ClosedBy      string      `json:"closed_by,omitempty"`
	Closed        time.Time   `json:"closed,omitzero"`
	Note          string      `json:"note,omitempty"`
	// Notified is when the institution, the bureau and the court were told (#38); zero until
	// then, so a follow-up interrupted before it told them tells them on the next run.
	Notified time.Time `json:"notified,omitzero"`
}

// RefundID returns the ID of the fee-refund task of a summons.
func RefundID(summonsID string) string { return IDOf("refund/" + summonsID) }

// ReportScope is whom a monthly report is for.
type ReportScope string

// Report scopes.
const (
	ReportInstitution ReportScope = "institution" // one institution, by appraiser
	ReportBureau      ReportScope = "bureau"      // the justice bureau: every institution, court and category
)

// Report is a generated statistics report (统计报表) of appearance rates for one month,
// stored with its files (#42, #43). It is a snapshot: later corrections show in the next
// report and in the live rates, never by rewriting this one.
type Report struct {
	Meta
	Scope         ReportScope `json:"scope"`
	InstitutionID string      `json:"institution_id,omitempty"` // institution reports
	Period        string      `json:"period"`                   // the month, YYYY-MM (Asia/Shanghai)
	From          time.Time   `json:"from"`                     // the month's first instant
	To            time.Time   `json:"to"`                       // the next month's first instant
	Served        int         `json:"served"`                   // the totals, for listings
	Appeared      int         `json:"appeared"`
	CSV           []byte      `json:"csv,omitempty"`  // UTF-8 with a BOM
	XLSX          []byte      `json:"xlsx,omitempty"` // Office Open XML
}

// ReportID returns the ID of the report of a scope, institution and period, so that the job
// generating it twice stores it once.
func ReportID(scope ReportScope, institutionID, period string) string {
	return IDOf("report/" + string(scope) + "/" + institutionID + "/" + period)
}

// Kind implements Entity.
func (*FeeRefund) Kind() Kind { return KindRefund }

// Index implements Entity.
func (f *FeeRefund) Index() []IndexEntry {
	out := entries(false, IndexCourt, f.CourtID, IndexInstitution, f.InstitutionID, IndexSummons, f.SummonsID,
		IndexState, string(f.State))
	return append(out, each(IndexAppraiser, f.AppraiserIDs)...)
}

// Kind implements Entity.
func (*Report) Kind() Kind { return KindReport }

// Index implements Entity.
func (r *Report) Index() []IndexEntry {
	return entries(false, IndexInstitution, r.InstitutionID, IndexPeriod, r.Period)
}
