package http

import (
	"net/http"
	"slices"

	"github.com/chuting/chuting"
)

// Ownership. The route table (route.go) has already checked the caller's role; these decide
// which records of a kind the caller may see and change:
//   - the bureau sees and changes everything;
//   - a court (clerk, judge) sees its own summons, and the registry it needs to summon
//     (institutions, rooms, appraisers, opinions);
//   - an institution admin sees and changes its own appraisers, rooms, opinions and users, and
//     sees the summons served on the institution;
//   - an appraiser sees their institution's roster and rooms, the summons naming them and the
//     opinions they signed.
// Courts and institutions are public to every signed-in user. A notice is for its user alone:
// not even the bureau reads another's inbox. A court's webhooks and their delivery logs are
// its clerks' and judges' (and the bureau's). A fee-refund task (of an absence without cause)
// is its court's to close, and its court and institution see it; an institution sees its own
// monthly reports, the bureau every report.

func courtUser(p *chuting.Principal) bool {
	return p.Role == chuting.RoleClerk || p.Role == chuting.RoleJudge
}

func sameInstitution(p *chuting.Principal, institutionID string) bool {
	return p.InstitutionID != "" && p.InstitutionID == institutionID
}

func namesAppraiser(p *chuting.Principal, ids []string) bool {
	return p.Role == chuting.RoleAppraiser && p.AppraiserID != "" && slices.Contains(ids, p.AppraiserID)
}

// canRead reports whether p may see e.
func canRead(p *chuting.Principal, e chuting.Entity) bool {
	if n, ok := e.(*chuting.Notice); ok {
		return n.UserID == p.UserID // an inbox is private, even from the bureau
	}
	if p.Role == chuting.RoleBureauAdmin {
		return true
	}
	switch e := e.(type) {
	case *chuting.Court, *chuting.Institution:
		return true
	case *chuting.User:
		return e.ID == p.UserID || p.Role == chuting.RoleInstitutionAdmin && sameInstitution(p, e.InstitutionID)
	case *chuting.APIToken:
		return e.UserID == p.UserID
	case *chuting.TestimonyRoom:
		return courtUser(p) || sameInstitution(p, e.InstitutionID)
	case *chuting.Appraiser:
		// The roster (名册) is shared inside an institution.
		return courtUser(p) || sameInstitution(p, e.InstitutionID)
	case *chuting.Opinion:
		return courtUser(p) || p.Role == chuting.RoleInstitutionAdmin && sameInstitution(p, e.InstitutionID) ||
			namesAppraiser(p, e.Signatories)
	case *chuting.Summons:
		return courtUser(p) && e.CourtID == p.CourtID ||
			p.Role == chuting.RoleInstitutionAdmin && sameInstitution(p, e.InstitutionID) ||
			namesAppraiser(p, e.Summoned())
	case *chuting.Hearing:
		return courtUser(p) && e.CourtID == p.CourtID ||
			p.Role == chuting.RoleInstitutionAdmin && sameInstitution(p, e.InstitutionID) ||
			namesAppraiser(p, e.AppraiserIDs)
	case *chuting.Webhook:
		return courtUser(p) && e.CourtID == p.CourtID
	case *chuting.Delivery:
		return courtUser(p) && e.CourtID == p.CourtID
	case *chuting.FeeRefund:
		return courtUser(p) && e.CourtID == p.CourtID ||
			p.Role == chuting.RoleInstitutionAdmin && sameInstitution(p, e.InstitutionID)
	case *chuting.Report:
		return p.Role == chuting.RoleInstitutionAdmin && e.Scope == chuting.ReportInstitution && sameInstitution(p, e.InstitutionID)
	}
	return false
}

