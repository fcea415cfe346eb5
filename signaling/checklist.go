package signaling

import (
	"context"
	"slices"
	"strings"

	"github.com/chuting/chuting"
)

// appraiserOf returns the appraiser a room subject is: the appraiser linked to the user.
func appraiserOf(ctx context.Context, rs chuting.Records, subject string) *chuting.Appraiser {
	if strings.HasPrefix(subject, "link:") {
		return nil
	}
	u, err := chuting.Load[chuting.User](ctx, rs, subject)
	if err != nil || u.AppraiserID == "" {
		return nil
	}
	a, err := chuting.Load[chuting.Appraiser](ctx, rs, u.AppraiserID)
	if err != nil {
		return nil
	}
	return a
}

// checklist fills in the court's identity checklist of a witness from the store (#26, #27):
// the licence and whether it is valid on the hearing day, whether the appraiser signed the
// opinion the summons is about (#6), and the parties the appraiser declared ties to (#8).
// What cannot be read stays unset; the judge checks it on camera either way.
func checklist(ctx context.Context, rs chuting.Records, h *chuting.Hearing, subject string) *Checklist {
	c := &Checklist{Recusal: []string{}}
	a := appraiserOf(ctx, rs, subject)
	if a == nil {
		return c
	}
	c.AppraiserID, c.LicenceNo = a.ID, a.LicenceNo
	c.LicenceValid = a.LicenceNo != "" && (a.LicenceExpires.IsZero() || !a.LicenceExpires.Before(chuting.DateOf(h.Start)))
	s, err := chuting.Load[chuting.Summons](ctx, rs, h.SummonsID)
	if err != nil {
		return c
	}
	if s.OpinionID != "" {
		if o, err := chuting.Load[chuting.Opinion](ctx, rs, s.OpinionID); err == nil {
			c.Signatory = slices.Contains(o.Signatories, a.ID)
		}
	}
	for _, p := range s.Parties {
		for _, cf := range a.Conflicts {
			if cf.Party != "" && cf.Party == p.Name {
				c.Recusal = append(c.Recusal, p.Name)
			}
		}
	}
	return c
}

// witnessObserving reports whether an observer is one of the hearing's appraisers, who may
// not follow the hearing from the gallery (#46).
func witnessObserving(ctx context.Context, rs chuting.Records, h *chuting.Hearing, subject string) bool {
	a := appraiserOf(ctx, rs, subject)
	return a != nil && slices.Contains(h.AppraiserIDs, a.ID)
}
