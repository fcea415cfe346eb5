package http

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chuting/chuting"
)

// TestInternalErrorHidden checks that an internal error is answered with the generic message
// and no field, whatever its own message says (a store's "encode record" is for the log).
func TestInternalErrorHidden(t *testing.T) {
	s := &Server{logger: slog.New(slog.DiscardHandler)}
	rec := httptest.NewRecorder()
	s.writeError(rec, httptest.NewRequest("POST", "/api/v1/reports", nil),
		&chuting.Error{Code: chuting.EINTERNAL, Message: "encode record", Field: "period"})
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	var body ErrorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body.Error.Message != "内部错误 / internal error" || body.Error.Field != "" {
		t.Fatalf("answered %+v, want the generic message and no field", body.Error)
	}
}
