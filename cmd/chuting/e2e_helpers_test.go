package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/chuting/chuting"
)

// Helpers of the end-to-end test (e2e_test.go): a clock the test moves, a server on it, and
// driving the pages of web/ as a person does.

// testClock is the server's clock in the end-to-end test: the real time plus an offset the
// test sets, so that the server lives at the hearing's time while media runs in real time.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Set moves the clock to at (and on from there in real time).
func (c *testClock) Set(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = time.Until(at)
}

// startDemo starts the server on its demo world at a test clock and returns it with the demo
// appraiser's account (liming), which the browser tests serve summons to.
func startDemo(t *testing.T) (*Main, *testClock, *chuting.User) {
	t.Helper()
	clock := &testClock{}
	m := startMainAt(t, clock, "--data", t.TempDir(), "--demo", "--demo-password", demoPassword)
	liming, err := chuting.FindOne[chuting.User](context.Background(), m.Store, chuting.IndexUsername, "liming")
	if err != nil {
		t.Fatal(err)
	}
	return m, clock, liming
}

// startMainAt is startMain with the server on clock.
func startMainAt(t *testing.T, clock *testClock, args ...string) *Main {
	t.Helper()
	m := NewMain(io.Discard, io.Discard)
	if testing.Verbose() && os.Getenv("CHUTING_E2E_SERVER_LOG") != "" {
		m = NewMain(os.Stdout, os.Stderr)
	}
	if err := m.ParseFlags(append([]string{"--addr", "127.0.0.1:0"}, args...), func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	m.now = clock.Now
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// js quotes s as a JavaScript string.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// open loads path and waits until its page has drawn (app.js sets body[data-ready]).
func (b *browser) open(base, path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(base+path))
	b.waitFor("showing "+path, fmt.Sprintf(`document.body.dataset.ready === %s`, js(path)), 15*time.Second)
}

// signInAs signs out whoever is signed in and signs username in on the sign-in page, which
// then shows the role's first page, home.
func (b *browser) signInAs(base, username, home string) {
	b.t.Helper()
	b.do("open the sign-in page", chromedp.Navigate(base+"/"))
	b.waitFor("loaded", `document.body.dataset.ready`, 15*time.Second)
	if ready, _ := eval[string](b, `document.body.dataset.ready`); ready != "login" {
		b.do("sign out", chromedp.Click(chromedp.CSS("#logout")))
		b.waitFor("signed out", `document.body.dataset.ready === "login"`, 15*time.Second)
	}
	b.do("sign in as "+username,
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), username),
		chromedp.SendKeys(chromedp.CSS("#password"), demoPassword+kb.Enter), // by keyboard, no click
	)
	b.waitFor("at "+home+" as "+username, fmt.Sprintf(`document.body.dataset.ready === %s`, js(home)), 15*time.Second)
}

// set gives a form control a value as a person's input would, with its input and change
// events (date and time inputs and selects take no typed keys reliably).
func (b *browser) set(sel, value string) {
	b.t.Helper()
	ok, err := eval[bool](b, fmt.Sprintf(`(() => {
		const e = document.querySelector(%s);
		if (!e) return false;
		e.focus();
		e.value = %s;
		e.dispatchEvent(new Event("input", { bubbles: true }));
		e.dispatchEvent(new Event("change", { bubbles: true }));
		return true;
	})()`, js(sel), js(value)))
	if err != nil || !ok {
		b.t.Fatalf("%s: set %s: %v (found: %v)", b.name, sel, err, ok)
	}
}

func (b *browser) click(sel string) {
	b.t.Helper()
	b.do("click "+sel, chromedp.ScrollIntoView(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := eval[string](b, fmt.Sprintf(`document.querySelector(%s)?.textContent ?? ""`, js(sel)))
	if err != nil {
		b.t.Fatalf("%s: text of %s: %v", b.name, sel, err)
	}
	return s
}

// screenshotDir is where the test saves its full-page screenshots: artifacts/screenshots at
// the top of the repository (git-ignored), or $CHUTING_SCREENSHOTS.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("CHUTING_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "artifacts", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// shot saves a full-page screenshot of what the browser shows as name.png.
func (b *browser) shot(dir, name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("%s: screenshot %s: %v", b.name, name, err)
	}
	name = strings.NewReplacer("/", "_", " ", "_").Replace(name)
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// setLanguage chooses the pages' language as the switch does (it remembers it in
// localStorage), for the next page loaded.
func (b *browser) setLanguage(lang string) {
	b.t.Helper()
	if _, err := eval[bool](b, fmt.Sprintf(`(localStorage.setItem("chuting.lang", %s), true)`, js(lang))); err != nil {
		b.t.Fatal(err)
	}
}

// viewport sets the window's size.
func (b *browser) viewport(w, h int64) {
	b.t.Helper()
	b.do("viewport", chromedp.EmulateViewport(w, h))
}

// unlabelled lists the visible form controls of the page that have no accessible name (a
// label, aria-label or aria-labelledby), for screen readers.
func (b *browser) unlabelled() string {
	b.t.Helper()
	s, err := eval[string](b, `[...document.querySelectorAll("input, select, textarea, button, meter")]
		.filter((e) => e.type !== "hidden" && e.offsetParent !== null)
		.filter((e) => !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !e.getAttribute("aria-labelledby") &&
			!(e.tagName === "BUTTON" && e.textContent.trim()))
		.map((e) => e.outerHTML.slice(0, 80)).join("; ")`)
	if err != nil {
		b.t.Fatalf("%s: labels: %v", b.name, err)
	}
	return s
}

// overflows reports whether the page is wider than the window (it then scrolls sideways).
func (b *browser) overflows() bool {
	b.t.Helper()
	wide, err := eval[bool](b, `document.documentElement.scrollWidth > window.innerWidth + 1`)
	if err != nil {
		b.t.Fatalf("%s: width: %v", b.name, err)
	}
	return wide
}
