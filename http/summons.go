package http

import (
	"net/http"

	"github.com/chuting/chuting"
)

// Opinions and summons are read-only here; the scheduler issue adds serving summons and
// registering opinions, with their validation rules.

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
