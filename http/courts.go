package http

import (
	"net/http"
	"strings"
	"time"

	"github.com/chuting/chuting"
)

// courtInput is the body of POST and PUT /api/v1/courts.
type courtInput struct {
	Version    int64  `json:"version"` // PUT only: the version the client read
	Name       string `json:"name"`
	Code       string `json:"code"`
	Address    string `json:"address"`
	TimeZone   string `json:"time_zone"`
	NoticeDays int    `json:"notice_days"`
}

// MinNoticeDays is the legal minimum between serving a summons and the hearing (证据规定
// art. 79; 民诉法 art. 139; 刑诉法 art. 187; DOMAIN.md #2). A court may set a longer one.
const MinNoticeDays = 3

func (in *courtInput) apply(c *chuting.Court) error {
	in.Name, in.Code = strings.TrimSpace(in.Name), strings.TrimSpace(in.Code)
	if in.TimeZone == "" {
		in.TimeZone = "Asia/Shanghai"
	}
	if in.NoticeDays == 0 {
		in.NoticeDays = MinNoticeDays
	}
	err := firstError(required("name", in.Name), maxLen("name", in.Name, 100),
		required("code", in.Code), maxLen("code", in.Code, 20), maxLen("address", in.Address, 200))
	if err != nil {
		return err
	}
	if _, err := time.LoadLocation(in.TimeZone); err != nil {
		return chuting.FieldError("time_zone", "未知时区 %q / unknown time zone %q", in.TimeZone, in.TimeZone)
	}
	if in.NoticeDays < MinNoticeDays || in.NoticeDays > 60 {
		return chuting.FieldError("notice_days", "通知期须在 %d 到 60 天之间 / notice_days must be from %d to 60",
			MinNoticeDays, MinNoticeDays)
	}
	c.Name, c.Code, c.Address, c.TimeZone, c.NoticeDays = in.Name, in.Code, in.Address, in.TimeZone, in.NoticeDays
	return nil
}

func (s *Server) listCourts(w http.ResponseWriter, r *http.Request) error {
	return list[chuting.Court](s, w, r, map[string]string{"code": chuting.IndexCode}, asIs[*chuting.Court])
}

func (s *Server) getCourt(w http.ResponseWriter, r *http.Request) error {
	return show[chuting.Court](s, w, r, asIs[*chuting.Court])
}

func (s *Server) createCourt(w http.ResponseWriter, r *http.Request) error {
	var in courtInput
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	c := new(chuting.Court)
	if err := in.apply(c); err != nil {
		return err
	}
	return create(s, w, r, c, nil)
}

func (s *Server) updateCourt(w http.ResponseWriter, r *http.Request) error {
	var in courtInput
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	return update[chuting.Court](s, w, r, in.Version, in.apply, nil)
}
