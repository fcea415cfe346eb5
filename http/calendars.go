package http

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/auth"
	"github.com/chuting/chuting/scheduler"
)

// Hearings and calendars (issue 3 §7): the hearings a caller may see, each hearing's
// invitation, and secret, revocable iCalendar feeds of an appraiser's or a room's hearings
// for calendar applications that cannot sign in.

func (s *Server) listHearings(w http.ResponseWriter, r *http.Request) error {
	return list[chuting.Hearing](s, w, r, map[string]string{"court": chuting.IndexCourt,
		"institution": chuting.IndexInstitution, "appraiser": chuting.IndexAppraiser, "room": chuting.IndexRoom,
		"summons": chuting.IndexSummons}, asIs[*chuting.Hearing])
}

func (s *Server) getHearing(w http.ResponseWriter, r *http.Request) error {
	return show[chuting.Hearing](s, w, r, asIs[*chuting.Hearing])
}

// hearingInvitation answers the hearing as an iCalendar invitation (an .ics file).
func (s *Server) hearingInvitation(w http.ResponseWriter, r *http.Request) error {
	h, err := load[chuting.Hearing](s, r)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := s.sched.WriteInvitation(r.Context(), &buf, h); err != nil {
		return err
	}
	writeCalendar(w, buf.Bytes(), "hearing-"+h.ID+".ics")
	return nil
}

func writeCalendar(w http.ResponseWriter, body []byte, filename string) {
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `inline; filename="`+filename+`"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(body)
}

// feedInput is the body of POST /api/v1/calendar-feeds.
type feedInput struct {
	Subject string `json:"subject"` // appraiser:ID or room:ID
}

// feedView is a calendar feed as created: its address holds the secret, shown this once.
type feedView struct {
	ID      string `json:"id"`
	Subject string `json:"subject"`
	URL     string `json:"url,omitempty"`
}

// feedOwner loads what a feed subject names, for the ownership check.
func (s *Server) feedOwner(r *http.Request, subject string) (chuting.Entity, error) {
	kind, id, _ := strings.Cut(subject, ":")
	switch chuting.Kind(kind) {
	case chuting.KindAppraiser:
		return chuting.LoadRef[chuting.Appraiser](r.Context(), s.store, "subject", id)
	case chuting.KindRoom:
		return chuting.LoadRef[chuting.TestimonyRoom](r.Context(), s.store, "subject", id)
	}
	return nil, chuting.FieldError("subject", "subject 应为 appraiser:ID 或 room:ID / subject must be appraiser:ID or room:ID")
}

// feedAllowed reports whether p may manage the feed of owner: an appraiser their own, an
// institution admin its appraisers' and rooms', the bureau any.
func feedAllowed(p *chuting.Principal, owner chuting.Entity) bool {
	if a, ok := owner.(*chuting.Appraiser); ok && p.Role == chuting.RoleAppraiser {
		return a.ID == p.AppraiserID
	}
	return canWrite(p, owner)
}

// createFeed makes (or remakes, revoking the old address) the calendar feed of an appraiser
// or a room, and answers its secret address once.
func (s *Server) createFeed(w http.ResponseWriter, r *http.Request) error {
	var in feedInput
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	owner, err := s.feedOwner(r, in.Subject)
	if err != nil {
		return err
	}
	p := chuting.UserFromContext(r.Context())
	setTarget(r, "feed:"+in.Subject)
	if !feedAllowed(p, owner) {
		return forbidden()
	}
	subject := scheduler.FeedSubject(owner.Kind(), owner.RecordMeta().ID)
	if old, err := chuting.FindOne[chuting.CalendarFeed](r.Context(), s.store, chuting.IndexSubject, subject); err == nil {
		if err := chuting.Remove(r.Context(), s.store, old); err != nil && chuting.ErrorCode(err) != chuting.ENOTFOUND {
			return err
		}
	} else if chuting.ErrorCode(err) != chuting.ENOTFOUND {
		return err
	}
	secret := auth.NewSecret()
	feed := &chuting.CalendarFeed{Subject: subject, Hash: auth.HashSecret(secret), CreatedBy: p.UserID}
	if err := chuting.Create(r.Context(), s.store, feed); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, feedView{ID: feed.ID, Subject: subject, URL: "/calendar/" + secret + ".ics"})
	return nil
}

// deleteFeed revokes a calendar feed: its address stops working.
func (s *Server) deleteFeed(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	setTarget(r, "feed:"+id)
	feed, err := chuting.Load[chuting.CalendarFeed](r.Context(), s.store, id)
	if err != nil {
		return err
	}
	owner, err := s.feedOwner(r, feed.Subject)
	if err != nil {
		return err
	}
	if !feedAllowed(chuting.UserFromContext(r.Context()), owner) {
		return forbidden()
	}
	if err := chuting.Remove(r.Context(), s.store, feed); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// calendarFeed serves a feed to a calendar application: the secret in the address is the
// credential. An unknown or revoked address gets 404, the same as one never made.
func (s *Server) calendarFeed(w http.ResponseWriter, r *http.Request) error {
	secret, ok := strings.CutSuffix(r.PathValue("file"), ".ics")
	if !ok || len(secret) != 43 {
		return chuting.Errorf(chuting.ENOTFOUND, "没有此日历 / no such calendar")
	}
	feed, err := chuting.FindOne[chuting.CalendarFeed](r.Context(), s.store, chuting.IndexHash, auth.HashSecret(secret))
	if chuting.ErrorCode(err) == chuting.ENOTFOUND {
		return chuting.Errorf(chuting.ENOTFOUND, "没有此日历 / no such calendar")
	} else if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := s.sched.WriteFeed(r.Context(), &buf, feed.Subject); err != nil {
		return err
	}
	writeCalendar(w, buf.Bytes(), "chuting.ics")
	return nil
}
