package scheduler

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chuting/chuting"
)

// Request is a court's summons as submitted (出庭通知, #1), before it is checked and served.
// Times are RFC 3339 with a zone (2026-12-07T08:30:00+08:00), read here so that a bad one is
// reported with its field.
type Request struct {
	CaseNo          string          `json:"case_no"`
	CaseType        string          `json:"case_type"`
	OpinionID       string          `json:"opinion_id"`
	InstitutionID   string          `json:"institution_id"` // optional with an opinion or named appraisers
	AppraiserIDs    []string        `json:"appraiser_ids"`
	Pool            *chuting.Pool   `json:"pool"`
	Mode            string          `json:"mode"`
	RemoteGround    string          `json:"remote_ground"`
	RemoteNote      string          `json:"remote_note"`
	DurationMinutes int             `json:"duration_minutes"`
	Windows         []WindowRequest `json:"windows"`
	Parties         []chuting.Party `json:"parties"`
	Reason          string          `json:"reason"`
	Contact         chuting.Contact `json:"contact"`
	// Private marks a hearing not open to the public (不公开审理: state secrets, privacy,
	// minors); observers may not join its room (#45).
	Private bool `json:"private"`
}

// WindowRequest is an acceptable interval as submitted.
type WindowRequest struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// caseNoPattern matches a case number (案号) such as (2026)赣07民初123号: the year, the court
// code (a province character and digits), the procedure (民初, 刑终, 行初 …) and the number.
var caseNoPattern = regexp.MustCompile(`^\((\d{4})\)(\p{Han}\d{2,4})(\p{Han}{1,3})(\d{1,6})号$`)

// ParseCaseNo checks a case number and returns it normalised (full-width brackets made
// ASCII), the court code in it, and the case type its procedure character implies.
func ParseCaseNo(s string) (norm, courtCode string, typ chuting.CaseType, err error) {
	norm = strings.NewReplacer("（", "(", "）", ")", "〔", "(", "〕", ")", " ", "").Replace(strings.TrimSpace(s))
	m := caseNoPattern.FindStringSubmatch(norm)
	if m == nil {
		return "", "", 0, chuting.FieldError("case_no", "案号格式应如 (2026)赣07民初123号 / case_no must look like (2026)赣07民初123号")
	}
	switch []rune(m[3])[0] {
	case '民':
		typ = chuting.CaseTypeCivil
	case '刑':
		typ = chuting.CaseTypeCriminal
	case '行':
		typ = chuting.CaseTypeAdministrative
	default:
		return "", "", 0, chuting.FieldError("case_no", "案号中的案件类型应为民、刑或行 / the procedure in case_no must be civil (民), criminal (刑) or administrative (行)")
	}
	return norm, m[2], typ, nil
}

// Limits on a summons.
const (
	MaxDurationMinutes = 8 * 60
	MaxWindows         = 20
	// MaxReasonRunes bounds the summons's reason (the points in dispute) and MaxStepRunes a
	// step's reason or evidence: text for people to read, kept with every summons.
	MaxReasonRunes = 2000
	MaxStepRunes   = 1000
	// MaxHorizon is how far ahead a window may start: a hearing is set weeks or months
	// ahead, and a date years away is a typing error (one past year 9999 could not even be
	// stored).
	MaxHorizon = 2 * 366 * 24 * time.Hour
)

// checkHorizon refuses a window (named field) that starts or ends beyond MaxHorizon from now.
func checkHorizon(field string, w chuting.Interval, now time.Time) error {
	limit := now.Add(MaxHorizon)
	switch {
	case w.Start.After(limit):
		return chuting.FieldError(field+".start", "可开庭时间须在两年之内 / a window must start within two years")
	case w.End.After(limit):
		return chuting.FieldError(field+".end", "可开庭时间须在两年之内 / a window must end within two years")
	}
	return nil
}

// EarliestStart returns when a hearing served at served may start at the earliest: the
// court's notice period in days (at least 3, #2), plus its travel days for an appearance in
// person (在途时间), counted from the date of service in the court's zone: served on Monday
// with 3 days' notice, the hearing may be on Thursday.
func EarliestStart(c *chuting.Court, mode chuting.Mode, served time.Time) time.Time {
	days := noticeDays(c, mode)
	loc := c.Location()
	y, m, d := served.In(loc).Date()
	return time.Date(y, m, d+days, 0, 0, 0, 0, loc)
}

