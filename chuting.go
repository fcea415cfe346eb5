// Package chuting holds the domain types of chuting (出庭) and the contracts its adapters
// implement: the store (store.go), errors (error.go) and the principal carried in a request
// context (context.go). It imports only the standard library; adapters and features import it,
// never the other way round. The rules behind the types are numbered in ../shared/DOMAIN.md §4.
package chuting

import (
	"slices"
	"sync"
	"time"
)

// Principal is the authenticated caller of a request: a user, signed in with a browser session
// or calling with an API token.
type Principal struct {
	UserID        string
	Username      string
	Name          string
	Role          Role
	CourtID       string // clerks and judges
	InstitutionID string // institution admins and appraisers
	AppraiserID   string // appraisers
	TokenID       string // set when the call came with an API token
	SessionID     string // set when the call came with a session cookie
}

// User is an account. Username is unique (case-folded) and the role decides what the account
// may do; CourtID, InstitutionID and AppraiserID scope it to what it owns.
type User struct {
	Meta
	Username      string    `json:"username"`
	Name          string    `json:"name"`
	Role          Role      `json:"role"`
	CourtID       string    `json:"court_id,omitempty"`
	InstitutionID string    `json:"institution_id,omitempty"`
	AppraiserID   string    `json:"appraiser_id,omitempty"`
	Email         string    `json:"email,omitempty"`         // for e-mailed notices, when SMTP is configured
	PasswordHash  string    `json:"password_hash,omitempty"` // argon2id, PHC string format
	PasswordSet   time.Time `json:"password_set"`
	Disabled      bool      `json:"disabled,omitempty"`
}

// Session is a signed-in browser. Its ID is the SHA-256 of the cookie value, so a copy of the
// store does not hold usable cookies; CSRF is the token state-changing requests must echo.
type Session struct {
	Meta
	UserID    string    `json:"user_id"`
	CSRF      string    `json:"csrf"`
	Expires   time.Time `json:"expires"`
	Remote    string    `json:"remote"`
	UserAgent string    `json:"user_agent,omitempty"`
}

// APIToken lets a system (a court's case-management system) call the API as a user. Only the
// SHA-256 of the secret is stored; the secret is shown once, when the token is made.
type APIToken struct {
	Meta
	UserID  string    `json:"user_id"`
	Name    string    `json:"name"`
	Hash    string    `json:"hash"`
	Prefix  string    `json:"prefix"` // the first characters of the secret, to tell tokens apart
	Expires time.Time `json:"expires,omitzero"`
}

// Court is a people's court that summons appraisers.
type Court struct {
	Meta
	Name       string `json:"name"` // 赣州市中级人民法院
	Code       string `json:"code"` // the court code in case numbers, e.g. 赣07
	Address    string `json:"address,omitempty"`
	TimeZone   string `json:"time_zone"`   // IANA name; times are shown in it (Asia/Shanghai)
	NoticeDays int    `json:"notice_days"` // minimum days between service and hearing, ≥3 (#2)
	// TravelDays are added to the notice period of an in-person appearance, for the
	// appraiser's travel (在途时间, 民诉法解释 art. 227; #2).
	TravelDays int `json:"travel_days"`
	// RecordingKeepDays is how long the court keeps its hearings' recordings after they end;
	// 0 keeps them for ever (the default). Expired ones are deleted only with a judge's
	// approval (录音录像规定 art. 15; issue 5 §7).
	RecordingKeepDays int `json:"recording_keep_days,omitempty"`
}

// Location returns the time zone the court's hearings are held in: its TimeZone, or China
// Standard Time when it has none (or c is nil) or the name is unknown here.
func (c *Court) Location() *time.Location {
	if c == nil || c.TimeZone == "" {
		return ChinaZone()
	}
	if loc, ok := zones.Load(c.TimeZone); ok { // LoadLocation reads and parses zoneinfo each time
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		loc = ChinaZone()
	}
	zones.Store(c.TimeZone, loc)
	return loc
}

// zones holds the time zones Court.Location has loaded, by name.
var zones sync.Map

