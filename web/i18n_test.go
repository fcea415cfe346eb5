package web

import (
	"encoding/json"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chuting/chuting/attendance"
)

// The message catalogue (static/i18n/*.json) is the only source of the pages' text: zh-CN
// first, English the same keys. These tests fail when a key is in one language and not the
// other, when a placeholder differs between them, when a page uses a key the catalogue lacks,
// and when a script carries Chinese text of its own instead of a catalogue key.

// catalogue reads one language's messages.
func catalogue(t *testing.T, lang string) map[string]string {
	t.Helper()
	b, err := fs.ReadFile(static, "static/i18n/"+lang+".json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s.json: %v", lang, err)
	}
	return m
}

// Languages lists the catalogue's languages; the first is the default.
var languages = []string{"zh-CN", "en"}

func TestCatalogueLanguagesMatch(t *testing.T) {
	want := catalogue(t, languages[0])
	placeholder := regexp.MustCompile(`\{[a-z_]+\}`)
	for _, lang := range languages[1:] {
		got := catalogue(t, lang)
		for _, k := range slices.Sorted(maps.Keys(want)) {
			if _, ok := got[k]; !ok {
				t.Errorf("%q is in %s.json but not in %s.json", k, languages[0], lang)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(got)) {
			if _, ok := want[k]; !ok {
				t.Errorf("%q is in %s.json but not in %s.json", k, lang, languages[0])
				continue
			}
			a, b := placeholder.FindAllString(want[k], -1), placeholder.FindAllString(got[k], -1)
			slices.Sort(a)
			slices.Sort(b)
			if !slices.Equal(a, b) {
				t.Errorf("%q: placeholders %v in %s, %v in %s", k, a, languages[0], b, lang)
			}
		}
	}
	for _, lang := range languages {
		for k, v := range catalogue(t, lang) {
			if strings.TrimSpace(v) == "" {
				t.Errorf("%s.json: %q is empty", lang, k)
			}
		}
	}
}

// Keys the pages build from a prefix and a value the server sends: every value must have
// its message.
func enumerated() map[string][]string {
	var codes []string
	for _, c := range attendance.Codes() {
		codes = append(codes, string(c))
	}
	return map[string][]string{
		"role.":              {"bureau_admin", "institution_admin", "clerk", "judge", "appraiser", "counsel", "party", "expert", "interpreter", "observer"},
		"summons.state.":     {"proposed", "confirmed", "declined", "excused", "scheduled", "in_progress", "completed", "absent", "cancelled"},
		"attendance.":        codes,
		"mode.":              {"remote", "in_person"},
		"ground.":            {"health", "distance", "force_majeure", "other"},
		"case_type.":         {"civil", "criminal", "administrative"},
		"summons.receipt.":   {"institution", "appraiser"},
		"summons.action.":    {"excuse", "outcome", "reschedule", "cancel"},
		"refund.state.":      {"open", "done"},
		"reports.scope.":     {"institution", "bureau"},
		"room.state.":        {"open", "started", "ended"},
		"room.close.":        {"1000", "1001", "1006", "1011", "1013", "4001", "4003", "4004", "4005", "4006", "4007", "4008", "4009", "4010", "4011"},
		"room.error.":        {"forbidden", "not_found", "out_of_order", "rate_limited", "negotiation_failed", "internal"},
		"room.quality.":      {"good", "fair", "poor"},
		"recordings.status.": {"recording", "complete", "interrupted"},
		"recordings.kind.":   {"video", "audio"},
		"selftest.result.":   {"pass", "warn", "fail", "pending"},
		"selftest.room.":     {"quiet", "enclosed", "light", "alone"},
	}
}

// pageFiles returns the pages' scripts and documents.
func pageFiles(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if ext := path.Ext(p); ext == ".js" || ext == ".html" {
			b, err := fs.ReadFile(static, p)
			out[p] = string(b)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// jsComment matches line and block comments, roughly: enough for these files, whose strings
// hold no "//" but in URLs (which keep their scheme's colon before it).
var jsComment = regexp.MustCompile(`(?m)(^|[^:"'` + "`" + `])//.*$|/\*[\s\S]*?\*/`)

func TestPagesUseOnlyCatalogueKeys(t *testing.T) {
	cat := catalogue(t, languages[0])
	namespaces := map[string]bool{}
	for k := range cat {
		ns, _, _ := strings.Cut(k, ".")
		namespaces[ns] = true
	}
	// A key is a dotted lower-case name whose first part is one of the catalogue's.
	literal := regexp.MustCompile(`["']([a-z][a-z0-9_]*\.[a-z0-9_.]*[a-z0-9_])["']`)
	attr := regexp.MustCompile(`data-(?:i18n(?:-label|-placeholder|-title)?|title-key)="([^"]+)"`)
	tCall := regexp.MustCompile(`\bt\(\s*"([^"]+)"`)
	han := regexp.MustCompile(`\p{Han}`)
	stringLit := regexp.MustCompile("\"[^\"\\n]*\"|'[^'\\n]*'|`[^`]*`")
	used := 0
	for name, text := range pageFiles(t) {
		var keys []string
		if strings.HasSuffix(name, ".html") {
			for _, m := range attr.FindAllStringSubmatch(text, -1) {
				keys = append(keys, m[1])
			}
		} else {
			code := jsComment.ReplaceAllString(text, "$1")
			for _, m := range literal.FindAllStringSubmatch(code, -1) {
				if ns, _, _ := strings.Cut(m[1], "."); namespaces[ns] {
					keys = append(keys, m[1])
				}
			}
			// Whatever t() is called with as a literal is a key, whatever its first part.
			for _, m := range tCall.FindAllStringSubmatch(code, -1) {
				if !strings.HasSuffix(m[1], ".") {
					keys = append(keys, m[1])
				}
			}
			// Text for people comes from the catalogue: no Chinese in a script's strings,
			// except the few that are data, not text (punctuation joining names, the case
			// number's pattern and example).
			for _, s := range stringLit.FindAllString(code, -1) {
				if han.MatchString(s) && !allowedHan(s) {
					t.Errorf("%s: text %s belongs in the catalogue", name, s)
				}
			}
		}
		for _, k := range keys {
			used++
			if _, ok := cat[k]; !ok {
				t.Errorf("%s uses %q, which the catalogue lacks", name, k)
			}
		}
	}
	if used < 100 {
		t.Fatalf("only %d keys found in the pages: the scan is broken", used)
	}
	for prefix, values := range enumerated() {
		for _, v := range values {
			if _, ok := cat[prefix+v]; !ok {
				t.Errorf("the catalogue lacks %q", prefix+v)
			}
		}
	}
}

// allowedHan reports whether a script string with Chinese in it is data rather than text.
func allowedHan(s string) bool {
	for _, ok := range []string{`"、"`, `"（"`, `"）"`, `"民初123号"`, `"赣07"`, `"（", "("`, `"）", ")"`, `"〔"`, `"〕"`} {
		if s == ok || strings.HasPrefix(ok, s) {
			return true
		}
	}
	// The case number's procedure characters and brackets, and its example.
	return regexp.MustCompile(`^["'` + "`" + `](?:[民刑行（）〔〕、]|\(\$\{[^}]+\}\)\$\{[^}]+\}民初123号|（\$\{p\.role\}）|\$\{p\.name\}（\$\{p\.role\}）)["'` + "`" + `]$`).MatchString(s)
}