// noticeDays is the notice period of a summons in mode from court, in days.
func noticeDays(c *chuting.Court, mode chuting.Mode) int {
	days := max(c.NoticeDays, 3)
	if mode == chuting.ModeInPerson {
		days += c.TravelDays
	}
	return days
}

// Warning is an eligibility reason about a named appraiser, shown to the court and the
// institution; it does not stop the summons (#7).
type Warning struct {
	AppraiserID string `json:"appraiser_id"`
	Reason
}

// check validates req for court as served by p at now, and returns the summons it describes
// (not stored, state unknown) and the warnings about its named appraisers. Errors name the
// field at fault.
func (s *Service) check(ctx context.Context, p *chuting.Principal, req *Request, now time.Time) (*chuting.Summons, []Warning, error) {
	court, err := chuting.Load[chuting.Court](ctx, s.store, p.CourtID)
	if err != nil {
		return nil, nil, fmt.Errorf("the caller's court: %w", err)
	}
	caseNo, code, typ, err := ParseCaseNo(req.CaseNo)
	if err != nil {
		return nil, nil, err
	}
	if code != court.Code {
		return nil, nil, chuting.FieldError("case_no", "案号中的法院代字%s与本院(%s)不符 / case_no is for court %s, not %s", code, court.Code, code, court.Code)
	}
	if req.CaseType != "" {
		given, err := chuting.ParseCaseType(req.CaseType)
		if err != nil || given == chuting.CaseTypeUnknown {
			return nil, nil, chuting.FieldError("case_type", "案件类型应为 civil、criminal 或 administrative / case_type must be civil, criminal or administrative")
		} else if given != typ {
			return nil, nil, chuting.FieldError("case_type", "案件类型与案号不符 / case_type %s does not match the case number, which is %s", given, typ)
		}
	}
	sm := &chuting.Summons{CourtID: court.ID, CaseNo: caseNo, CaseType: typ, Parties: req.Parties,
		Reason: strings.TrimSpace(req.Reason), Contact: req.Contact, Private: req.Private, DurationMinutes: req.DurationMinutes,
		ServedAt: now.UTC(), ServedBy: p.UserID}
	if err := checkText(sm); err != nil {
		return nil, nil, err
	}
	if err := s.checkMode(sm, req, p, now); err != nil {
		return nil, nil, err
	}
	if err := checkWindows(sm, req, court, now); err != nil {
		return nil, nil, err
	}
	warnings, err := s.checkWho(ctx, sm, req, now)
	if err != nil {
		return nil, nil, err
	}
	return sm, warnings, nil
}

// checkText checks the parts of the notice a person reads (#1).
func checkText(sm *chuting.Summons) error {
	switch {
	case sm.DurationMinutes <= 0 || sm.DurationMinutes%15 != 0 || sm.DurationMinutes > MaxDurationMinutes:
		return chuting.FieldError("duration_minutes", "时长须为 15 分钟的倍数，最长 %d 分钟 / duration_minutes must be a multiple of 15, at most %d",
			MaxDurationMinutes, MaxDurationMinutes)
	case sm.Reason == "":
		return chuting.FieldError("reason", "须写明出庭事由 / reason (why the appraiser must appear) is required")
	case utf8.RuneCountInString(sm.Reason) > MaxReasonRunes:
		return chuting.FieldError("reason", "出庭事由超过 %d 字 / reason is longer than %d characters", MaxReasonRunes, MaxReasonRunes)
	case strings.TrimSpace(sm.Contact.Name) == "" || strings.TrimSpace(sm.Contact.Phone) == "":
		return chuting.FieldError("contact", "须写明法院联系人及电话 / contact needs a name and a phone number")
	case len(sm.Parties) == 0:
		return chuting.FieldError("parties", "须列明当事人 / parties are required")
	}
	for i, party := range sm.Parties {
		if strings.TrimSpace(party.Name) == "" {
			return chuting.FieldError(fmt.Sprintf("parties[%d].name", i), "当事人姓名不能为空 / a party needs a name")
		}
	}
	return nil
}

