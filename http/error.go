package http

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/auth"
)

// codeMethod is the code of a 405 answer: a transport matter, not a domain error, so it has no
// constant in the root package.
const codeMethod = "method_not_allowed"

// StatusOf is the one table from error codes to HTTP statuses (500 for a code not in it).
func StatusOf(code string) int {
	switch code {
	case chuting.EINVALID:
		return http.StatusBadRequest
	case chuting.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case chuting.EFORBIDDEN:
		return http.StatusForbidden
	case chuting.ENOTFOUND:
		return http.StatusNotFound
	case codeMethod:
		return http.StatusMethodNotAllowed
	case chuting.ECONFLICT:
		return http.StatusConflict
	case chuting.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case chuting.EUNSUPPORTED:
		return http.StatusUnsupportedMediaType
	case chuting.ERATELIMIT:
		return http.StatusTooManyRequests
	case chuting.ENOTIMPL:
		return http.StatusNotImplemented
	case chuting.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// ErrorBody is the JSON shape of every error answer.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// writeError answers with err in the error shape. Internal errors are logged with their cause
// and answered with a generic message, so no detail leaks.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := chuting.ErrorCode(err)
	if code == chuting.EINTERNAL {
		s.logger.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", logPath(r), "err", err)
	}
	var rl *auth.RateLimitError
	if errors.As(err, &rl) {
		w.Header().Set("Retry-After", strconv.Itoa(rl.Seconds()))
	}
	if code == chuting.EUNAUTHORIZED {
		w.Header().Set("WWW-Authenticate", `Bearer realm="chuting"`)
	}
	msg, field := chuting.ErrorMessage(err), chuting.ErrorField(err)
	if code == chuting.EINTERNAL { // its message is for the log ("encode record"), not the user
		msg, field = chuting.ErrorMessage(errors.New("internal")), ""
	}
	writeJSON(w, StatusOf(code), ErrorBody{ErrorDetail{Code: code, Message: msg, Field: field}})
	if n := noteOf(r); n != nil {
		n.code = code
	}
}

// logWriteFailure is for errors that happen after the status line is sent.
func logWriteFailure(l *slog.Logger, r *http.Request, err error) {
	l.WarnContext(r.Context(), "write response", "path", logPath(r), "err", err)
}
