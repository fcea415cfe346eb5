// Package web holds the pages people use, embedded in the binary so that the server needs no
// build step and no files beside it. The pages are static; they talk to the JSON API. Text is
// zh-CN first with English alongside. Scripts and styles come from files, never inline, so a
// strict Content-Security-Policy applies.
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
// connections; no inline script; no framing.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"

// Handler serves the pages. Paths without a file extension get index.html, so the page can
// route on its own.
func Handler() http.Handler {
	files := http.FileServerFS(static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", CSP)
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/static" + r.URL.Path
		if !strings.Contains(path.Base(r.URL.Path), ".") {
			r2.URL.Path = "/static/"
		}
		files.ServeHTTP(w, r2)
	})
}