// Institution is a forensic appraisal institution (司法鉴定机构).
type Institution struct {
	Meta
	Name                 string          `json:"name"`
	LicenceNo            string          `json:"licence_no"` // 司法鉴定许可证号
	Address              string          `json:"address,omitempty"`
	Phone                string          `json:"phone,omitempty"`
	AccreditationNo      string          `json:"accreditation_no,omitempty"` // 资质认定 / CNAS (#12)
	AccreditationExpires Date            `json:"accreditation_expires"`
	Categories           []CategoryScope `json:"categories,omitempty"`
}

// CategoryScope is one appraisal category an institution is licensed for, and whether its lab
// for that category is accredited (required for 法医物证, 法医毒物, 微量物证, 环境损害; #12).
type CategoryScope struct {
	Category      string `json:"category"`
	AccreditedLab bool   `json:"accredited_lab,omitempty"`
}

// TestimonyRoom is a remote video testimony room (远程视频出庭作证室) at an institution; it hosts
// one hearing at a time. A room must be approved by a court or the bureau (#16).
type TestimonyRoom struct {
	Meta
	InstitutionID string   `json:"institution_id"`
	Name          string   `json:"name"`
	Location      string   `json:"location"`
	Equipment     []string `json:"equipment,omitempty"`
	ApprovedBy    string   `json:"approved_by,omitempty"`
	ApprovedOn    Date     `json:"approved_on"`
}

// Appraiser is a licensed forensic appraiser (司法鉴定人).
type Appraiser struct {
	Meta
	InstitutionID    string              `json:"institution_id"`
	Name             string              `json:"name"`
	LicenceNo        string              `json:"licence_no"` // 执业证号
	LicenceExpires   Date                `json:"licence_expires"`
	Categories       []string            `json:"categories"`
	InductionTrained bool                `json:"induction_trained"`  // 先培训后上岗 (#9)
	CEHours          map[int]float64     `json:"ce_hours,omitempty"` // year → continuing-education hours (#10)
	Proficiency      []ProficiencyResult `json:"proficiency,omitempty"`
	Conflicts        []Conflict          `json:"conflicts,omitempty"`
	Phone            string              `json:"phone,omitempty"`
	Email            string              `json:"email,omitempty"`
	// Busy are times the appraiser cannot attend (leave, other commitments); hearings are
	// never proposed inside them.
	Busy []Interval `json:"busy,omitempty"`
}

// ProficiencyResult is one yearly proficiency test (能力验证) in one category (#11).
type ProficiencyResult struct {
	Year     int    `json:"year"`
	Category string `json:"category"`
	Passed   bool   `json:"passed"`
}

// Conflict is a tie an appraiser declared to a party or person, which bars them from a case
// involving that party (回避, #8).
type Conflict struct {
	Party string `json:"party"`
	Note  string `json:"note,omitempty"`
}

// Opinion is an appraisal opinion (鉴定意见书). Only its signatories may be summoned on it;
// reviewers may not (#6).
type Opinion struct {
	Meta
	DocumentNo    string   `json:"document_no"` // e.g. 赣南司鉴所[2026]临鉴字第0123号
	CaseNo        string   `json:"case_no"`
	InstitutionID string   `json:"institution_id"`
	Category      string   `json:"category"`
	Signatories   []string `json:"signatories"` // appraiser IDs
	Reviewers     []string `json:"reviewers,omitempty"`
	IssuedOn      Date     `json:"issued_on"`
	// NotForFacts says why the opinion may not be the basis for finding facts (不得作为认定事实
	// 的根据; 民诉法 art. 81, 刑诉法 art. 192(3); #36): one entry per summons on which a
	// signatory was absent without cause. Only the server appends to it, when a summons ends
	// that way; no API write sets or clears it, and an entry is lifted (never removed) when the
	// court corrects the absence.
	NotForFacts []Exclusion `json:"not_for_facts,omitempty"`
}

