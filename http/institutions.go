package http

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/chuting/chuting"
)

// institutionInput is the body of POST and PUT /api/v1/institutions.
type institutionInput struct {
	Version              int64                   `json:"version"`
	Name                 string                  `json:"name"`
	LicenceNo            string                  `json:"licence_no"`
	Address              string                  `json:"address"`
	Phone                string                  `json:"phone"`
	AccreditationNo      string                  `json:"accreditation_no"`
	AccreditationExpires string                  `json:"accreditation_expires"`
	Categories           []chuting.CategoryScope `json:"categories"`
}

func (in *institutionInput) apply(i *chuting.Institution) error {
	in.Name, in.LicenceNo = strings.TrimSpace(in.Name), strings.TrimSpace(in.LicenceNo)
	expires, err := parseDate("accreditation_expires", in.AccreditationExpires)
	if err = firstError(err, required("name", in.Name), maxLen("name", in.Name, 100),
		required("licence_no", in.LicenceNo), maxLen("licence_no", in.LicenceNo, 50),
		maxLen("address", in.Address, 200), maxLen("phone", in.Phone, 30),
		maxLen("accreditation_no", in.AccreditationNo, 50), categoryScopes(in.Categories)); err != nil {
		return err
	}
	i.Name, i.LicenceNo, i.Address, i.Phone = in.Name, in.LicenceNo, in.Address, in.Phone
	i.AccreditationNo, i.AccreditationExpires, i.Categories = in.AccreditationNo, expires, in.Categories
	return nil
}

func categoryScopes(cs []chuting.CategoryScope) error {
	seen := map[string]bool{}
	for i, c := range cs {
		field := "categories[" + strconv.Itoa(i) + "].category"
		if err := firstError(required(field, c.Category), maxLen(field, c.Category, 30)); err != nil {
			return err
		}
		if seen[c.Category] {
			return chuting.FieldError(field, "鉴定类别重复：%s / duplicate category %s", c.Category, c.Category)
		}
		seen[c.Category] = true
	}
	return nil
}

func (s *Server) listInstitutions(w http.ResponseWriter, r *http.Request) error {
	return list[chuting.Institution](s, w, r, map[string]string{"licence_no": chuting.IndexLicence}, asIs[*chuting.Institution])
}

func (s *Server) getInstitution(w http.ResponseWriter, r *http.Request) error {
	return show[chuting.Institution](s, w, r, asIs[*chuting.Institution])
}

func (s *Server) createInstitution(w http.ResponseWriter, r *http.Request) error {
	var in institutionInput
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	i := new(chuting.Institution)
	if err := in.apply(i); err != nil {
		return err
	}
	return create(s, w, r, i, nil)
}

func (s *Server) updateInstitution(w http.ResponseWriter, r *http.Request) error {
	var in institutionInput
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	return update[chuting.Institution](s, w, r, in.Version, in.apply, nil)
}