// canWrite reports whether p may create, change or delete e (as it is, and as it would be).
func canWrite(p *chuting.Principal, e chuting.Entity) bool {
	if n, ok := e.(*chuting.Notice); ok {
		return n.UserID == p.UserID
	}
	if p.Role == chuting.RoleBureauAdmin {
		return true
	}
	switch e := e.(type) {
	case *chuting.User:
		// Only appraiser accounts: an institution admin must not take over a fellow admin
		// (or reset their own password without the current one); the bureau manages admins.
		return p.Role == chuting.RoleInstitutionAdmin && sameInstitution(p, e.InstitutionID) &&
			e.Role == chuting.RoleAppraiser && e.ID != p.UserID
	case *chuting.APIToken:
		return e.UserID == p.UserID
	case *chuting.TestimonyRoom:
		return p.Role == chuting.RoleInstitutionAdmin && sameInstitution(p, e.InstitutionID)
	case *chuting.Appraiser:
		return p.Role == chuting.RoleInstitutionAdmin && sameInstitution(p, e.InstitutionID)
	case *chuting.Opinion:
		return p.Role == chuting.RoleInstitutionAdmin && sameInstitution(p, e.InstitutionID)
	case *chuting.Webhook:
		return courtUser(p) && e.CourtID == p.CourtID
	case *chuting.FeeRefund:
		return courtUser(p) && e.CourtID == p.CourtID
	}
	return false
}

// scope returns the look-up that limits a listing of kind to what p may see, or ok=false when
// p may see every record of the kind. Listings are also filtered with canRead, so a scope
// only needs to narrow the scan, not to be exact.
func scope(p *chuting.Principal, kind chuting.Kind) (index, value string, ok bool) {
	if kind == chuting.KindNotice {
		return chuting.IndexUser, p.UserID, true
	}
	if p.Role == chuting.RoleBureauAdmin {
		return "", "", false
	}
	switch kind {
	case chuting.KindSummons, chuting.KindHearing:
		switch {
		case courtUser(p):
			return chuting.IndexCourt, p.CourtID, true
		case p.Role == chuting.RoleAppraiser:
			return chuting.IndexAppraiser, p.AppraiserID, true
		}
		return chuting.IndexInstitution, p.InstitutionID, true
	case chuting.KindRoom, chuting.KindAppraiser, chuting.KindOpinion, chuting.KindUser:
		if courtUser(p) && kind != chuting.KindUser {
			return "", "", false
		}
		if p.Role == chuting.RoleAppraiser && kind == chuting.KindOpinion {
			return chuting.IndexAppraiser, p.AppraiserID, true
		}
		return chuting.IndexInstitution, p.InstitutionID, true
	case chuting.KindWebhook, chuting.KindDelivery:
		return chuting.IndexCourt, p.CourtID, true
	case chuting.KindRefund:
		if courtUser(p) {
			return chuting.IndexCourt, p.CourtID, true
		}
		return chuting.IndexInstitution, p.InstitutionID, true
	case chuting.KindReport:
		return chuting.IndexInstitution, p.InstitutionID, true
	case chuting.KindAPIToken:
		return chuting.IndexUser, p.UserID, true
	}
	return "", "", false
}

// courtOf checks that the caller is the judge or clerk of the hearing's court: the one who
// manages its personal links and records its attendance.
func courtOf(p *chuting.Principal, h *chuting.Hearing) error {
	if hearingCourt(p, h) {
		return nil
	}
	return chuting.Errorf(chuting.EFORBIDDEN, "只有本案法院可以这样做 / only the hearing's court may do this")
}

// hearingCourt reports whether p is a judge or clerk of h's court.
func hearingCourt(p *chuting.Principal, h *chuting.Hearing) bool {
	return courtUser(p) && p.CourtID == h.CourtID
}

// loadCourtHearing is load of the {id} hearing for its court alone (courtOf), with the caller.
func loadCourtHearing(s *Server, r *http.Request) (*chuting.Hearing, *chuting.Principal, error) {
	h, err := load[chuting.Hearing](s, r)
	if err != nil {
		return nil, nil, err
	}
	p := chuting.UserFromContext(r.Context())
	if err := courtOf(p, h); err != nil {
		return nil, nil, err
	}
	return h, p, nil
}

func forbidden() error {
	return chuting.Errorf(chuting.EFORBIDDEN, "无权访问此记录 / you may not access this record")
}
