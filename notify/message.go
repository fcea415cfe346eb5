package notify

import (
	"context"
	"fmt"
	"strings"

	"github.com/chuting/chuting"
)

// wording is what a notice of one topic says: a title and a lead sentence, in zh-CN and
// English. %s in a lead is the actor's name (an appraiser's answer) or the party (a receipt).
type wording struct {
	zhTitle, enTitle string
	zhLead, enLead   string
}

var wordings = map[string]wording{
	"summons.served": {"出庭通知", "Summons served",
		"%s通知鉴定人出庭作证，请登录签收，并确认时间或申请不出庭。", "%s summons the appraisers to testify: sign in to acknowledge it, then confirm the slot or ask to be excused."},
	"summons.propose": {"出庭时间", "Hearing slot proposed",
		"已提出出庭时间，请确认。", "A hearing slot is proposed; please confirm it."},
	"summons.confirm": {"鉴定人确认出庭", "Appraiser confirmed",
		"鉴定人%s已确认出庭时间。", "%s confirmed the hearing slot."},
	"summons.decline": {"鉴定人申请不出庭", "Appraiser asks to be excused",
		"鉴定人%s申请不出庭，请法院决定是否准许。", "%s asks to be excused; the court decides."},
	"summons.accept_excuse": {"准许不出庭", "Excuse accepted",
		"法院准许鉴定人不出庭。", "The court accepted the excuse."},
	"summons.reject_excuse": {"驳回不出庭申请", "Excuse rejected",
		"法院驳回不出庭申请，鉴定人须出庭，请重新确认时间。", "The court rejected the excuse: the appraiser must appear and confirm the slot again."},
	"summons.schedule": {"出庭时间已确定", "Hearing scheduled",
		"所有鉴定人已确认，出庭时间已确定。", "Every appraiser confirmed: the hearing is scheduled."},
	"summons.reschedule": {"出庭改期", "Hearing rescheduled",
		"法院已改期，请确认新的时间。", "The court moved the hearing; please confirm the new slot."},
	"summons.cancel": {"出庭通知已撤销", "Summons cancelled",
		"法院撤销了出庭通知。", "The court withdrew the summons."},
	"summons.start": {"庭审开始", "Hearing started",
		"庭审已开始。", "The hearing has started."},
	"summons.complete": {"已记录出庭", "Appearance recorded",
		"法院已记录鉴定人出庭。", "The court recorded the appearance."},
	"summons.absent": {"已记录未出庭", "Absence recorded",
		"法院已记录鉴定人未出庭。", "The court recorded that the appraiser did not appear."},
	"summons.receipt": {"出庭通知已签收", "Summons acknowledged",
		"%s已签收出庭通知。", "%s acknowledged the summons."},
	"reminder.72h": {"出庭提醒（3 天后）", "Hearing in 3 days",
		"提醒：距出庭还有约 3 天，请提前检查设备与网络。", "Reminder: the hearing is in about 3 days; check your equipment and network in advance."},
	"reminder.24h": {"出庭提醒（明天）", "Hearing tomorrow",
		"提醒：距出庭还有约 24 小时。", "Reminder: the hearing is in about 24 hours."},
	"reminder.1h": {"出庭提醒（1 小时后）", "Hearing in 1 hour",
		"提醒：1 小时后出庭，请提前 30 分钟进入等候室。", "Reminder: the hearing is in 1 hour; join the waiting room 30 minutes early."},
	"attendance.absent_without_cause": {"鉴定人无故拒不出庭", "Appraiser absent without cause",
		"%s记录鉴定人无正当理由拒不出庭作证：该鉴定意见不得作为认定事实的根据，法院须在期限内就退还鉴定费作出处理，司法行政机关依法处理（《民事诉讼法》第八十一条、《最高人民法院关于民事诉讼证据的若干规定》第八十一条）。",
		"%s recorded that appraisers refused to testify without cause: the opinion may not be the basis for finding facts, the court rules on refunding the appraisal fee by the deadline, and the justice administration deals with the appraisers (民诉法 art. 81; 证据规定 art. 81)."},
	"summons.no_show": {"鉴定人未到庭", "Appraiser not present",
		"庭审已开始，鉴定人尚未获准进入。请法院记录情况：无正当理由未出庭或技术故障。", "The hearing has started and the appraiser has not been admitted. The court records what happened: absence without cause, or a technical failure."},
}

