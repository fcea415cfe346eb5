package web

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	h := Handler()
	tests := []struct {
		path        string
		status      int
		contentType string
		contains    string
	}{
		{"/", http.StatusOK, "text/html", `<script src="/app.js" defer>`},
		{"/summons/01m8kf8yb71y246can2pkj9qaa", http.StatusOK, "text/html", "出庭"}, // page routes get index.html
		{"/app.js", http.StatusOK, "text/javascript", "csrf"},
		{"/app.css", http.StatusOK, "text/css", "--accent"},
		{"/missing.js", http.StatusNotFound, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
			if rec.Code != tc.status || !strings.HasPrefix(rec.Header().Get("Content-Type"), tc.contentType) ||
				!strings.Contains(rec.Body.String(), tc.contains) {
				t.Fatalf("GET %s: %d %q %.80s", tc.path, rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
			}
			if rec.Header().Get("Content-Security-Policy") != CSP {
				t.Fatal("no Content-Security-Policy")
			}
		})
	}
	t.Run("NoInlineScript", func(t *testing.T) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if inline := regexp.MustCompile(`<script>|<script [^>]*>[^<]|\son[a-z]+=`); inline.MatchString(rec.Body.String()) {
			t.Fatal("index.html has inline script, which the CSP would block")
		}
	})
}
