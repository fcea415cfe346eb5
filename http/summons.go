package http

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/scheduler"
)

// Opinions are read-only here; registering them comes with the registry import.

func (s *Server) listOpinions(w http.ResponseWriter, r *http.Request) error {
	return list[chuting.Opinion](s, w, r, map[string]string{"institution": chuting.IndexInstitution,
		"appraiser": chuting.IndexAppraiser, "case_no": chuting.IndexCaseNo}, asIs[*chuting.Opinion])
}

func (s *Server) getOpinion(w http.ResponseWriter, r *http.Request) error {
	return show[chuting.Opinion](s, w, r, asIs[*chuting.Opinion])
}

func (s *Server) listSummons(w http.ResponseWriter, r *http.Request) error {
	return list[chuting.Summons](s, w, r, map[string]string{"court": chuting.IndexCourt,
		"institution": chuting.IndexInstitution, "appraiser": chuting.IndexAppraiser,
		"state": chuting.IndexState, "case_no": chuting.IndexCaseNo}, asIs[*chuting.Summons])
}

func (s *Server) getSummons(w http.ResponseWriter, r *http.Request) error {
	return show[chuting.Summons](s, w, r, asIs[*chuting.Summons])
}

// servedView is the answer to serving a summons: the summons, with its proposed slot, and the
// eligibility warnings about its named appraisers (#7).
type servedView struct {
	Summons  *chuting.Summons    `json:"summons"`
	Warnings []scheduler.Warning `json:"warnings"`
}

// createSummons serves a summons (出庭通知): a clerk in the UI or a court system with an API
// token, idempotent with an Idempotency-Key header.
func (s *Server) createSummons(w http.ResponseWriter, r *http.Request) error {
	var req scheduler.Request
	if err := decode(w, r, s.maxBody, &req); err != nil {
		return err
	}
	setTarget(r, "summons:new")
	sm, warnings, err := s.sched.Serve(r.Context(), chuting.UserFromContext(r.Context()), &req)
	if err != nil {
		return err
	}
	setTarget(r, "summons:"+sm.ID)
	if warnings == nil {
		warnings = []scheduler.Warning{}
	}
	writeJSON(w, http.StatusCreated, servedView{Summons: sm, Warnings: warnings})
	return nil
}

// stepInput is the body of the workflow routes; each uses the fields it needs.
type stepInput struct {
	Reason   string                    `json:"reason"`
	Evidence string                    `json:"evidence"` // decline
	Accept   *bool                     `json:"accept"`   // excuse
	Outcome  string                    `json:"outcome"`  // outcome: started, completed, absent
	Cause    string                    `json:"cause"`    // outcome absent
	Windows  []scheduler.WindowRequest `json:"windows"`  // reschedule, optional
}

// given returns the fields of the body that are set, by JSON name.
func (in *stepInput) given() map[string]bool {
	return map[string]bool{"reason": in.Reason != "", "evidence": in.Evidence != "", "accept": in.Accept != nil,
		"outcome": in.Outcome != "", "cause": in.Cause != "", "windows": in.Windows != nil}
}

// act runs one workflow step on the summons named by the path, for the caller. The body may
// set only the fields the step uses (uses, by JSON name): a field of another step is refused
// rather than dropped, since the caller meant something by it.
func (s *Server) act(w http.ResponseWriter, r *http.Request, uses []string, build func(in *stepInput, st *scheduler.Step) error) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	setTarget(r, "summons:"+id)
	var in stepInput
	if r.ContentLength != 0 || r.Header.Get("Content-Type") != "" {
		if err := decode(w, r, s.maxBody, &in); err != nil {
			return err
		}
	}
	given := in.given()
	for _, f := range slices.Sorted(maps.Keys(given)) {
		if given[f] && !slices.Contains(uses, f) {
			return chuting.FieldError(f, "此步骤不使用 %s / this step does not take %s", f, f)
		}
	}
	p := chuting.UserFromContext(r.Context())
	if _, err := load[chuting.Summons](s, r); err != nil {
		return err
	}
	st := scheduler.Step{By: p, Reason: in.Reason, Evidence: in.Evidence, Cause: in.Cause}
	if err := build(&in, &st); err != nil {
		return err
	}
	var windows []chuting.Interval
	for i, win := range in.Windows {
		iv, err := parseWindow(i, win)
		if err != nil {
			return err
		}
		windows = append(windows, iv)
	}
	sm, err := s.sched.Act(r.Context(), id, st, windows)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sm)
	return nil
}