// compose writes the title and the plain-text body of the notices of ev. Names it cannot
// read from the store are left out rather than failing the notice.
func (s *Service) compose(ctx context.Context, ev event) (title, body string) {
	sm := ev.Summons
	w, ok := wordings[ev.topic]
	if !ok {
		w = wording{"出庭通知有变更", "Summons changed",
			"出庭通知状态为" + sm.State.Chinese() + "。", "The summons is now " + sm.State.String() + "."}
	}
	court, _ := chuting.Load[chuting.Court](ctx, s.store, sm.CourtID)
	courtName := sm.CourtID
	if court != nil {
		courtName = court.Name
	}
	zhArg, enArg := courtName, courtName
	switch ev.topic {
	case "summons.confirm", "summons.decline":
		name := s.userName(ctx, ev.actor)
		zhArg, enArg = name, "Appraiser "+name
	case "summons.receipt":
		zhArg, enArg = s.party(ctx, ev.Receipt)
	}
	lead := func(f, arg string) string {
		if strings.Contains(f, "%s") {
			return fmt.Sprintf(f, arg)
		}
		return f
	}
	title = w.zhTitle + " / " + w.enTitle + " — " + sm.CaseNo

	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s\n\n", lead(w.zhLead, zhArg), lead(w.enLead, enArg))
	line := func(label, value string) {
		if value != "" {
			fmt.Fprintf(&b, "%s: %s\n", label, value)
		}
	}
	line("案号 / Case", sm.CaseNo)
	line("法院 / Court", courtName)
	if sm.Slot != nil {
		line("时间 / Time", slotTime(sm.Slot, court))
		mode := "现场出庭 / in person"
		if sm.Mode == chuting.ModeRemote {
			mode = "远程视频出庭 / remote, by video"
			if room, err := chuting.Load[chuting.TestimonyRoom](ctx, s.store, sm.Slot.RoomID); err == nil {
				mode += " — " + room.Name
				if room.Location != "" {
					mode += " (" + room.Location + ")"
				}
			}
		}
		line("方式 / Mode", mode)
		line("鉴定人 / Appraisers", s.appraiserNames(ctx, sm.Slot.AppraiserIDs))
	}
	if ev.Transition != nil {
		line("理由 / Reason", ev.Transition.Reason)
	}
	if ev.topic == "summons.absent" {
		line("原因 / Cause", causeName(sm.Outcome))
	}
	if f := ev.FollowUp; f != nil {
		line("无故拒不出庭的鉴定人 / Absent without cause", s.appraiserNames(ctx, f.AppraiserIDs))
		line("退费处理期限 / Fee refund due", f.Due.In(chuting.ChinaZone()).Format("2006-01-02 15:04")+" (Asia/Shanghai)")
	}
	if ev.topic == "summons.served" {
		line("事由 / Purpose", sm.Reason)
		if sm.Contact.Name != "" || sm.Contact.Phone != "" {
			line("联系人 / Court contact", strings.TrimSpace(sm.Contact.Name+" "+sm.Contact.Phone))
		}
	}
	line("状态 / State", sm.State.Chinese()+" / "+sm.State.String())
	return title, b.String()
}

// slotTime shows a slot in the court's time zone (Asia/Shanghai when unknown).
func slotTime(sl *chuting.Slot, court *chuting.Court) string {
	loc := court.Location()
	zone := loc.String()
	if loc == chuting.ChinaZone() { // the fixed zone's name is CST: say which
		zone = "Asia/Shanghai"
	}
	start, end := sl.Start.In(loc), sl.End.In(loc)
	endFormat := "15:04"
	if start.YearDay() != end.YearDay() || start.Year() != end.Year() {
		endFormat = "2006-01-02 15:04"
	}
	return start.Format("2006-01-02 15:04") + "–" + end.Format(endFormat) + " (" + zone + ")"
}

func (s *Service) userName(ctx context.Context, id string) string {
	if u, err := chuting.Load[chuting.User](ctx, s.store, id); err == nil {
		return u.Name
	}
	return ""
}

func (s *Service) appraiserNames(ctx context.Context, ids []string) string {
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		if a, err := chuting.Load[chuting.Appraiser](ctx, s.store, id); err == nil {
			names = append(names, a.Name)
		}
	}
	return strings.Join(names, "、")
}

// party names who gave a receipt, in zh-CN and English.
func (s *Service) party(ctx context.Context, rc *chuting.Receipt) (zh, en string) {
	if rc.Party == "institution" {
		name := ""
		if in, err := chuting.Load[chuting.Institution](ctx, s.store, rc.PartyID); err == nil {
			name = in.Name
		}
		return "鉴定机构" + name, "The institution " + name
	}
	name := ""
	if a, err := chuting.Load[chuting.Appraiser](ctx, s.store, rc.PartyID); err == nil {
		name = a.Name
	}
	return "鉴定人" + name, "Appraiser " + name
}

// causeName shows an absence cause (#35).
func causeName(cause string) string {
	switch cause {
	case chuting.CauseWithoutCause:
		return "无正当理由 / without cause"
	case chuting.CauseTechnicalFailure:
		return "技术故障 / technical failure"
	}
	return cause
}
