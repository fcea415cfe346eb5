// Package web holds the pages people use, embedded in the binary so that the server needs no
// build step and no files beside it. The pages are static; they talk to the JSON API. All
// their text comes from one message catalogue (static/i18n/zh-CN.json and en.json, zh-CN
// first, English on a switch the browser remembers). Scripts and styles come from files,
// never inline, so a strict Content-Security-Policy applies.
//
// There are two documents: index.html, the pages of every role (sign-in, account, court,
// appraiser and self-test, institution, bureau, recordings; app.js routes by path), and
// room.html, the hearing room, which speaks the signaling protocol of docs/signaling.md over
// the room's WebSocket.
package web

import (
	"embed"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var static embed.FS

// CSP is the Content-Security-Policy of every page: only this origin's scripts, styles and
// connections (a WebSocket to this origin included); no inline script; no framing.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"

// Room page paths: /room/{hearingID} for the hearing's judge, clerk and summoned appraisers,
// who sign in; /join#{secret} for the holder of a personal link, who has no account (#49).
// The secret is in the fragment, which browsers never send: it stays out of request logs,
// proxies and referrers.
const (
	RoomPrefix = "/room/"
	JoinPath   = "/join"
)

// roomPage reports whether p is a room page path.
func roomPage(p string) bool {
	if p == JoinPath {
		return true
	}
	rest, ok := strings.CutPrefix(p, RoomPrefix)
	return ok && rest != "" && !strings.Contains(rest, "/")
}

// Handler serves the pages. Room page paths get room.html; other paths without a file
// extension get index.html, so the page can route on its own.
func Handler() http.Handler {
	files := http.FileServerFS(static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", CSP)
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/static" + r.URL.Path
		switch {
		case roomPage(r.URL.Path):
			r2.URL.Path = "/static/room.html"
			// Belt and braces: the link's secret is in the fragment, never sent on anyway.
			w.Header().Set("Referrer-Policy", "no-referrer")
			w.Header().Set("Cache-Control", "no-store")
		case !strings.Contains(path.Base(r.URL.Path), "."):
			r2.URL.Path = "/static/"
		}
		files.ServeHTTP(w, r2)
	})
}
