package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/chuting/chuting"
)

// TestCourtPageLongList: the court's page lists every summons of the court, the newest among
// them, when there are more than one page of the API's listing (which answers oldest first a
// page at a time: the page read one page and stopped showing newly served summons after
// 200); an appraiser's decline shows to the court as written, "$'" and "{evidence}"
// included (they were taken as replacement patterns and placeholders); and keyboard focus
// survives navigation and the calendar's month change.
func TestCourtPageLongList(t *testing.T) {
	exe := requireChromium(t)
	m, clock, liming := startDemo(t)
	base := "http://" + m.Addr()
	ctx := context.Background()
	clerk := newClient(t, m.Addr())
	clerk.login("clerk", demoPassword)
	days := clerk.workdays(clock.Now(), 6, 8)
	year := clock.Now().In(chuting.ChinaZone()).Year()
	serve := func(n int) string {
		t.Helper()
		cn := fmt.Sprintf("(%d)赣07民初%d号", year, n)
		if code, body := clerk.do("POST", "/api/v1/summons", map[string]any{"case_no": cn, "institution_id": liming.InstitutionID,
			"appraiser_ids": []string{liming.AppraiserID}, "mode": "remote", "remote_ground": "distance", "duration_minutes": 60,
			"windows": []map[string]string{{"start": days[6] + "T09:00:00+08:00", "end": days[7] + "T12:00:00+08:00"}},
			"parties": []map[string]string{{"name": "张三", "role": "原告"}}, "reason": "鉴定意见有争议",
			"contact": map[string]string{"name": "周书记员", "phone": "0797-8999001"}}); code != http.StatusCreated {
			t.Fatalf("serve %s: %d %s", cn, code, body)
		}
		return cn
	}
	first := serve(801)
	s1 := clerk.summonsByCase(first)
	appraiser := newClient(t, m.Addr())
	appraiser.login("liming", demoPassword)
	reason, evidence := "出差 A$'B {evidence}", "差旅单 E$`F"
	if code, body := appraiser.do("POST", "/api/v1/summons/"+s1.ID+"/decline", map[string]any{"reason": reason, "evidence": evidence}); code != http.StatusOK {
		t.Fatalf("decline: %d %s", code, body)
	}
	// Two hundred more, straight into the store (serving each would take minutes), then one
	// served through the API: the newest.
	tmpl, err := chuting.Load[chuting.Summons](ctx, m.Store, s1.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		c := *tmpl
		c.Meta, c.HearingID, c.CaseNo = chuting.Meta{}, "", fmt.Sprintf("(%d)赣07民初%d号", year, 2000+i)
		if err := chuting.Create(ctx, m.Store, &c); err != nil {
			t.Fatal(err)
		}
	}
	newest := serve(802)

	b, _ := startBrowsers(t, exe, "court", "spare")
	b.signInAs(base, "clerk", "/court")
	// Two hundred cards take a while to lay out under the race detector on a busy machine:
	// polled (an evaluation that times out is tried again), not read once.
	b.waitFor("listing every summons, the newest among them", fmt.Sprintf(
		`document.querySelectorAll("#summons-list article").length >= 202 && !!document.querySelector('#summons-list article[data-case=%s]')`,
		js(newest)), time.Minute)
	b.waitFor("showing the decline as written", fmt.Sprintf(
		`(t => t.includes(%s) && t.includes(%s))(document.querySelector('article[data-case=%s] dd.warn')?.textContent || "")`,
		js(reason), js(evidence), js(first)), 30*time.Second)

	// By keyboard: a navigation link leaves focus on the new page's heading, and the
	// calendar's next-month button keeps it across the month's redraw (both fell to the body).
	b.do("follow the calendar link by keyboard", chromedp.Focus(chromedp.CSS(`#nav a[href="/court/calendar"]`)), chromedp.KeyEvent(kb.Enter))
	b.waitFor("at the calendar", `document.body.dataset.ready === "/court/calendar"`, 15*time.Second)
	b.waitFor("focus on the page heading", `document.activeElement?.id === "page-title"`, 5*time.Second)
	b.do("next month by keyboard", chromedp.Focus(chromedp.CSS(`[data-move="1"]`)), chromedp.KeyEvent(kb.Enter))
	b.waitFor("focus kept on next month", `document.activeElement?.dataset.move === "1"`, 5*time.Second)
}
