package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chuting/chuting"
)

// The whole story in real browsers (web/static, headless Chromium with a fake camera and
// microphone), on a fresh demo server whose clock the test moves (testClock):
//
//  1. The clerk serves two summons on the court's page (the inline checks of the case
//     number and of the notice period are seen to work first); the appraiser confirms both
//     on their page.
//  2. At the first hearing's time the judge and the appraiser open the room; the appraiser
//     waits and sees no video (#17); the judge admits them; each plays the other's video;
//     both see the recording indicator; the judge ends the hearing. The recording is listed,
//     its player loads and plays, and its verification passes. The appraiser's record says
//     "appeared remotely", and the institution's appearance-rate chart counts it.
//  3. The appraiser never joins the second hearing: after its time the clerk records the
//     absence without cause on the court's page, which then shows that status, and the
//     fee-refund follow-up appears on the follow-ups page (#36).
//
// Every page of every role is saved as a full-page screenshot in zh-CN and in English (in
// artifacts/screenshots/, or $CHUTING_SCREENSHOTS), and the English pages are checked to be
// in English. The first hearing's recording is found in the court's archive, its player
// plays it and its verification passes.

// summonsOf is what the test reads back through the API.
type summonsOf struct {
	ID        string `json:"id"`
	State     string `json:"state"`
	HearingID string `json:"hearing_id"`
	Slot      *struct {
		Start time.Time `json:"start"`
		End   time.Time `json:"end"`
	} `json:"slot"`
}

func (c *client) summonsByCase(caseNo string) summonsOf {
	c.t.Helper()
	code, body := c.do("GET", "/api/v1/summons?case_no="+url.QueryEscape(caseNo), nil)
	var v struct{ Items []summonsOf }
	if code != http.StatusOK || json.Unmarshal(body, &v) != nil || len(v.Items) != 1 {
		c.t.Fatalf("summons %s: %d %s", caseNo, code, body)
	}
	return v.Items[0]
}