// checkMode sets the mode: criminal cases default to appearing in person (在线诉讼规则 art.
// 37(3); #15); remote testimony needs the court's approval on a statutory ground (#14), which
// is recorded as given by the serving user.
func (s *Service) checkMode(sm *chuting.Summons, req *Request, p *chuting.Principal, now time.Time) error {
	switch req.Mode {
	case "":
		if sm.CaseType != chuting.CaseTypeCriminal {
			return chuting.FieldError("mode", "须选择出庭方式 remote 或 in_person / mode (remote or in_person) is required")
		}
		sm.Mode = chuting.ModeInPerson
	default:
		m, err := chuting.ParseMode(req.Mode)
		if err != nil || m == chuting.ModeUnknown {
			return chuting.FieldError("mode", "出庭方式应为 remote 或 in_person / mode must be remote or in_person")
		}
		sm.Mode = m
	}
	if sm.Mode != chuting.ModeRemote {
		if req.RemoteGround != "" {
			return chuting.FieldError("remote_ground", "现场出庭无需远程理由 / remote_ground is for remote testimony only")
		}
		return nil
	}
	ground := chuting.RemoteGround(req.RemoteGround)
	switch ground {
	case chuting.GroundHealth, chuting.GroundDistance, chuting.GroundForceMajeure:
	case chuting.GroundOther:
		if strings.TrimSpace(req.RemoteNote) == "" {
			return chuting.FieldError("remote_note", "“其他正当理由”须说明 / the ground other needs a note")
		}
	default:
		return chuting.FieldError("remote_ground", "远程出庭须经法院准许并写明理由：health、distance、force_majeure 或 other / remote testimony needs the court's approval on a ground: health, distance, force_majeure or other")
	}
	sm.Remote = &chuting.RemoteApproval{Ground: ground, Note: strings.TrimSpace(req.RemoteNote), ApprovedBy: p.UserID, ApprovedAt: now.UTC()}
	return nil
}

// checkWindows reads the acceptable windows. Each must end after the earliest start the
// notice period allows (#2); the part before it is cut off.
func checkWindows(sm *chuting.Summons, req *Request, court *chuting.Court, now time.Time) error {
	if len(req.Windows) == 0 || len(req.Windows) > MaxWindows {
		return chuting.FieldError("windows", "须给出 1 到 %d 个可开庭时间段 / windows needs 1 to %d intervals", MaxWindows, MaxWindows)
	}
	earliest := EarliestStart(court, sm.Mode, now)
	for i, w := range req.Windows {
		field := "windows[" + strconv.Itoa(i) + "]"
		start, err1 := time.Parse(time.RFC3339, w.Start)
		end, err2 := time.Parse(time.RFC3339, w.End)
		switch {
		case err1 != nil:
			return chuting.FieldError(field+".start", "时间格式应为 RFC 3339，如 2026-12-07T08:30:00+08:00 / start must be RFC 3339, e.g. 2026-12-07T08:30:00+08:00")
		case err2 != nil:
			return chuting.FieldError(field+".end", "时间格式应为 RFC 3339 / end must be RFC 3339")
		case !start.Before(end):
			return chuting.FieldError(field+".end", "结束须晚于开始 / end must be after start")
		case !end.After(earliest.Add(time.Duration(sm.DurationMinutes) * time.Minute)):
			days, day := noticeDays(court, sm.Mode), earliest.Format("2006-01-02")
			return chuting.FieldError(field, "按%d日通知期，最早可于%s开庭 / with %d days' notice, the hearing can be on %s at the earliest",
				days, day, days, day)
		}
		if err := checkHorizon(field, chuting.Interval{Start: start, End: end}, now); err != nil {
			return err
		}
		if start.Before(earliest) {
			start = earliest
		}
		sm.Windows = append(sm.Windows, chuting.Interval{Start: start.UTC(), End: end.UTC()})
	}
	return nil
}

