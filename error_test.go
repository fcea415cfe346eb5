package chuting_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/chuting/chuting"
)

func TestErrorAccessors(t *testing.T) {
	e := &chuting.Error{Code: chuting.ENOTFOUND, Message: "no such summons", Field: "summons_id"}
	plain := errors.New("dial tcp 10.0.0.7:6379: secret-host refused")
	generic := chuting.ErrorMessage(plain)
	tests := []struct {
		name                 string
		err                  error
		code, message, field string
	}{
		{"OKNil", nil, "", "", ""},
		{"OKError", e, chuting.ENOTFOUND, "no such summons", "summons_id"},
		{"OKWrapped", fmt.Errorf("load summons: %w", e), chuting.ENOTFOUND, "no such summons", "summons_id"},
		{"OKTwiceWrapped", fmt.Errorf("a: %w", fmt.Errorf("b: %w", e)), chuting.ENOTFOUND, "no such summons", "summons_id"},
		{"OKJoined", errors.Join(plain, e), chuting.ENOTFOUND, "no such summons", "summons_id"},
		{"OKNoField", chuting.Errorf(chuting.ECONFLICT, "version %d is stale", 3), chuting.ECONFLICT, "version 3 is stale", ""},
		{"OKFieldError", chuting.FieldError("windows[0].start", "start %s is past", "09:00"), chuting.EINVALID, "start 09:00 is past", "windows[0].start"},
		{"OKOuterWins", &chuting.Error{Code: chuting.EINVALID, Message: "outer", Err: e}, chuting.EINVALID, "outer", ""},
		{"ErrPlain", plain, chuting.EINTERNAL, generic, ""},
		{"ErrPlainWrapped", fmt.Errorf("ping: %w", plain), chuting.EINTERNAL, generic, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := chuting.ErrorCode(tt.err); got != tt.code {
				t.Errorf("ErrorCode(%v) = %q, want %q", tt.err, got, tt.code)
			}
			if got := chuting.ErrorMessage(tt.err); got != tt.message {
				t.Errorf("ErrorMessage(%v) = %q, want %q", tt.err, got, tt.message)
			}
			if got := chuting.ErrorField(tt.err); got != tt.field {
				t.Errorf("ErrorField(%v) = %q, want %q", tt.err, got, tt.field)
			}
		})
	}
}

func TestErrorMessagePlain(t *testing.T) {
	// The message of a plain error is shown to users, so it must say nothing of the cause.
	plain := errors.New("dial tcp 10.0.0.7:6379: secret-host refused")
	msg := chuting.ErrorMessage(fmt.Errorf("ping: %w", plain))
	if msg == "" {
		t.Fatal("ErrorMessage of a plain error is empty")
	}
	for _, leak := range []string{"10.0.0.7", "secret-host", "ping", "refused"} {
		if strings.Contains(msg, leak) {
			t.Errorf("ErrorMessage = %q leaks %q", msg, leak)
		}
	}
	e := &chuting.Error{Code: chuting.EINTERNAL, Message: "store unavailable", Err: plain}
	if got := chuting.ErrorMessage(e); got != "store unavailable" {
		t.Errorf("ErrorMessage = %q leaks the cause, want %q", got, "store unavailable")
	}
}

func TestErrorString(t *testing.T) {
	cause := errors.New("disk full")
	tests := []struct {
		name string
		err  *chuting.Error
		want string
	}{
		{"OK", &chuting.Error{Code: chuting.ECONFLICT, Message: "stale"}, "conflict: stale"},
		{"OKField", chuting.FieldError("court_id", "missing"), "invalid: missing (field court_id)"},
		{"OKCause", &chuting.Error{Code: chuting.EINTERNAL, Message: "write", Err: cause}, "internal: write: disk full"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
			if tt.err.Err != nil && !errors.Is(tt.err, tt.err.Err) {
				t.Errorf("errors.Is(%v, cause) = false: Unwrap does not return the cause", tt.err)
			}
		})
	}
}

func TestFieldError(t *testing.T) {
	err := chuting.FieldError("password", "at least %d characters", 10)
	if err.Code != chuting.EINVALID || err.Field != "password" || err.Message != "at least 10 characters" {
		t.Errorf("FieldError = %+v, want code %q, field password, message %q", err, chuting.EINVALID, "at least 10 characters")
	}
}