// appearedOf returns the appraiser's appearances in the rates the institution sees.
func (c *client) appearedOf(appraiserID string) int {
	c.t.Helper()
	from, to := time.Now().AddDate(-1, 0, 0).Format(time.DateOnly), time.Now().AddDate(0, 4, 0).Format(time.DateOnly)
	code, body := c.do("GET", "/api/v1/attendance/rates?by=appraiser&from="+from+"&to="+to, nil)
	var v struct {
		Rows []struct {
			Key      string `json:"key"`
			Appeared int    `json:"appeared"`
		} `json:"rows"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &v) != nil {
		c.t.Fatalf("rates: %d %s", code, body)
	}
	for _, r := range v.Rows {
		if r.Key == appraiserID {
			return r.Appeared
		}
	}
	return 0
}

// workdays returns n working days in China (by the server's holiday calendar, with its
// make-up working days) starting after days from from, as YYYY-MM-DD: the test runs on any
// day of the year, also before the Spring Festival or National Day.
func (c *client) workdays(from time.Time, after, n int) []string {
	c.t.Helper()
	holiday, workday := map[string]bool{}, map[string]bool{}
	d := from.In(chuting.ChinaZone()).AddDate(0, 0, after)
	for _, y := range []int{d.Year(), d.Year() + 1} {
		code, body := c.do("GET", fmt.Sprintf("/api/v1/holidays/%d", y), nil)
		var v struct{ Holidays, Workdays []string }
		if code != http.StatusOK || json.Unmarshal(body, &v) != nil {
			c.t.Fatalf("holidays %d: %d %s", y, code, body)
		}
		for _, h := range v.Holidays {
			holiday[h] = true
		}
		for _, w := range v.Workdays {
			workday[w] = true
		}
	}
	var out []string
	for len(out) < n {
		d = d.AddDate(0, 0, 1)
		day := d.Format(time.DateOnly)
		weekend := d.Weekday() == time.Saturday || d.Weekday() == time.Sunday
		if workday[day] || !weekend && !holiday[day] {
			out = append(out, day)
		}
	}
	return out
}

// serveSummons fills in the court's summons form as the clerk and serves it: the case number
// typed, liming named, remote with its ground, the given days from 09:00 to 12:00.
func serveSummons(b *browser, caseNo, institutionID, appraiserID string, days []string) {
	b.t.Helper()
	b.do("type the case number", chromedp.SendKeys(chromedp.CSS("#case-no"), caseNo))
	b.set("#institution", institutionID)
	b.click("#appr-" + appraiserID)
	b.set("#mode", "remote")
	b.set("#ground", "distance")
	b.set("#ground-note", "鉴定人在外地执业")
	for i, d := range days {
		if i > 0 {
			b.click("#add-window")
		}
		row := fmt.Sprintf("#windows-list .window:nth-child(%d) ", i+1)
		b.set(row+".w-date", d)
		b.set(row+".w-from", "09:00")
		b.set(row+".w-to", "12:00")
	}
	b.set("#parties .party:nth-child(1) .p-name", "张三")
	b.set("#parties .party:nth-child(1) .p-role", "原告")
	b.set("#parties .party:nth-child(2) .p-name", "赣州某运输有限公司")
	b.set("#parties .party:nth-child(2) .p-role", "被告")
	b.set("#reason", "被告对鉴定意见有异议，申请鉴定人出庭")
	b.set("#contact-name", "周书记员")
	b.set("#contact-phone", "0797-8999001")
	b.click("#serve")
	b.waitFor("showing the proposed slot of "+caseNo, `document.getElementById("proposed-slot")`, 15*time.Second)
	b.waitFor("listing "+caseNo, fmt.Sprintf(`document.querySelector('#summons-list article[data-case=%s]')`, js(caseNo)), 15*time.Second)
}

func TestE2E(t *testing.T) {
	exe := requireChromium(t)
	began := time.Now()
	m, clock, liming := startDemo(t)
	base := "http://" + m.Addr()
	clerkAPI := newClient(t, m.Addr())
	clerkAPI.login("clerk", demoPassword)
	instAPI := newClient(t, m.Addr())
	instAPI.login("center-admin", demoPassword)
	appearedBefore := instAPI.appearedOf(liming.AppraiserID)

	// court: the clerk, judge, institution and bureau in turn; expert: the appraiser.
	court, expert := startBrowsers(t, exe, "court", "appraiser")
	court.viewport(1366, 768)
	expert.viewport(1366, 768)
	shots := screenshotDir(t)

	// 1. The clerk serves two summons through the page.
	year := time.Now().In(chuting.ChinaZone()).Year()
	case1, case2 := fmt.Sprintf("(%d)赣07民初901号", year), fmt.Sprintf("(%d)赣07民初902号", year)
	court.signInAs(base, "clerk", "/court")
	// A case with an opinion on file: its institution and signatories are chosen at once (#6).
	court.do("type the demo opinion's case number", chromedp.SendKeys(chromedp.CSS("#case-no"), "(2026)赣07民初123号"))
	court.waitFor("the opinion found", `document.getElementById("opinion-note").textContent.includes("0123") &&
		document.querySelectorAll("#appraisers input:checked").length === 2`, 5*time.Second)
	court.open(base, "/court")
	// The inline checks: a malformed case number, and a day inside the notice period (#1, #2).
	court.do("type a malformed case number", chromedp.SendKeys(chromedp.CSS("#case-no"), "(2026)赣07民初"))
	court.waitFor("the case number's error", `document.getElementById("case-no-error").textContent !== "" &&
		document.getElementById("case-no").getAttribute("aria-invalid") === "true"`, 5*time.Second)
	court.set("#case-no", "")
	court.set("#windows-list .window:nth-child(1) .w-date", time.Now().In(chuting.ChinaZone()).AddDate(0, 0, 1).Format(time.DateOnly))
	court.waitFor("the notice period's error", `document.getElementById("windows-error").textContent.includes("3")`, 5*time.Second)
	// In person, the court's 2 travel days count too (在途时间, #2): 4 days ahead is too soon,
	// and the hint says 5; remote, 4 days ahead is fine.
	court.set("#windows-list .window:nth-child(1) .w-date", time.Now().In(chuting.ChinaZone()).AddDate(0, 0, 4).Format(time.DateOnly))
	court.set("#mode", "in_person")
	court.waitFor("the in-person notice period's error", `document.getElementById("windows-error").textContent.includes("不足 5 日") &&
		document.getElementById("windows-hint").textContent.includes("至少 5 日")`, 5*time.Second)
	court.set("#mode", "remote")
	court.waitFor("no error for a remote hearing 4 days ahead", `document.getElementById("windows-error").textContent === "" &&
		document.getElementById("windows-hint").textContent.includes("至少 3 日")`, 5*time.Second)
	days := clerkAPI.workdays(time.Now(), 6, 8)
	serveSummons(court, case1, liming.InstitutionID, liming.AppraiserID, days[:3])
	if msg := court.text("#case-no-error") + court.text("#windows-error"); msg != "" {
		t.Fatalf("inline errors left after a valid summons: %q", msg)
	}
	court.do("reload", chromedp.Reload())
	court.waitFor("the court's page again", `document.body.dataset.ready === "/court"`, 15*time.Second)
	serveSummons(court, case2, liming.InstitutionID, liming.AppraiserID, days[3:])
	s1, s2 := clerkAPI.summonsByCase(case1), clerkAPI.summonsByCase(case2)
	if s1.Slot == nil || s2.Slot == nil || s1.State != "proposed" {
		t.Fatalf("served summons: %+v %+v", s1, s2)
	}
	// A third, served through the API, which the appraiser will ask to be excused from.
	case3 := fmt.Sprintf("(%d)赣07民初903号", year)
	if code, body := clerkAPI.do("POST", "/api/v1/summons", map[string]any{"case_no": case3, "institution_id": liming.InstitutionID,
		"appraiser_ids": []string{liming.AppraiserID}, "mode": "remote", "remote_ground": "distance", "duration_minutes": 60,
		"windows": []map[string]string{{"start": days[6] + "T09:00:00+08:00", "end": days[7] + "T12:00:00+08:00"}},
		"parties": []map[string]string{{"name": "李四", "role": "原告"}}, "reason": "当事人申请鉴定人出庭",
		"contact": map[string]string{"name": "周书记员", "phone": "0797-8999001"}}); code != http.StatusCreated {
		t.Fatalf("serve %s: %d %s", case3, code, body)
	}

	// The appraiser confirms both on their page.
	expert.signInAs(base, "liming", "/appraiser")
	for _, c := range []string{case1, case2} {
		card := fmt.Sprintf(`#summons-list article[data-case=%s]`, js(c))
		expert.click(card + ` button[data-action="confirm"]`)
		expert.waitFor(c+" scheduled", fmt.Sprintf(`document.querySelector(%s)?.dataset.state === "scheduled"`, js(card)), 15*time.Second)
	}
	// and asks to be excused from the third, with a reason and evidence.
	card3 := fmt.Sprintf(`#summons-list article[data-case=%s]`, js(case3))
	expert.click(card3 + ` details[data-kind="decline"] summary`)
	expert.set(card3+` details[data-kind="decline"] textarea`, "同日另有出庭通知")
	expert.set(card3+` details[data-kind="decline"] input`, "（2026）赣0702民初456号出庭通知")
	expert.click(card3 + ` details[data-kind="decline"] button[type="submit"]`)
	expert.waitFor(case3+" declined", fmt.Sprintf(`document.querySelector(%s)?.dataset.state === "declined"`, js(card3)), 15*time.Second)
	s1, s2 = clerkAPI.summonsByCase(case1), clerkAPI.summonsByCase(case2)
	if s1.HearingID == "" || s2.HearingID == "" {
		t.Fatalf("confirmed summons without hearings: %+v %+v", s1, s2)
	}
	t.Logf("served and confirmed in %v; hearings at %v and %v", time.Since(began).Round(time.Millisecond), s1.Slot.Start, s2.Slot.Start)

	// 2. The first hearing's time: both open the room from their pages.
	clock.Set(s1.Slot.Start.Add(-5 * time.Minute))
	court.signInAs(base, "judge", "/court")
	room := fmt.Sprintf(`#summons-list article[data-case=%s] a[href^="/room/"]`, js(case1))
	court.click(room)
	court.waitFor("in the hearing", `document.body.dataset.state === "admitted"`, 15*time.Second)
	expert.open(base, "/appraiser")
	expert.click(room)
	expert.waitFor("in the waiting room", `document.body.dataset.state === "waiting" && !document.getElementById("waiting").hidden`, 15*time.Second)
	judgeID, err := eval[string](court, `window.chutingRoom.self`)
	if err != nil {
		t.Fatal(err)
	}
	expertID, err := eval[string](expert, `window.chutingRoom.self`)
	if err != nil {
		t.Fatal(err)
	}
	waiting := fmt.Sprintf(`#participants li[data-participant=%q][data-state="waiting"]`, expertID)
	court.waitFor("listing the waiting appraiser", fmt.Sprintf(`document.querySelector(%s + ' button[data-action="admit"]')`, js(waiting)), 15*time.Second)
	court.waitFrames(expertID, 20*time.Second) // the identity check: the judge sees the witness (#26)
	expert.seesNoVideo()                       // and the witness sees nobody (#17)
	expert.shot(shots, "appraiser_room-waiting_zh-CN")
	expert.click("#lang")
	expert.waitFor("the waiting room in English", `document.getElementById("waiting-title").textContent === "Waiting room" &&
		!/\p{Script=Han}/u.test(document.getElementById("participants").textContent)`, 5*time.Second)
	expert.shot(shots, "appraiser_room-waiting_en")
	expert.click("#lang")
	expert.waitFor("the waiting room in Chinese", `document.getElementById("waiting-title").textContent === "等候室"`, 5*time.Second)
	court.click(waiting + ` button[data-action="admit"]`)
	expert.waitFor("admitted", `document.body.dataset.state === "admitted" && document.getElementById("waiting").hidden`, 10*time.Second)
	expert.waitFrames(judgeID, 20*time.Second)
	court.waitFrames(expertID, 20*time.Second)
	court.click("#start-hearing")
	court.waitFor("the hearing started", `window.chutingRoom.hearing.state === "started"`, 10*time.Second)
	// The judge's start starts the recording, and everyone in the room sees that it records.
	for _, b := range []*browser{court, expert} {
		b.waitFor("showing the recording indicator", `!document.getElementById("recording").hidden`, 10*time.Second)
	}
	court.shot(shots, "judge_room_zh-CN")
	for _, b := range []*browser{court, expert} {
		if u := b.unlabelled(); u != "" {
			t.Errorf("%s: room controls without a label: %s", b.name, u)
		}
	}
	expert.shot(shots, "appraiser_room_zh-CN")
	// The language switch of the room changes its text in place, without leaving the room.
	court.click("#lang")
	court.waitFor("the room in English", `document.documentElement.lang === "en" && document.getElementById("start-hearing").textContent === "Start hearing"`, 5*time.Second)
	court.shot(shots, "judge_room_en")
	if state, _ := eval[string](court, `document.body.dataset.state`); state != "admitted" {
		t.Fatalf("the judge's room after the language switch: %s", state)
	}
	court.click("#lang")
	court.waitFor("the room in Chinese", `document.documentElement.lang === "zh-CN"`, 5*time.Second)
	// The one-step switch to audio only (#47), and back.
	expert.click("#audio-only")
	expert.waitFor("audio only", `document.body.classList.contains("audio-only") &&
		window.chutingRoom.media.getVideoTracks().every((t) => !t.enabled)`, 5*time.Second)
	expert.click("#audio-only")
	expert.waitFor("video again", `window.chutingRoom.media.getVideoTracks().every((t) => t.enabled)`, 5*time.Second)
	if _, err := eval[bool](court, `(window.confirm = () => true, true)`); err != nil { // the end's "are you sure?"
		t.Fatal(err)
	}
	court.click("#end-hearing")
	court.waitFor("the hearing ended", `document.body.dataset.state === "closed"`, 10*time.Second)
	expert.waitFor("out of the ended hearing", `document.body.dataset.state === "closed"`, 10*time.Second)
	t.Logf("hearing 1 done %v after the start", time.Since(began).Round(time.Millisecond))

	// The appraiser appeared: on their record, on the court's page, and in the institution's chart.
	expert.open(base, "/appraiser/record")
	expert.waitFor("the record saying appeared", fmt.Sprintf(`document.querySelector('tr[data-case=%s]')?.dataset.status === "appeared_remote"`, js(case1)), 10*time.Second)
	court.open(base, "/court")
	court.waitFor("the court seeing the appearance", fmt.Sprintf(
		`document.querySelector('article[data-case=%s] .attendance li[data-status="appeared_remote"]')`, js(case1)), 10*time.Second)
	if got := instAPI.appearedOf(liming.AppraiserID); got != appearedBefore+1 {
		t.Fatalf("the institution's rates count %d appearances of liming, want %d", got, appearedBefore+1)
	}
	// The recording is in the court's archive; its player loads and plays the participants'
	// files, and the server's verification of the signed manifest passes (#31).
	court.open(base, "/recordings")
	recRow := fmt.Sprintf(`#recordings-results tr[data-case=%s]`, js(case1))
	court.waitFor("the recording listed", fmt.Sprintf(`document.querySelector(%s)`, js(recRow)), 10*time.Second)
	court.click(recRow + " a")
	recPage := "/recordings/" + s1.HearingID
	court.waitFor("the recording's page", fmt.Sprintf(`document.body.dataset.ready === %s`, js(recPage)), 10*time.Second)
	for deadline := time.Now().Add(20 * time.Second); ; {
		if ok, _ := eval[bool](court, `document.getElementById("verification")?.dataset.ok === "true"`); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the recording's verification did not pass: %q", court.text("#verification"))
		}
		time.Sleep(500 * time.Millisecond)
		court.open(base, recPage) // the manifest is signed a moment after the end
	}
	if hash := court.text("#root-hash"); !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(hash) {
		t.Fatalf("the recording's integrity value: %q", hash)
	}
	// The page offers the recording's package, and its link downloads a zip (its contents
	// are checked in http's TestRecordingAccess, the command that checks it in
	// TestVerifyCommand).
	pkg, err := eval[string](court, `(async () => {
		const res = await fetch(document.getElementById("package").href);
		const b = new Uint8Array(await res.arrayBuffer());
		return res.status + " " + res.headers.get("Content-Type") + " " + String.fromCharCode(b[0], b[1]) + " " + b.length;
	})()`, chromedp.EvalAwaitPromise)
	if f := strings.Fields(pkg); err != nil || len(f) != 4 || f[0] != "200" || f[1] != "application/zip" || f[2] != "PK" {
		t.Fatalf("the recording's package link: %q, %v", pkg, err)
	}
	court.waitFor("the player's files loaded", `document.querySelectorAll(".player video[data-file]").length >= 2 &&
		[...document.querySelectorAll(".player video[data-file]")].every((v) => v.readyState >= 1)`, 15*time.Second)
	court.click("#player-play")
	court.waitFor("the player playing", `Number(document.getElementById("player-position").value) > 0.5 &&
		[...document.querySelectorAll(".player video[data-file]")].some((v) => v.currentTime > 0.3 && v.videoWidth > 0)`, 15*time.Second)
	court.shot(shots, "judge_recording_zh-CN")
	court.setLanguage("en")
	court.open(base, recPage)
	court.shot(shots, "judge_recording_en")
	court.setLanguage("zh-CN")

	court.signInAs(base, "center-admin", "/institution")
	court.open(base, "/institution/stats")
	bar := `#chart-appraiser g.bar[data-label="李明"]`
	court.waitFor("the rate chart counting the appearance", fmt.Sprintf(
		`Number(document.querySelector(%s)?.dataset.value) === %d`, js(bar), appearedBefore+1), 10*time.Second)

	// 3. The appraiser never joins the second hearing; after it the clerk records the absence.
	clock.Set(s2.Slot.End.Add(5 * time.Minute))
	court.signInAs(base, "clerk", "/court")
	card2 := fmt.Sprintf(`#summons-list article[data-case=%s]`, js(case2))
	outcome := card2 + ` details[data-kind="outcome"]`
	court.click(outcome + " summary")
	court.set(outcome+" select", "without_cause")
	court.set(outcome+" input", "经合法通知，鉴定人未到庭，亦未说明理由")
	court.click(outcome + ` button[type="submit"]`)
	court.waitFor("the absence without cause on the court's page", fmt.Sprintf(
		`document.querySelector(%s + ' .attendance li[data-status="absent_without_cause"]')`, js(card2)), 10*time.Second)
	// The court accepts the third summons's excuse (#37).
	card3court := fmt.Sprintf(`#summons-list article[data-case=%s]`, js(case3))
	excuse := card3court + ` details[data-kind="excuse"]`
	court.waitFor("the excuse to decide", fmt.Sprintf(`document.querySelector(%s)?.open`, js(excuse)), 5*time.Second)
	court.set(excuse+" select", "true")
	court.set(excuse+" input", "另案出庭在先，准许")
	court.click(excuse + ` button[type="submit"]`)
	court.waitFor(case3+" excused", fmt.Sprintf(`document.querySelector(%s)?.dataset.state === "excused"`, js(card3court)), 10*time.Second)
	court.open(base, "/court/follow-ups")
	refund := fmt.Sprintf(`#refunds tr[data-case=%s]`, js(case2))
	court.waitFor("the fee-refund follow-up", fmt.Sprintf(`document.querySelector(%s)?.dataset.state === "open"`, js(refund)), 10*time.Second)
	court.shot(shots, "clerk_court_follow-ups-open_zh-CN")
	court.set(refund+" input", "责令鉴定机构三日内退还鉴定费")
	court.click(refund + ` button[type="submit"]`)
	court.waitFor("the fee refund closed", fmt.Sprintf(`document.querySelector(%s)?.dataset.state === "done"`, js(refund)), 10*time.Second)
	t.Logf("hearing 2 done %v after the start", time.Since(began).Round(time.Millisecond))

	// Every page of every role, in zh-CN and in English.
	pages := []struct {
		b        *browser
		user     string
		home     string
		paths    []string
		role     string
		selftest bool
	}{
		{court, "clerk", "/court", []string{"/court", "/court/calendar", "/court/follow-ups", "/recordings", "/account"}, "clerk", false},
		{expert, "liming", "/appraiser", []string{"/appraiser", "/appraiser/calendar", "/appraiser/record", "/selftest", "/account"}, "appraiser", true},
		{court, "center-admin", "/institution", []string{"/institution", "/institution/summons", "/institution/rooms", "/institution/stats", "/bureau/reports"}, "institution", false},
		{court, "bureau", "/bureau", []string{"/bureau", "/bureau/absences", "/bureau/reports", "/account"}, "bureau", false},
	}
	han := regexp.MustCompile(`\p{Han}`)
	for _, p := range pages {
		p.b.signInAs(base, p.user, p.home)
		for _, lang := range []string{"zh-CN", "en"} {
			p.b.setLanguage(lang)
			for _, path := range p.paths {
				p.b.open(base, path)
				title := p.b.text("#page-title")
				if lang == "en" && han.MatchString(title) || lang == "zh-CN" && !han.MatchString(title) {
					t.Errorf("%s in %s: title %q", path, lang, title)
				}
				if path == "/selftest" && p.selftest {
					p.b.click("#run-selftest")
					p.b.waitFor("the self-test done", `document.body.dataset.selftest === "done"`, 20*time.Second)
					res, _ := eval[string](p.b, `[...document.querySelectorAll(".checks-list li")].map((li) => li.id + "=" + li.dataset.result).join(" ")`)
					if !regexp.MustCompile(`check-camera=pass check-mic=\w+ check-upload=(pass|warn)`).MatchString(res) {
						t.Errorf("self-test: %s", res)
					}
				}
				if u := p.b.unlabelled(); u != "" {
					t.Errorf("%s: controls without a label: %s", path, u)
				}
				p.b.shot(shots, fmt.Sprintf("%s%s_%s", p.role, path, lang))
			}
		}
		p.b.setLanguage("zh-CN")
	}
	// The bureau (signed in last) makes the reports of a month the monthly job missed: last
	// month on the server's clock; the page then lists them.
	month := clock.Now().In(chuting.ChinaZone()).AddDate(0, 0, -clock.Now().In(chuting.ChinaZone()).Day()).Format("2006-01")
	court.open(base, "/bureau/reports")
	court.set("#generate-period", month)
	court.click(`#generate-form button[type="submit"]`)
	court.waitFor("the month's reports made", fmt.Sprintf(`document.getElementById("generate-result").textContent.startsWith(%s)`, js(month)), 10*time.Second)
	court.open(base, "/bureau/reports")
	court.waitFor("the month's reports listed", fmt.Sprintf(
		`[...document.querySelectorAll("#reports tbody tr")].filter((tr) => tr.cells[0].textContent === %s).length >= 2`, js(month)), 10*time.Second)
	// Each institution's report is named by its institution, not "this institution".
	court.waitFor("the reports named by institution", fmt.Sprintf(`(() => {
		const scopes = [...document.querySelectorAll("#reports tbody tr")].filter((tr) => tr.cells[0].textContent === %s).map((tr) => tr.cells[1].textContent);
		return scopes.includes("全市") && scopes.some((s) => s.endsWith("司法鉴定中心") || s.endsWith("司法鉴定所")) && !scopes.includes("本机构");
	})()`, js(month)), 10*time.Second)
	court.shot(shots, "bureau_bureau_reports-made_zh-CN")

	// The sign-in page, and two pages at phone width.
	court.do("sign out", chromedp.Click(chromedp.CSS("#logout")))
	court.waitFor("signed out", `document.body.dataset.ready === "login"`, 10*time.Second)
	court.shot(shots, "signin_zh-CN")
	court.setLanguage("en")
	court.do("reload the sign-in page", chromedp.Navigate(base+"/"))
	court.waitFor("the sign-in page in English", `document.body.dataset.ready === "login" && document.getElementById("login-title").textContent === "Sign in"`, 10*time.Second)
	court.shot(shots, "signin_en")
	court.setLanguage("zh-CN")
	// At phone width the appraiser's pages fit the screen (tables and the calendar scroll
	// within their own box).
	expert.viewport(390, 844)
	for _, path := range []string{"/appraiser", "/appraiser/calendar", "/appraiser/record", "/selftest"} {
		expert.open(base, path)
		if expert.overflows() {
			t.Errorf("%s is wider than a phone's screen", path)
		}
		expert.shot(shots, "phone_appraiser"+path+"_zh-CN")
	}
	// No page broke the Content-Security-Policy or threw.
	for _, b := range []*browser{court, expert} {
		b.mu.Lock()
		for _, l := range b.logs {
			if strings.Contains(l, "Content Security Policy") || strings.Contains(l, "Uncaught") {
				t.Errorf("%s console: %s", b.name, l)
			}
		}
		b.mu.Unlock()
	}
	t.Logf("screenshots in %s; all done in %v", shots, time.Since(began).Round(time.Millisecond))
}
