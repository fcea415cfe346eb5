package http

import (
	"net/http"

	"github.com/chuting/chuting"
)

// The in-app inbox (通知). Every signed-in user reads their own notices and nobody else's,
// the bureau included: notices are written by the notify package, never through the API.

// listNotices answers the caller's notices, oldest first; ?unread=1 only those not yet read.
func (s *Server) listNotices(w http.ResponseWriter, r *http.Request) error {
	p := chuting.UserFromContext(r.Context())
	unread := false
	switch v := r.URL.Query().Get("unread"); v {
	case "", "0", "false":
	case "1", "true":
		unread = true
	default:
		return chuting.FieldError("unread", "unread 应为 1 或 0 / unread must be 1 or 0")
	}
	q, _, err := listQuery(r, p, chuting.KindNotice, nil, "unread") // scoped to the caller's notices
	if err != nil {
		return err
	}
	if unread {
		eq := chuting.Equal(chuting.KindNotice, chuting.IndexUnread, p.UserID)
		q.Index, q.From, q.To = eq.Index, eq.From, eq.To
	}
	found, next, err := chuting.Find[chuting.Notice](r.Context(), s.store, q)
	if err != nil {
		return err
	}
	out := List[*chuting.Notice]{Items: make([]*chuting.Notice, 0, len(found))}
	for _, n := range found {
		if canRead(p, n) {
			out.Items = append(out.Items, n)
		}
	}
	if next != "" {
		out.Next = cursor(next)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// readNotice marks one of the caller's notices read and answers it. Marking it again keeps
// the first time.
func (s *Server) readNotice(w http.ResponseWriter, r *http.Request) error {
	for range 3 {
		n, err := load[chuting.Notice](s, r)
		if err != nil {
			return err
		}
		if !canWrite(chuting.UserFromContext(r.Context()), n) {
			return forbidden()
		}
		if n.Read.IsZero() {
			n.Read = s.now().UTC()
			err = chuting.Save(r.Context(), s.store, n)
			if chuting.ErrorCode(err) == chuting.ECONFLICT {
				continue // marked read at the same moment elsewhere: show that
			} else if err != nil {
				return err
			}
		}
		writeJSON(w, http.StatusOK, n)
		return nil
	}
	return chuting.Errorf(chuting.ECONFLICT, "通知正被修改，请重试 / the notice is changing; try again")
}