// Barred reports whether the opinion may not be the basis for finding facts: an exclusion
// stands that the court has not lifted (#36).
func (o *Opinion) Barred() bool {
	return slices.ContainsFunc(o.NotForFacts, func(e Exclusion) bool { return e.Lifted.IsZero() })
}

// Interval is a half-open time interval [Start, End).
type Interval struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Party is a party to the case, as named on the summons.
type Party struct {
	Name string `json:"name"`
	Role string `json:"role"` // 原告, 被告, 被告人, 公诉机关 …
}

// Contact is the court's contact person for a summons (#1).
type Contact struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
}

// Pool asks for any K appraisers of a category at an institution, instead of named ones.
type Pool struct {
	InstitutionID string `json:"institution_id"`
	Category      string `json:"category"`
	K             int    `json:"k"`
}

// Summons is a court's notice that appraisers appear (出庭通知, #1): either the named
// appraisers, all of whom must attend, or a Pool.
type Summons struct {
	Meta
	CourtID         string          `json:"court_id"`
	CaseNo          string          `json:"case_no"` // 案号, e.g. (2026)赣07民初123号
	CaseType        CaseType        `json:"case_type"`
	OpinionID       string          `json:"opinion_id,omitempty"`
	InstitutionID   string          `json:"institution_id"`
	AppraiserIDs    []string        `json:"appraiser_ids,omitempty"`
	Pool            *Pool           `json:"pool,omitempty"`
	Mode            Mode            `json:"mode"`
	Remote          *RemoteApproval `json:"remote,omitempty"` // the court's approval of remote testimony (#14)
	DurationMinutes int             `json:"duration_minutes"`
	Windows         []Interval      `json:"windows,omitempty"`
	Parties         []Party         `json:"parties,omitempty"`
	Reason          string          `json:"reason,omitempty"`
	Contact         Contact         `json:"contact"`
	// Private marks a hearing not heard in public (不公开审理): no observers (#45).
	Private  bool         `json:"private,omitempty"`
	State    SummonsState `json:"state"`
	ServedAt time.Time    `json:"served_at,omitzero"`
	ServedBy string       `json:"served_by,omitempty"` // the user who served it

	// Slot is the hearing slot proposed to the appraisers, or fixed once all confirmed.
	Slot *Slot `json:"slot,omitempty"`
	// Responses are the summoned appraisers' answers to the current slot; a reschedule
	// clears them.
	Responses []Response `json:"responses,omitempty"`
	// Receipts are the acknowledgements of the notice by the institution and by each
	// appraiser (#3, #4); service counts once receipt is confirmed.
	Receipts  []Receipt `json:"receipts,omitempty"`
	HearingID string    `json:"hearing_id,omitempty"` // set when scheduled
	// Outcome is why a summons ended as it did: the excuse accepted, the absence cause, the
	// cancellation reason.
	Outcome string `json:"outcome,omitempty"`
	// History holds every transition, oldest first; it is only ever appended to.
	History []Transition `json:"history,omitempty"`
	// Reminders are the reminders already sent for the current slot ("72h", "24h", "1h").
	Reminders []string `json:"reminders,omitempty"`
	// NoShow is when the server flagged that the hearing started without the appraiser
	// admitted (the court then records the outcome).
	NoShow time.Time `json:"no_show,omitzero"`
}