func parseWindow(i int, win scheduler.WindowRequest) (chuting.Interval, error) {
	field := "windows[" + strconv.Itoa(i) + "]"
	start, err1 := time.Parse(time.RFC3339, win.Start)
	end, err2 := time.Parse(time.RFC3339, win.End)
	if err1 != nil || err2 != nil || !start.Before(end) {
		return chuting.Interval{}, chuting.FieldError(field, "时间段应为 RFC 3339 且开始早于结束 / a window is two RFC 3339 times, start before end")
	}
	return chuting.Interval{Start: start.UTC(), End: end.UTC()}, nil
}

func (s *Server) confirmSummons(w http.ResponseWriter, r *http.Request) error {
	return s.act(w, r, nil, func(_ *stepInput, st *scheduler.Step) error { st.Action = scheduler.Confirm; return nil })
}

func (s *Server) declineSummons(w http.ResponseWriter, r *http.Request) error {
	return s.act(w, r, []string{"reason", "evidence"}, func(_ *stepInput, st *scheduler.Step) error {
		st.Action = scheduler.Decline
		return nil
	})
}

func (s *Server) decideExcuse(w http.ResponseWriter, r *http.Request) error {
	return s.act(w, r, []string{"accept", "reason"}, func(in *stepInput, st *scheduler.Step) error {
		switch {
		case in.Accept == nil:
			return chuting.FieldError("accept", "须决定是否准许（accept: true/false）/ accept (true or false) is required")
		case *in.Accept:
			st.Action = scheduler.AcceptExcuse
		default:
			st.Action = scheduler.RejectExcuse
		}
		return nil
	})
}

func (s *Server) rescheduleSummons(w http.ResponseWriter, r *http.Request) error {
	return s.act(w, r, []string{"reason", "windows"}, func(_ *stepInput, st *scheduler.Step) error {
		st.Action = scheduler.Reschedule
		return nil
	})
}

func (s *Server) cancelSummons(w http.ResponseWriter, r *http.Request) error {
	return s.act(w, r, []string{"reason"}, func(_ *stepInput, st *scheduler.Step) error { st.Action = scheduler.Cancel; return nil })
}

// recordOutcome lets the court record how a hearing went: started, completed (appeared, also
// in person), or absent with its cause (#35).
func (s *Server) recordOutcome(w http.ResponseWriter, r *http.Request) error {
	return s.act(w, r, []string{"outcome", "cause", "reason"}, func(in *stepInput, st *scheduler.Step) error {
		switch in.Outcome {
		case "started":
			st.Action = scheduler.Start
		case "completed":
			st.Action = scheduler.Complete
		case "absent":
			st.Action = scheduler.Absent
		default:
			return chuting.FieldError("outcome", "outcome 应为 started、completed 或 absent / outcome must be started, completed or absent")
		}
		return nil
	})
}

// acknowledgeSummons records that the institution or a summoned appraiser received the
// summons (#3, #4).
func (s *Server) acknowledgeSummons(w http.ResponseWriter, r *http.Request) error {
	if _, err := load[chuting.Summons](s, r); err != nil {
		return err
	}
	sm, err := s.sched.Acknowledge(r.Context(), r.PathValue("id"), chuting.UserFromContext(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sm)
	return nil
}

// summonsEligibility answers the eligibility of each appraiser of the summons, as of its
// slot's day (or today): the warnings the court and the institution see (#7).
func (s *Server) summonsEligibility(w http.ResponseWriter, r *http.Request) error {
	sm, err := load[chuting.Summons](s, r)
	if err != nil {
		return err
	}
	warnings, err := s.sched.Warnings(r.Context(), sm)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"warnings": warnings})
	return nil
}
