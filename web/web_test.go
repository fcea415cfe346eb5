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
		{"/i18n/zh-CN.json", http.StatusOK, "application/json", `"login.submit": "登录"`},
		{"/i18n/en.json", http.StatusOK, "application/json", `"login.submit": "Sign in"`},
		{"/app.css", http.StatusOK, "text/css", "--accent"},
		{"/missing.js", http.StatusNotFound, "", ""},
		// The hearing room: its own page for a hearing's room and for a personal link.
		{"/room/01m8kf8yb71y246can2pkj9qaa", http.StatusOK, "text/html", `<script src="/room.js" defer>`},
		{"/join", http.StatusOK, "text/html", `data-i18n="room.waiting_title">等候室`}, // the secret is in the fragment
		{"/room.js", http.StatusOK, "text/javascript", `type: "candidate"`},
		{"/room.css", http.StatusOK, "text/css", ".tile"},
		{"/room/", http.StatusOK, "text/html", `<script src="/app.js" defer>`},      // no hearing: the dashboard
		{"/room/a/b", http.StatusOK, "text/html", `<script src="/app.js" defer>`},   // not a room page
		{"/join/x", http.StatusOK, "text/html", `<script src="/app.js" defer>`},     // not a room page
		{"/rooms/01m8kf8yb71y246can2pkj9qaa", http.StatusOK, "text/html", "app.js"}, // only the exact prefix
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
	t.Run("RoomPageHeaders", func(t *testing.T) {
		// A personal link's address holds its secret: it must not leak as a referrer, nor be cached.
		for _, p := range []string{"/join", "/room/01m8kf8yb71y246can2pkj9qaa"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
			if rec.Header().Get("Referrer-Policy") != "no-referrer" || rec.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("GET %s: Referrer-Policy %q, Cache-Control %q", p, rec.Header().Get("Referrer-Policy"),
					rec.Header().Get("Cache-Control"))
			}
		}
	})
	t.Run("ScriptsAndStylesServed", func(t *testing.T) {
		// Every script and style a page names is there, as its type, so no page half-loads.
		ref := regexp.MustCompile(`(?:src|href)="(/[a-z0-9/_-]+\.(?:js|css))"`)
		for _, p := range []string{"/", "/room/01m8kf8yb71y246can2pkj9qaa"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
			refs := ref.FindAllStringSubmatch(rec.Body.String(), -1)
			if len(refs) < 3 {
				t.Fatalf("GET %s: only %d scripts and styles", p, len(refs))
			}
			for _, m := range refs {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", m[1], nil))
				want := map[bool]string{true: "text/javascript", false: "text/css"}[strings.HasSuffix(m[1], ".js")]
				if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), want) {
					t.Errorf("%s names %s: %d %s", p, m[1], rec.Code, rec.Header().Get("Content-Type"))
				}
			}
		}
	})
	t.Run("NoInlineScript", func(t *testing.T) {
		for _, p := range []string{"/", "/room/01m8kf8yb71y246can2pkj9qaa"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
			if inline := regexp.MustCompile(`<script>|<script [^>]*>[^<]|\son[a-z]+=|\sstyle=|<style`); inline.MatchString(rec.Body.String()) {
				t.Fatalf("GET %s: inline script or style, which the CSP would block", p)
			}
		}
	})
}
