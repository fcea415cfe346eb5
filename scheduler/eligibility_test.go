package scheduler

import (
	"slices"
	"strings"
	"testing"

	"github.com/chuting/chuting"
)

func date(s string) chuting.Date {
	d, err := chuting.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// eligible is an appraiser who passes every rule on 2026-06-01 for 法医临床.
func eligible() *chuting.Appraiser {
	return &chuting.Appraiser{Meta: chuting.Meta{ID: "a1"}, Name: "李明", LicenceExpires: date("2028-01-01"),
		Categories: []string{"法医临床", "法医物证"}, InductionTrained: true, CEHours: map[int]float64{2025: 40}}
}

func institution() *chuting.Institution {
	return &chuting.Institution{Name: "赣南司法鉴定中心", AccreditationExpires: date("2027-01-01"),
		Categories: []chuting.CategoryScope{{Category: "法医临床"}, {Category: "法医物证", AccreditedLab: true}}}
}

func TestEligibility(t *testing.T) {
	on := date("2026-06-01")
	tests := []struct {
		name     string
		edit     func(a *chuting.Appraiser, i *chuting.Institution, c *Case, r *Rules)
		want     []string // reason codes
		contains string   // in the messages
	}{
		{"OK", nil, nil, ""},
		{"OKLicenceExpiresThatDay", func(a *chuting.Appraiser, _ *chuting.Institution, _ *Case, _ *Rules) {
			a.LicenceExpires = on
		}, nil, ""},
		{"LicenceExpired", func(a *chuting.Appraiser, _ *chuting.Institution, _ *Case, _ *Rules) {
			a.LicenceExpires = date("2026-03-01")
		}, []string{ReasonLicenceExpired}, "执业证已于2026-03-01过期 / licence expired 2026-03-01"},
		{"CategoryNotLicensed", func(_ *chuting.Appraiser, i *chuting.Institution, c *Case, _ *Rules) {
			c.Category = "文书"
			i.Categories = append(i.Categories, chuting.CategoryScope{Category: "文书"})
		}, []string{ReasonCategory}, "does not cover 文书"},
		{"NoInduction", func(a *chuting.Appraiser, _ *chuting.Institution, _ *Case, _ *Rules) {
			a.InductionTrained = false
		}, []string{ReasonInduction}, "先培训后上岗"},
		{"CEShortfall", func(a *chuting.Appraiser, _ *chuting.Institution, _ *Case, _ *Rules) {
			a.CEHours[2025] = 22
		}, []string{ReasonCEHours}, "2025年继续教育 22/40 学时"},
		{"CEThresholdConfigurable", func(a *chuting.Appraiser, _ *chuting.Institution, _ *Case, r *Rules) {
			r.CEHours = 64 // Hunan's rule
		}, []string{ReasonCEHours}, "40/64"},
		{"CEOffWhenZero", func(a *chuting.Appraiser, _ *chuting.Institution, _ *Case, r *Rules) {
			a.CEHours = nil
			r.CEHours = 0
		}, nil, ""},
		{"CEThisYearNotYetDue", func(a *chuting.Appraiser, _ *chuting.Institution, _ *Case, _ *Rules) {
			a.CEHours[2026] = 0 // in June, this year's hours are still being earned
		}, nil, ""},
		{"CEHalfHours", func(a *chuting.Appraiser, _ *chuting.Institution, _ *Case, _ *Rules) {
			a.CEHours[2025] = 39.5
		}, []string{ReasonCEHours}, "39.5/40"},
		{"ProficiencyTwoFailures", func(a *chuting.Appraiser, _ *chuting.Institution, _ *Case, _ *Rules) {
			a.Proficiency = []chuting.ProficiencyResult{{Year: 2023, Category: "法医临床", Passed: true},
				{Year: 2024, Category: "法医临床"}, {Year: 2025, Category: "法医临床"}}
		}, []string{ReasonProficiency}, "法医临床 suspended: failed proficiency tests 2024, 2025"},
		{"ProficiencyPassedSince", func(a *chuting.Appraiser, _ *chuting.Institution, _ *Case, _ *Rules) {
			a.Proficiency = []chuting.ProficiencyResult{{Year: 2023, Category: "法医临床"}, {Year: 2024, Category: "法医临床"},
				{Year: 2025, Category: "法医临床", Passed: true}}
		}, nil, ""},
		{"ProficiencyGapYear", func(a *chuting.Appraiser, _ *chuting.Institution, _ *Case, _ *Rules) {
			a.Proficiency = []chuting.ProficiencyResult{{Year: 2023, Category: "法医临床"}, {Year: 2025, Category: "法医临床"}}
		}, nil, ""},
		{"ProficiencyOtherCategory", func(a *chuting.Appraiser, _ *chuting.Institution, _ *Case, _ *Rules) {
			a.Proficiency = []chuting.ProficiencyResult{{Year: 2024, Category: "法医物证"}, {Year: 2025, Category: "法医物证"}}
		}, nil, ""},
		{"ProficiencyRuleOfThree", func(a *chuting.Appraiser, _ *chuting.Institution, _ *Case, r *Rules) {
			a.Proficiency = []chuting.ProficiencyResult{{Year: 2024, Category: "法医临床"}, {Year: 2025, Category: "法医临床"}}
			r.ProficiencyFailures = 3
		}, nil, ""},
		{"ProficiencyRetryPassedSameYear", func(a *chuting.Appraiser, _ *chuting.Institution, _ *Case, _ *Rules) {
			a.Proficiency = []chuting.ProficiencyResult{{Year: 2024, Category: "法医临床"}, {Year: 2025, Category: "法医临床"},
				{Year: 2025, Category: "法医临床", Passed: true}}
		}, nil, ""},
		{"Conflict", func(a *chuting.Appraiser, _ *chuting.Institution, c *Case, _ *Rules) {
			a.Conflicts = []chuting.Conflict{{Party: "张三"}}
			c.Parties = []string{"李四", "张三"}
		}, []string{ReasonConflict}, "declared conflict with party 张三"},
		{"AccreditationExpired", func(_ *chuting.Appraiser, i *chuting.Institution, _ *Case, _ *Rules) {
			i.AccreditationExpires = date("2026-05-31")
		}, []string{ReasonAccreditation}, "accreditation expired 2026-05-31"},
		{"InstitutionNotLicensed", func(a *chuting.Appraiser, i *chuting.Institution, _ *Case, _ *Rules) {
			i.Categories = i.Categories[1:]
		}, []string{ReasonInstitutionScope}, "not licensed for 法医临床"},
		{"LabNotAccredited", func(_ *chuting.Appraiser, i *chuting.Institution, c *Case, _ *Rules) {
			c.Category = "法医物证"
			i.Categories[1].AccreditedLab = false
		}, []string{ReasonLab}, "法医物证 lab is not accredited"},
		{"LabRuleOnlyForListedCategories", func(_ *chuting.Appraiser, i *chuting.Institution, c *Case, r *Rules) {
			c.Category = "法医物证"
			i.Categories[1].AccreditedLab = false
			r.AccreditedLab = nil
		}, nil, ""},
		{"AllAtOnce", func(a *chuting.Appraiser, _ *chuting.Institution, _ *Case, _ *Rules) {
			a.LicenceExpires, a.InductionTrained, a.CEHours = date("2026-01-01"), false, nil
		}, []string{ReasonLicenceExpired, ReasonInduction, ReasonCEHours}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, inst, c, r := eligible(), institution(), Case{Category: "法医临床", On: on}, DefaultRules()
			if tc.edit != nil {
				tc.edit(a, inst, &c, &r)
			}
			got := Eligibility(a, inst, c, r)
			var codes []string
			var msgs []string
			for _, reason := range got {
				codes = append(codes, reason.Code)
				msgs = append(msgs, reason.Message)
				if !strings.Contains(reason.Message, " / ") {
					t.Errorf("message %q is not zh-CN / English", reason.Message)
				}
			}
			if !slices.Equal(codes, tc.want) {
				t.Fatalf("reasons %v, want %v (%v)", codes, tc.want, msgs)
			}
			if tc.contains != "" && !strings.Contains(strings.Join(msgs, "\n"), tc.contains) {
				t.Fatalf("messages %q lack %q", msgs, tc.contains)
			}
		})
	}
}

func TestSignatory(t *testing.T) {
	o := &chuting.Opinion{DocumentNo: "赣南司鉴中心[2026]临鉴字第0123号", Signatories: []string{"a1", "a2"}, Reviewers: []string{"a3"}}
	tests := []struct {
		id   string
		want string
	}{
		{"a1", ""},
		{"a2", ""},
		{"a3", ReasonReviewer},
		{"a4", ReasonNotSignatory},
	}
	for _, tc := range tests {
		got := Signatory(&chuting.Appraiser{Meta: chuting.Meta{ID: tc.id}, Name: tc.id}, o)
		if (len(got) == 0) != (tc.want == "") || len(got) > 0 && got[0].Code != tc.want {
			t.Errorf("Signatory(%s) = %v, want %q", tc.id, got, tc.want)
		}
	}
}
