package chuting

import (
	"fmt"
	"strings"
)

// Persisted enums are small integers in memory and their names on disk and on the wire, so
// their order may change nothing stored. Still, append only: never reorder or reuse a value.

// Role is what a user is allowed to do. See the authorisation table in http/route.go.
type Role uint8

// Roles.
const (
	RoleUnknown          Role = iota
	RoleBureauAdmin           // 司法局: the justice bureau; sees everything, manages courts and institutions
	RoleInstitutionAdmin      // 鉴定机构: manages its institution's appraisers and testimony rooms
	RoleClerk                 // 书记员: a court clerk; sends summons and keeps the record
	RoleJudge                 // 法官: a judge; runs the hearing
	RoleAppraiser             // 鉴定人: an appraiser; answers summons and testifies
)

var roleNames = [...]string{"", "bureau_admin", "institution_admin", "clerk", "judge", "appraiser"}

// Roles lists every known role, in declaration order.
func Roles() []Role {
	return []Role{RoleBureauAdmin, RoleInstitutionAdmin, RoleClerk, RoleJudge, RoleAppraiser}
}

// ParseRole returns the role named s, or an EINVALID error.
func ParseRole(s string) (Role, error) {
	v, err := parseEnum("role", roleNames[:], s)
	return Role(v), err
}

// String returns the role's wire name.
func (r Role) String() string { return enumName(roleNames[:], int(r)) }

// MarshalText implements encoding.TextMarshaler.
func (r Role) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *Role) UnmarshalText(b []byte) error {
	v, err := parseEnum("role", roleNames[:], string(b))
	*r = Role(v)
	return err
}

// CaseType is the procedure a case follows; it decides notice and mode defaults.
type CaseType uint8

// Case types.
const (
	CaseTypeUnknown        CaseType = iota
	CaseTypeCivil                   // 民事
	CaseTypeCriminal                // 刑事
	CaseTypeAdministrative          // 行政
)

var caseTypeNames = [...]string{"", "civil", "criminal", "administrative"}

// ParseCaseType returns the case type named s, or an EINVALID error.
func ParseCaseType(s string) (CaseType, error) {
	v, err := parseEnum("case type", caseTypeNames[:], s)
	return CaseType(v), err
}

// String returns the case type's wire name.
func (c CaseType) String() string { return enumName(caseTypeNames[:], int(c)) }

// MarshalText implements encoding.TextMarshaler.
func (c CaseType) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (c *CaseType) UnmarshalText(b []byte) error {
	v, err := parseEnum("case type", caseTypeNames[:], string(b))
	*c = CaseType(v)
	return err
}

// Mode is how an appraiser appears: remotely from a testimony room, or in court.
type Mode uint8

// Modes.
const (
	ModeUnknown  Mode = iota
	ModeRemote        // 远程视频出庭
	ModeInPerson      // 现场出庭
)

var modeNames = [...]string{"", "remote", "in_person"}

// ParseMode returns the mode named s, or an EINVALID error.
func ParseMode(s string) (Mode, error) {
	v, err := parseEnum("mode", modeNames[:], s)
	return Mode(v), err
}

// String returns the mode's wire name.
func (m Mode) String() string { return enumName(modeNames[:], int(m)) }

// MarshalText implements encoding.TextMarshaler.
func (m Mode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *Mode) UnmarshalText(b []byte) error {
	v, err := parseEnum("mode", modeNames[:], string(b))
	*m = Mode(v)
	return err
}

// SummonsState is where a summons stands in its workflow (the scheduler owns the transitions).
type SummonsState uint8

// Summons states.
const (
	SummonsUnknown    SummonsState = iota
	SummonsProposed                // served, a slot proposed, waiting for the appraisers
	SummonsConfirmed               // every summoned appraiser confirmed
	SummonsDeclined                // an appraiser declined with a reason; the court decides
	SummonsExcused                 // the court accepted the excuse (刑诉法解释 art. 99(2))
	SummonsScheduled               // a hearing is fixed
	SummonsInProgress              // the hearing is running
	SummonsCompleted               // the appraiser appeared
	SummonsAbsent                  // the appraiser did not appear
	SummonsCancelled               // the court withdrew the summons
)

var summonsStateNames = [...]string{"", "proposed", "confirmed", "declined", "excused",
	"scheduled", "in_progress", "completed", "absent", "cancelled"}

// ParseSummonsState returns the state named s, or an EINVALID error.
func ParseSummonsState(s string) (SummonsState, error) {
	v, err := parseEnum("summons state", summonsStateNames[:], s)
	return SummonsState(v), err
}

// String returns the state's wire name.
func (s SummonsState) String() string { return enumName(summonsStateNames[:], int(s)) }

// Chinese returns the state's name as courts and appraisers read it (待确认, 已排期…), for
// notices and error messages; the wire name for a value outside the enum.
func (s SummonsState) Chinese() string {
	switch s {
	case SummonsUnknown:
		return "未送达"
	case SummonsProposed:
		return "待确认"
	case SummonsConfirmed:
		return "已确认"
	case SummonsDeclined:
		return "申请不出庭"
	case SummonsExcused:
		return "准许不出庭"
	case SummonsScheduled:
		return "已排期"
	case SummonsInProgress:
		return "庭审中"
	case SummonsCompleted:
		return "已出庭"
	case SummonsAbsent:
		return "未出庭"
	case SummonsCancelled:
		return "已撤销"
	}
	return s.String()
}

// MarshalText implements encoding.TextMarshaler.
func (s SummonsState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *SummonsState) UnmarshalText(b []byte) error {
	v, err := parseEnum("summons state", summonsStateNames[:], string(b))
	*s = SummonsState(v)
	return err
}

// enumName returns names[v], or "unknown(v)" for a value this build does not know.
func enumName(names []string, v int) string {
	if v >= 0 && v < len(names) {
		return names[v]
	}
	return fmt.Sprintf("unknown(%d)", v)
}

// parseEnum returns the index of s in names. The empty string is the zero value.
func parseEnum(what string, names []string, s string) (int, error) {
	for i, n := range names {
		if n == s {
			return i, nil
		}
	}
	return 0, Errorf(EINVALID, "unknown %s %q (one of %s)", what, s, strings.Join(names[1:], ", "))
}
