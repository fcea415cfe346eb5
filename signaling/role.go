package signaling

import (
	"github.com/chuting/chuting"
	"github.com/pion/webrtc/v4"
)

// Role is what a participant is in a hearing room. It is not the account's chuting.Role:
// counsel, parties, interpreters, expert advisers and observers have no account and join with
// a personal link (#49).
type Role string

// Room roles.
const (
	RoleJudge       Role = "judge"
	RoleClerk       Role = "clerk"
	RoleAppraiser   Role = "appraiser"   // the witness (#17)
	RoleCounsel     Role = "counsel"     // speaks with leave (#20)
	RoleParty       Role = "party"       // speaks with leave (#20)
	RoleExpert      Role = "expert"      // 专家辅助人, as counsel (#22)
	RoleInterpreter Role = "interpreter" // audio only (#25)
	RoleObserver    Role = "observer"    // subscribes only, never publishes (#45)
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleJudge, RoleClerk, RoleAppraiser, RoleCounsel, RoleParty, RoleExpert,
		RoleInterpreter, RoleObserver:
		return true
	}
	return false
}

// chinese returns the role's name in Chinese, for messages to users ("中文 / English").
func (r Role) chinese() string {
	switch r {
	case RoleJudge:
		return "法官"
	case RoleClerk:
		return "书记员"
	case RoleAppraiser:
		return "鉴定人"
	case RoleCounsel:
		return "诉讼代理人"
	case RoleParty:
		return "当事人"
	case RoleExpert:
		return "专家辅助人"
	case RoleInterpreter:
		return "翻译"
	case RoleObserver:
		return "旁听人员"
	}
	return string(r)
}

// actionChinese names the moderation actions in Chinese, for messages to users.
var actionChinese = map[string]string{ActionAdmit: "准许入庭", ActionToWaiting: "退回等候室", ActionMute: "静音",
	ActionUnmute: "取消静音", ActionRemove: "请出庭审室", ActionGrantFloor: "准许发言", ActionRevokeFloor: "收回发言权",
	ActionStart: "开庭", ActionEnd: "闭庭", ActionShowExhibit: "展示证据", ActionStopExhibit: "停止展示",
	ActionPause: "暂停录像", ActionResume: "继续录像", TypeMark: "记录核验事项"}

// waitsFirst reports whether the role starts in the waiting room: witnesses may not follow
// the hearing before they testify (证人不得旁听, #17).
func (r Role) waitsFirst() bool { return r == RoleAppraiser }

// privileged reports whether the role runs the hearing: it sees everyone, including those
// waiting with their checklist (#26, #27), and receives the media of those waiting.
func (r Role) privileged() bool { return r == RoleJudge || r == RoleClerk }

// needsFloor reports whether the role's audio is forwarded only while it holds the floor
// (#20, #22).
func (r Role) needsFloor() bool { return r == RoleCounsel || r == RoleParty || r == RoleExpert }

// mayPublish reports whether the role may publish a track of kind from source.
func (r Role) mayPublish(kind webrtc.RTPCodecType, source string) bool {
	switch r {
	case RoleObserver:
		return false // #45
	case RoleInterpreter:
		return kind == webrtc.RTPCodecTypeAudio // #25
	case RoleJudge, RoleAppraiser:
		return true // the appraiser's screen reaches the others as the judge's exhibit (#24)
	default:
		return source != SourceScreen
	}
}

// mayModerate reports whether the role may give the moderation action (or mark, with
// action "mark"). Judges run the hearing (#20, #21); clerks admit, mute and keep the record.
func (r Role) mayModerate(action string) bool {
	switch r {
	case RoleJudge:
		return true
	case RoleClerk:
		switch action {
		case ActionAdmit, ActionMute, ActionUnmute, TypeMark:
			return true
		}
	}
	return false
}

// State is where a participant is: in the waiting room or in the hearing.
type State string

// Participant states.
const (
	StateWaiting  State = "waiting"
	StateAdmitted State = "admitted"
)

// attendanceOf maps the room's events to the attendance log's types.
var attendanceOf = map[string]string{
	ActionAdmit:          chuting.AttendanceAdmitted,
	ActionToWaiting:      chuting.AttendanceMovedToWaiting,
	ActionMute:           chuting.AttendanceMuted,
	ActionUnmute:         chuting.AttendanceUnmuted,
	ActionRemove:         chuting.AttendanceRemoved,
	ActionGrantFloor:     chuting.AttendanceFloorGranted,
	ActionRevokeFloor:    chuting.AttendanceFloorRevoked,
	ActionStart:          chuting.AttendanceHearingStarted,
	ActionEnd:            chuting.AttendanceHearingEnded,
	ActionShowExhibit:    chuting.AttendanceExhibitShown,
	ActionStopExhibit:    chuting.AttendanceExhibitStopped,
	ItemIdentityVerified: chuting.AttendanceIdentityVerified,
	ItemPledgeRead:       chuting.AttendancePledgeRead,
}
