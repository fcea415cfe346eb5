package scheduler

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/chuting/chuting"
)

// Rules are the eligibility thresholds. Several are local rules with no national source
// (DOMAIN.md §5), so each is configurable.
type Rules struct {
	// CEHours is the yearly continuing-education minimum (#10). The originating notice says
	// 40; Hunan's 2007 rule says 64. Negative turns the rule off.
	CEHours float64
	// ProficiencyFailures is how many failed proficiency tests in a row, in consecutive
	// years, suspend a category (#11). The originating notice says 2. Negative turns it off.
	ProficiencyFailures int
	// AccreditedLab lists the categories whose lab must be accredited (资质认定/认可; #12).
	AccreditedLab []string
}

// DefaultRules returns the rules of the originating notice and the 2018 accreditation notice.
func DefaultRules() Rules {
	return Rules{CEHours: 40, ProficiencyFailures: 2, AccreditedLab: []string{"法医物证", "法医毒物", "微量物证", "环境损害"}}
}

// Reason codes, stable for clients.
const (
	ReasonLicenceExpired    = "licence_expired"
	ReasonCategory          = "category_not_licensed"
	ReasonInduction         = "induction_training"
	ReasonCEHours           = "continuing_education"
	ReasonProficiency       = "proficiency_suspended"
	ReasonConflict          = "conflict_of_interest"
	ReasonAccreditation     = "accreditation_expired"
	ReasonLab               = "lab_not_accredited"
	ReasonInstitutionScope  = "institution_not_licensed"
	ReasonNotSignatory      = "not_signatory"
	ReasonReviewer          = "reviewer"
	ReasonOtherInstitution  = "other_institution"
	ReasonAppraiserNotFound = "appraiser_unknown"
)