// checkWho checks whom the summons calls: the named appraisers, who must all attend and, with
// an opinion, be its signatories (#6); or a pool of K appraisers of a category at an
// institution, of whom enough must be eligible (#9–#11). Eligibility reasons about named
// appraisers are returned as warnings (#7).
func (s *Service) checkWho(ctx context.Context, sm *chuting.Summons, req *Request, now time.Time) ([]Warning, error) {
	var opinion *chuting.Opinion
	if req.OpinionID != "" {
		var err error
		if opinion, err = chuting.LoadRef[chuting.Opinion](ctx, s.store, "opinion_id", req.OpinionID); err != nil {
			return nil, err
		}
		sm.OpinionID, sm.InstitutionID = opinion.ID, opinion.InstitutionID
	}
	if (len(req.AppraiserIDs) == 0) == (req.Pool == nil) {
		return nil, chuting.FieldError("appraiser_ids", "须指定鉴定人（appraiser_ids）或人数（pool），二者择一 / give either appraiser_ids or pool")
	}
	on := chuting.DateOf(sm.Windows[0].Start.In(chuting.ChinaZone()))
	if req.Pool != nil {
		return nil, s.checkPool(ctx, sm, req, opinion)
	}
	var warnings []Warning
	for i, id := range req.AppraiserIDs {
		field := "appraiser_ids[" + strconv.Itoa(i) + "]"
		if slices.Contains(req.AppraiserIDs[:i], id) {
			return nil, chuting.FieldError(field, "鉴定人重复 / appraiser listed twice")
		}
		a, err := chuting.LoadRef[chuting.Appraiser](ctx, s.store, field, id)
		if err != nil {
			return nil, err
		}
		if sm.InstitutionID == "" {
			sm.InstitutionID = a.InstitutionID
		}
		if a.InstitutionID != sm.InstitutionID {
			// Named appraisers appear together from one institution's testimony room.
			return nil, chuting.FieldError(field, "%s不在%s执业 / %s does not practise at the opinion's institution", a.Name, "该鉴定机构", a.Name)
		}
		if opinion != nil {
			if rs := Signatory(a, opinion); len(rs) > 0 {
				return nil, &chuting.Error{Code: chuting.EINVALID, Field: field, Message: rs[0].Message}
			}
		}
		inst, _ := chuting.Load[chuting.Institution](ctx, s.store, a.InstitutionID)
		for _, r := range Eligibility(a, inst, Case{Category: opinionCategory(opinion), On: on, Parties: partyNames(sm)}, s.rules) {
			warnings = append(warnings, Warning{AppraiserID: a.ID, Reason: r})
		}
		sm.AppraiserIDs = append(sm.AppraiserIDs, a.ID)
	}
	return warnings, nil
}

// checkPool checks a request for any K appraisers of a category.
func (s *Service) checkPool(ctx context.Context, sm *chuting.Summons, req *Request, opinion *chuting.Opinion) error {
	pool := *req.Pool
	if pool.InstitutionID == "" {
		pool.InstitutionID = sm.InstitutionID
	}
	if opinion != nil && pool.Category == "" {
		pool.Category = opinion.Category
	}
	inst, err := chuting.LoadRef[chuting.Institution](ctx, s.store, "pool.institution_id", pool.InstitutionID)
	if err != nil {
		return err
	}
	switch {
	case sm.InstitutionID != "" && sm.InstitutionID != inst.ID:
		return chuting.FieldError("pool.institution_id", "须为出具鉴定意见的机构 / must be the institution that issued the opinion")
	case strings.TrimSpace(pool.Category) == "":
		return chuting.FieldError("pool.category", "须指定鉴定类别 / category is required")
	case opinion != nil && pool.Category != opinion.Category:
		return chuting.FieldError("pool.category", "须与鉴定意见的类别（%s）一致 / must be the opinion's category, %s", opinion.Category, opinion.Category)
	case pool.K < 1 || pool.K > 10:
		return chuting.FieldError("pool.k", "人数须为 1 到 10 / k must be 1 to 10")
	}
	sm.InstitutionID, sm.Pool = inst.ID, &pool
	all, err := chuting.FindAll[chuting.Appraiser](ctx, s.store, chuting.Equal(chuting.KindAppraiser, chuting.IndexInstitution, inst.ID))
	if err != nil {
		return err
	}
	// The same choice the matcher makes: eligible over the windows, and on an opinion its
	// signatories only.
	eligible, err := s.planner.pickable(ctx, sm, inst, all, sm.Windows)
	if err != nil {
		return err
	}
	if len(eligible) < pool.K {
		return chuting.FieldError("pool.k", "%s仅有 %d 名符合条件的%s鉴定人 / %s has %d eligible appraisers of %s, fewer than %d",
			inst.Name, len(eligible), pool.Category, inst.Name, len(eligible), pool.Category, pool.K)
	}
	return nil
}

func opinionCategory(o *chuting.Opinion) string {
	if o == nil {
		return ""
	}
	return o.Category
}

func partyNames(sm *chuting.Summons) []string {
	names := make([]string, len(sm.Parties))
	for i, p := range sm.Parties {
		names[i] = p.Name
	}
	return names
}