// Summoned returns the appraisers a summons calls: the named ones, and those picked for its
// slot (for a Pool, the only ones), each once.
func (s *Summons) Summoned() []string {
	out := slices.Clone(s.AppraiserIDs)
	if s.Slot != nil {
		for _, id := range s.Slot.AppraiserIDs {
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	return out
}

// RemoteGround is the statutory ground on which a court allows testimony by video link
// (民诉法 art. 76; 北京条例 art. 23; DOMAIN.md #14).
type RemoteGround string

// Remote grounds.
const (
	GroundHealth       RemoteGround = "health"        // 因健康原因不能出庭
	GroundDistance     RemoteGround = "distance"      // 因路途遥远，交通不便不能出庭
	GroundForceMajeure RemoteGround = "force_majeure" // 因自然灾害等不可抗力不能出庭
	GroundOther        RemoteGround = "other"         // 其他有正当理由不能出庭
)

// RemoteApproval records the court's approval of remote testimony: the ground, a note, who
// approved and when (#14).
type RemoteApproval struct {
	Ground     RemoteGround `json:"ground"`
	Note       string       `json:"note,omitempty"`
	ApprovedBy string       `json:"approved_by"`
	ApprovedAt time.Time    `json:"approved_at"`
}

// Slot is when and where a hearing takes place, and who attends (for a Pool summons, the
// appraisers chosen).
type Slot struct {
	Start        time.Time `json:"start"`
	End          time.Time `json:"end"`
	RoomID       string    `json:"room_id,omitempty"` // remote only
	AppraiserIDs []string  `json:"appraiser_ids"`
}

// Response is one appraiser's answer to a proposed slot.
type Response struct {
	AppraiserID string    `json:"appraiser_id"`
	Confirmed   bool      `json:"confirmed"` // false: declined, asking to be excused
	Reason      string    `json:"reason,omitempty"`
	Evidence    string    `json:"evidence,omitempty"` // e.g. a reference to a medical certificate
	By          string    `json:"by"`                 // user ID
	At          time.Time `json:"at"`
}

// Receipt is the acknowledgement of a summons by its institution or one of its appraisers.
type Receipt struct {
	Party   string    `json:"party"`    // "institution" or "appraiser"
	PartyID string    `json:"party_id"` // the institution's or appraiser's ID
	By      string    `json:"by"`       // user ID
	At      time.Time `json:"at"`
}

// Hearing is a fixed appearance: when, where and who, for one summons.
type Hearing struct {
	Meta
	SummonsID     string    `json:"summons_id"`
	CourtID       string    `json:"court_id"`
	InstitutionID string    `json:"institution_id"`
	RoomID        string    `json:"room_id,omitempty"` // the testimony room, for remote hearings
	AppraiserIDs  []string  `json:"appraiser_ids"`
	Mode          Mode      `json:"mode"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	Node          string    `json:"node,omitempty"` // the server node that last held the video room
	// NodeUntil is when Node's hold on the open room lapses unless it renews it; zero once
	// the room closed. Another node may open the room only when it has lapsed, so that a
	// hearing never has two rooms (signaling).
	NodeUntil time.Time `json:"node_until,omitzero"`
}

// RecordingManifest is the signed list of a hearing's recording files (#31): the store's copy
// of the manifest.json in the hearing's recording folder (package recordings writes both, and
// says how the hashes and the signature are made).
type RecordingManifest struct {
	Meta
	HearingID     string          `json:"hearing_id"`
	CourtID       string          `json:"court_id,omitempty"`
	CaseNo        string          `json:"case_no,omitempty"`
	Node          string          `json:"node,omitempty"` // the server node whose data folder holds the files
	Written       time.Time       `json:"written"`        // when the manifest was signed
	Interrupted   bool            `json:"interrupted"`    // a recording of the hearing was cut off by a crash (#30)
	InterruptedAt time.Time       `json:"interrupted_at,omitzero"`
	LogHash       string          `json:"log_hash"`   // hex SHA-256 of the hearing's attendance events, pauses included (#29, #30)
	ChainHead     string          `json:"chain_head"` // the last entry's chain hash
	RootHash      string          `json:"root_hash"`  // hex SHA-256; the integrity check value shown to parties
	PublicKey     string          `json:"public_key"` // base64 Ed25519 public key that signed it
	Signature     string          `json:"signature"`  // base64 Ed25519 signature of the manifest
	Entries       []ManifestEntry `json:"entries"`
}

// ManifestEntry is one recorded file and its hash: a segment of one track, a few seconds long.
type ManifestEntry struct {
	Path        string    `json:"path"` // relative to the hearing's recording folder
	SHA256      string    `json:"sha256"`
	Size        int64     `json:"size"`
	Session     int       `json:"session"` // which recording of the hearing: 1, then 2 after a restart
	Participant string    `json:"participant"`
	Subject     string    `json:"subject,omitempty"` // the publisher's user ID, or "link:<id>"
	Name        string    `json:"name,omitempty"`
	Role        string    `json:"role,omitempty"`
	Track       string    `json:"track"`
	Kind        string    `json:"kind"`             // audio or video
	Source      string    `json:"source,omitempty"` // camera, microphone or screen
	Codec       string    `json:"codec"`            // the RTP MIME type, e.g. video/VP8
	Start       time.Time `json:"start"`            // on the hearing clock
	End         time.Time `json:"end"`
	Frames      int       `json:"frames"`
	Status      string    `json:"status"` // complete, recovered (made playable after a crash) or original (the bytes as found, #30)
	Chain       string    `json:"chain"`  // hex SHA-256 of the previous entry's chain hash and this entry
}

// RecordingGrant lets a user who is not the hearing's judge or clerk list, play and download
// its recording until Until (#31, #32; 录音录像规定 arts 10–11: parties and others see the
// recording only as the court allows). The court's judge or clerk grants it; revoking sets
// Revoked, so the grant stays on record.
type RecordingGrant struct {
	Meta
	HearingID string    `json:"hearing_id"`
	CourtID   string    `json:"court_id"`
	UserID    string    `json:"user_id"`
	Until     time.Time `json:"until"`
	Reason    string    `json:"reason,omitempty"`
	By        string    `json:"by"` // the granting user's ID
	Revoked   time.Time `json:"revoked,omitzero"`
	RevokedBy string    `json:"revoked_by,omitempty"`
}

// Active reports whether the grant lets its user in at now.
func (g *RecordingGrant) Active(now time.Time) bool {
	return g.Revoked.IsZero() && now.Before(g.Until)
}

// RecordingDisposal is where a hearing's recording stands under its court's retention policy
// (issue 5 §7): due once its keeping period has run out, then deleted with a judge's
// approval and reason (录音录像规定 art. 15: nobody deletes a recording without permission).
// The record, and the store's copy of the manifest, stay after the files are gone.
type RecordingDisposal struct {
	Meta
	HearingID  string    `json:"hearing_id"`
	CourtID    string    `json:"court_id"`
	State      string    `json:"state"` // DisposalDue or DisposalDeleted
	Expired    time.Time `json:"expired"`
	RootHash   string    `json:"root_hash,omitempty"`
	ApprovedBy string    `json:"approved_by,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	Deleted    time.Time `json:"deleted,omitzero"`
	Files      int       `json:"files,omitempty"` // files deleted
	Bytes      int64     `json:"bytes,omitempty"`
}

// Recording disposal states.
const (
	DisposalDue     = "due"     // the keeping period ran out; awaiting a judge's approval
	DisposalDeleted = "deleted" // the files were deleted with approval
)

// IdempotentRequest remembers a write made with an Idempotency-Key header, so that the same
// request sent again (a court system retrying after a timeout) gets the first answer instead
// of acting twice. Its ID is derived from the caller and the key.
type IdempotentRequest struct {
	Meta
	UserID      string    `json:"user_id"`
	Route       string    `json:"route"`
	RequestHash string    `json:"request_hash"` // SHA-256 of method, path and body
	Done        bool      `json:"done"`         // false while the first request runs
	Status      int       `json:"status,omitempty"`
	Body        []byte    `json:"body,omitempty"`
	Expires     time.Time `json:"expires"`
}

// SummonsEvent is what happened to a summons, for those who must be told (notices, e-mail,
// a court's webhook): it was served, it took a workflow step, or a party acknowledged it.
type SummonsEvent struct {
	Summons    *Summons
	Served     bool        // the summons was just served
	Transition *Transition // the step taken, if any
	Receipt    *Receipt    // the acknowledgement given, if any
	Reminder   string      // a reminder before the hearing: "72h", "24h" or "1h"
	NoShow     bool        // the hearing started and the appraiser was not admitted
	// FollowUp is set when the follow-ups of an absence without cause were opened: the
	// opinion barred, the fee-refund task, the institution and the bureau told (#36, #38).
	FollowUp *FeeRefund
}

// Notice is a message in a user's in-app inbox (通知): a summons served, a step taken, a
// reminder. Title and Body are zh-CN with English alongside.
type Notice struct {
	Meta
	UserID    string    `json:"user_id"`
	Topic     string    `json:"topic"` // e.g. summons.served, summons.confirmed, reminder.24h
	SummonsID string    `json:"summons_id,omitempty"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	Read      time.Time `json:"read,omitzero"`
}

// Webhook is a court case-management system's endpoint, told (HTTP POST, signed with HMAC
// SHA-256 over the body with Secret) whenever one of the court's summons changes.
type Webhook struct {
	Meta
	CourtID  string `json:"court_id"`
	URL      string `json:"url"`
	Secret   string `json:"secret"` // shared with the receiver; shown once at creation
	Disabled bool   `json:"disabled,omitempty"`
}

// DeliveryState is where a webhook delivery stands.
type DeliveryState string

// Delivery states.
const (
	DeliveryPending   DeliveryState = "pending"   // not yet accepted; retried at NextAttempt
	DeliveryDelivered DeliveryState = "delivered" // the receiver answered 2xx
	DeliveryFailed    DeliveryState = "failed"    // retries exhausted
)

// Delivery is one webhook call and its attempts: the delivery log.
type Delivery struct {
	Meta
	WebhookID   string        `json:"webhook_id"`
	CourtID     string        `json:"court_id"`
	Event       string        `json:"event"` // e.g. summons.confirmed
	Payload     []byte        `json:"payload"`
	State       DeliveryState `json:"state"`
	Attempts    int           `json:"attempts"`
	NextAttempt time.Time     `json:"next_attempt,omitzero"`
	LastStatus  int           `json:"last_status,omitempty"`
	LastError   string        `json:"last_error,omitempty"`
}

// CalendarFeed is the secret, revocable address of an iCalendar feed (RFC 5545) of an
// appraiser's or a testimony room's hearings, for calendar applications that cannot sign in.
// Only the SHA-256 of the secret in the address is stored.
type CalendarFeed struct {
	Meta
	Subject   string `json:"subject"` // "appraiser:ID" or "room:ID"; one feed each
	Hash      string `json:"hash"`
	CreatedBy string `json:"created_by"`
}

// JoinLink is a single-use personal link into a hearing's video room, which a court gives to
// someone without an account: counsel, a party, an interpreter, an expert adviser, an
// observer (#49). It names the person and the role they join as. Only the SHA-256 of the
// secret in the link is stored; redeeming it once uses it up.
type JoinLink struct {
	Meta
	HearingID string    `json:"hearing_id"`
	Name      string    `json:"name"`
	Role      string    `json:"role"` // a room role: counsel, party, expert, interpreter, observer
	Hash      string    `json:"hash"`
	CreatedBy string    `json:"created_by"`
	Used      time.Time `json:"used,omitzero"`
	Revoked   bool      `json:"revoked,omitempty"`
}

// HolidayYear is the public-holiday calendar of one year: the weekdays off (法定节假日 and
// the days swapped for them) and the weekend days that are working days (调休). The State
// Council publishes it each autumn for the next year; the bureau keeps it current.
type HolidayYear struct {
	Meta
	Year     int    `json:"year"`
	Holidays []Date `json:"holidays"`
	Workdays []Date `json:"workdays"`
	Source   string `json:"source"`
}

// AuditEvent records one state-changing request: who, what, when, from where, and how it ended.
// Audit events go to the AuditStream log, append-only.
type AuditEvent struct {
	Time      time.Time `json:"time"`
	ActorID   string    `json:"actor_id,omitempty"` // empty for anonymous requests (a failed sign-in)
	ActorName string    `json:"actor_name,omitempty"`
	ActorRole Role      `json:"actor_role"`
	Via       string    `json:"via,omitempty"` // session, token, cli
	Action    string    `json:"action"`        // the route pattern, e.g. "POST /api/v1/users"
	Target    string    `json:"target,omitempty"`
	Remote    string    `json:"remote,omitempty"`
	Status    int       `json:"status"`  // the HTTP status answered
	Outcome   string    `json:"outcome"` // "ok" or the error code
	RequestID string    `json:"request_id,omitempty"`
}

// Attendance event types. The video rooms append most of them; the court's checklist the
// others. Append only: never rename one.
const (
	AttendanceJoined           = "joined"            // entered the waiting room or the hearing
	AttendanceAdmitted         = "admitted"          // the judge let them into the hearing
	AttendanceMovedToWaiting   = "moved_to_waiting"  // sent back to the waiting room
	AttendanceLeft             = "left"              // left on their own
	AttendanceRemoved          = "removed"           // removed by the judge
	AttendanceDropped          = "dropped"           // the connection was lost
	AttendanceResumed          = "resumed"           // reconnected within the resume window
	AttendanceIdentityVerified = "identity_verified" // the court checked identity and licence (#26, #27)
	AttendancePledgeRead       = "pledge_read"       // the pledge was read and signed (#28)
	AttendanceMuted            = "muted"             // the court muted a participant
	AttendanceUnmuted          = "unmuted"           // the court unmuted a participant
	AttendanceFloorGranted     = "floor_granted"     // the judge gave counsel or a party the floor (#20)
	AttendanceFloorRevoked     = "floor_revoked"     // and took it back
	AttendanceAudioOnly        = "audio_only"        // switched to audio only: no video sent to them (#47)
	AttendanceVideoBack        = "video_back"        // and back to video
	AttendanceHearingStarted   = "hearing_started"   // the judge opened the hearing in the room
	AttendanceHearingEnded     = "hearing_ended"     // the judge ended it: the room closes
	AttendanceExhibitShown     = "exhibit_shown"     // a shared screen shown to all (#24)
	AttendanceExhibitStopped   = "exhibit_stopped"   // and stopped
	AttendanceRecordingStarted = "recording_started" // the server began recording the hearing (#29)
	AttendanceRecordingPaused  = "recording_paused"  // the judge paused it, with the reason (#29)
	AttendanceRecordingResumed = "recording_resumed" // and resumed it
	AttendanceRecordingStopped = "recording_stopped" // the hearing ended or the room closed
	AttendanceRecordingFailed  = "recording_failed"  // it could not start or went on failing (#30)
)

// AttendanceEvent is one fact about a hearing's attendance (#34): notified, acknowledged,
// joined, admitted, left… Attendance events go to the hearing's log (HearingStream),
// append-only; a correction is a new event.
type AttendanceEvent struct {
	Time      time.Time `json:"time"`
	HearingID string    `json:"hearing_id"`
	Type      string    `json:"type"`
	ActorID   string    `json:"actor_id,omitempty"`   // who did it (the judge who admitted)
	SubjectID string    `json:"subject_id,omitempty"` // whom it is about (the appraiser admitted)
	Reason    string    `json:"reason,omitempty"`
	// Status is the attendance status an attendance_corrected event sets (see package
	// attendance); the corrected one stays in the log beside it.
	Status string `json:"status,omitempty"`
	// At is when the fact happened, when it is recorded afterwards: an appearance in person
	// is noted after the arrival. Time stays the server's time of recording.
	At time.Time `json:"at,omitzero"`
}

// AuditStream is the name of the log that holds every AuditEvent.
const AuditStream = "audit"

// HearingStream returns the name of the log that holds a hearing's AttendanceEvents.
func HearingStream(hearingID string) string { return "hearing:" + hearingID }

// Transition is one step of a summons through its workflow, with who took it and why. Each
// is appended to the summons's History in the same write that changes its state, so the
// state and its history cannot disagree.
type Transition struct {
	Time   time.Time    `json:"time"`
	Action string       `json:"action"`
	From   SummonsState `json:"from"`
	To     SummonsState `json:"to"`
	By     string       `json:"by"`   // user ID
	Role   Role         `json:"role"` // the role the user acted in
	Reason string       `json:"reason,omitempty"`
	Slot   *Slot        `json:"slot,omitempty"` // the slot proposed or fixed by this step
}