// Reason is one ground that makes an appraiser ineligible for a case, with a message in
// zh-CN and English for the people who act on it.
type Reason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func reasonf(code, format string, args ...any) Reason {
	return Reason{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Case is what eligibility is judged against: the category appraised, the date of the
// appearance (or of the check), and the parties, for recusal.
type Case struct {
	Category string
	On       chuting.Date
	Parties  []string
}

// Eligibility returns every reason a is not eligible to appear in c, empty when there is
// none. inst is a's institution (nil if unknown). It does not stop at the first reason: the
// court and the institution see them all at once.
//
// For a summons naming an opinion's signatories the reasons are warnings (the duty to testify
// on an opinion already issued remains; DOMAIN.md §3, #7). For a summons asking for any K
// appraisers of a category, an appraiser with a reason is never picked (#9–#11).
func Eligibility(a *chuting.Appraiser, inst *chuting.Institution, c Case, r Rules) []Reason {
	var out []Reason
	if !a.LicenceExpires.IsZero() && a.LicenceExpires.Before(c.On) {
		out = append(out, reasonf(ReasonLicenceExpired, "执业证已于%s过期 / licence expired %s", a.LicenceExpires, a.LicenceExpires))
	}
	if c.Category != "" && !slices.Contains(a.Categories, c.Category) {
		out = append(out, reasonf(ReasonCategory, "执业类别不含%s / the licence does not cover %s", c.Category, c.Category))
	}
	if !a.InductionTrained {
		out = append(out, reasonf(ReasonInduction, "未通过岗前培训（先培训后上岗） / induction training not passed"))
	}
	// Hours are owed per calendar year and judged once the year is over (in January nobody
	// has this year's hours yet): the last completed year decides.
	if year := c.On.Year - 1; r.CEHours > 0 && a.CEHours[year] < r.CEHours {
		out = append(out, reasonf(ReasonCEHours, "%d年继续教育 %s/%s 学时 / continuing education %s of %s hours in %d",
			year, hours(a.CEHours[year]), hours(r.CEHours), hours(a.CEHours[year]), hours(r.CEHours), year))
	}
	if c.Category != "" && r.ProficiencyFailures > 0 {
		if failed := failedRun(a.Proficiency, c.Category, r.ProficiencyFailures); failed != nil {
			years := joinInts(failed, ", ")
			out = append(out, reasonf(ReasonProficiency, "%s 能力验证连续不合格（%s），暂停执业 / %s suspended: failed proficiency tests %s",
				c.Category, years, c.Category, years))
		}
	}
	for _, conflict := range a.Conflicts {
		for _, party := range c.Parties {
			if party != "" && strings.TrimSpace(party) == strings.TrimSpace(conflict.Party) {
				out = append(out, reasonf(ReasonConflict, "申报与当事人%s有利害关系，应当回避 / declared conflict with party %s", party, party))
			}
		}
	}
	if inst != nil {
		out = append(out, institutionReasons(inst, c, r)...)
	}
	return out
}

// institutionReasons are the grounds that come from the institution: its accreditation,
// its licensed scope and its lab (#7, #12).
func institutionReasons(inst *chuting.Institution, c Case, r Rules) []Reason {
	var out []Reason
	if !inst.AccreditationExpires.IsZero() && inst.AccreditationExpires.Before(c.On) {
		out = append(out, reasonf(ReasonAccreditation, "%s资质认定已于%s过期 / the institution's accreditation expired %s",
			inst.Name, inst.AccreditationExpires, inst.AccreditationExpires))
	}
	if c.Category == "" {
		return out
	}
	i := slices.IndexFunc(inst.Categories, func(s chuting.CategoryScope) bool { return s.Category == c.Category })
	switch {
	case i < 0:
		out = append(out, reasonf(ReasonInstitutionScope, "%s业务范围不含%s / the institution is not licensed for %s",
			inst.Name, c.Category, c.Category))
	case slices.Contains(r.AccreditedLab, c.Category) && !inst.Categories[i].AccreditedLab:
		out = append(out, reasonf(ReasonLab, "%s的%s实验室未通过认可 / the institution's %s lab is not accredited",
			inst.Name, c.Category, c.Category))
	}
	return out
}

// failedRun returns the years of the latest run of at least n failed proficiency tests in
// consecutive years in category, or nil. A passed test, or a year without a test, ends a run.
func failedRun(results []chuting.ProficiencyResult, category string, n int) []int {
	byYear := map[int]bool{}
	for _, p := range results {
		if p.Category == category {
			byYear[p.Year] = byYear[p.Year] || p.Passed // a pass in a year outweighs a failed retry
		}
	}
	years := make([]int, 0, len(byYear))
	for y := range byYear {
		years = append(years, y)
	}
	sort.Ints(years)
	// Walk back from the latest test: the suspension holds until a pass.
	var run []int
	for i := len(years) - 1; i >= 0; i-- {
		y := years[i]
		if byYear[y] || (len(run) > 0 && run[0] != y+1) {
			break
		}
		run = append([]int{y}, run...)
	}
	if len(run) >= n {
		return run
	}
	return nil
}

func joinInts(ns []int, sep string) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, sep)
}

func hours(h float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.1f", h), "0"), ".")
}

// Signatory checks that a named appraiser may be summoned on an opinion: they signed it and
// were not a reviewer of it (#6; 上海条例 art. 30), and practise at its institution.
func Signatory(a *chuting.Appraiser, o *chuting.Opinion) []Reason {
	var out []Reason
	if slices.Contains(o.Reviewers, a.ID) {
		out = append(out, reasonf(ReasonReviewer, "%s是该鉴定意见的复核人，不能作为鉴定人出庭 / %s reviewed the opinion and cannot testify as its appraiser", a.Name, a.Name))
	} else if !slices.Contains(o.Signatories, a.ID) {
		out = append(out, reasonf(ReasonNotSignatory, "%s未在鉴定意见书%s上签名 / %s did not sign opinion %s", a.Name, o.DocumentNo, a.Name, o.DocumentNo))
	}
	return out
}
