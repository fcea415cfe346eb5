package http

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/chuting/chuting"
)

// roomInput is the body of POST and PUT /api/v1/rooms.
type roomInput struct {
	Version       int64    `json:"version"`
	InstitutionID string   `json:"institution_id"`
	Name          string   `json:"name"`
	Location      string   `json:"location"`
	Equipment     []string `json:"equipment"`
	ApprovedBy    string   `json:"approved_by"`
	ApprovedOn    string   `json:"approved_on"`
}

func (s *Server) roomApply(r *http.Request, in *roomInput) func(*chuting.TestimonyRoom) error {
	return func(room *chuting.TestimonyRoom) error {
		in.Name, in.Location = strings.TrimSpace(in.Name), strings.TrimSpace(in.Location)
		approved, err := parseDate("approved_on", in.ApprovedOn)
		if err = firstError(err, required("name", in.Name), maxLen("name", in.Name, 100),
			required("location", in.Location), maxLen("location", in.Location, 200),
			maxLen("approved_by", in.ApprovedBy, 100), listOfShort("equipment", in.Equipment, 20, 100)); err != nil {
			return err
		}
		if _, err := chuting.LoadRef[chuting.Institution](r.Context(), s.store, "institution_id", in.InstitutionID); err != nil {
			return err
		}
		room.InstitutionID, room.Name, room.Location = in.InstitutionID, in.Name, in.Location
		room.Equipment, room.ApprovedBy, room.ApprovedOn = in.Equipment, in.ApprovedBy, approved
		return nil
	}
}

// listOfShort checks a list of short strings: at most n items of at most size characters.
func listOfShort(field string, items []string, n, size int) error {
	if len(items) > n {
		return chuting.FieldError(field, "%s 最多 %d 项 / %s has more than %d items", field, n, field, n)
	}
	for i, it := range items {
		f := field + "[" + strconv.Itoa(i) + "]"
		if err := firstError(required(f, it), maxLen(f, it, size)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) listRooms(w http.ResponseWriter, r *http.Request) error {
	return list[chuting.TestimonyRoom](s, w, r, map[string]string{"institution": chuting.IndexInstitution}, asIs[*chuting.TestimonyRoom])
}

func (s *Server) getRoom(w http.ResponseWriter, r *http.Request) error {
	return show[chuting.TestimonyRoom](s, w, r, asIs[*chuting.TestimonyRoom])
}

func (s *Server) createRoom(w http.ResponseWriter, r *http.Request) error {
	var in roomInput
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	room := new(chuting.TestimonyRoom)
	if err := s.roomApply(r, &in)(room); err != nil {
		return err
	}
	return create(s, w, r, room, nil)
}

func (s *Server) updateRoom(w http.ResponseWriter, r *http.Request) error {
	var in roomInput
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	return update[chuting.TestimonyRoom](s, w, r, in.Version, s.roomApply(r, &in), nil)
}
