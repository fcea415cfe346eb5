package chuting

import (
	"errors"
	"fmt"
)

// Error codes. They are part of the API: the HTTP adapter maps each to one status in a single
// table, clients match on them, and the store conformance suite checks that both store adapters
// return the same code for the same failure. Do not rename them.
const (
	ECONFLICT     = "conflict"          // a stale version, or a unique value already taken
	EINTERNAL     = "internal"          // a bug or an unavailable dependency
	EINVALID      = "invalid"           // the input is malformed or breaks a rule
	ENOTFOUND     = "not_found"         // no such record
	EUNAUTHORIZED = "unauthorized"      // no valid credentials
	EFORBIDDEN    = "forbidden"         // valid credentials, but not allowed
	ETOOLARGE     = "too_large"         // the request body is over the limit
	EUNSUPPORTED  = "unsupported_media" // the request body is not JSON
	ERATELIMIT    = "rate_limited"      // too many attempts; retry later
	EUNAVAILABLE  = "unavailable"       // the server is shutting down or a dependency is down
	ENOTIMPL      = "not_implemented"   // the operation does not exist for this configuration
)

// Error is the application error. Code is machine-readable, Message is safe to show to the
// user, and Field names the input field at fault, when there is one (JSON path, e.g.
// "windows[0].start").
type Error struct {
	Code    string
	Message string
	Field   string
	Err     error // optional cause, never shown to users
}

// Error implements the error interface.
func (e *Error) Error() string {
	s := e.Code + ": " + e.Message
	if e.Field != "" {
		s += " (field " + e.Field + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an EINVALID *Error that names the field at fault.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any other
// non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err: the message of the first *Error in its
// chain, or a generic text for other errors, whose details must not leak to users.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "内部错误 / internal error"
}

// ErrorField returns the field named by the first *Error in err's chain, or "".
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
