// The appraiser's pages: my summons (acknowledge, confirm, or ask to be excused with a reason
// and evidence), eligibility warnings, my calendar with its ICS feed, and my record.
"use strict";

function appraiserSummonsCard(sm, me, look, hearing, refresh) {
  const mine = me.user.appraiser_id;
  const response = (sm.responses || []).find((r) => r.appraiser_id === mine);
  const receipt = (sm.receipts || []).find((r) => r.party === "appraiser" && r.party_id === mine);
  const card = el("article", { class: "card summons", "data-summons": sm.id, "data-case": sm.case_no, "data-state": sm.state },
    el("h4", {}, `${sm.case_no} `, stateBadge(sm.state)),
    el("dl", { class: "facts" },
      el("dt", {}, t("summons.court")), el("dd", {}, look.courts[sm.court_id]?.name || ""),
      el("dt", {}, t("summons.mode")), el("dd", {}, t("mode." + sm.mode)),
      el("dt", {}, t("summons.slot")), el("dd", { class: "slot" }, sm.slot ? `${when(sm.slot.start)} – ${clock(sm.slot.end)}` : t("summons.no_slot")),
      el("dt", {}, t("summons.reason")), el("dd", {}, localize(sm.reason)),
      el("dt", {}, t("summons.parties")), el("dd", {}, (sm.parties || []).map((p) => `${p.name}（${p.role}）`).join("、")),
      el("dt", {}, t("summons.contact")), el("dd", {}, `${sm.contact?.name || ""} ${sm.contact?.phone || ""}`),
      el("dt", {}, t("appraiser.my_answer")), el("dd", { class: "answer" }, response ? (response.confirmed ? t("summons.confirmed_at", { at: when(response.at) }) :
        t("summons.declined_because", { reason: response.reason, evidence: response.evidence || "—" })) : t("appraiser.no_answer"))));
  const out = el("p", { role: "status" });
  const actions = el("div", { class: "actions" });
  const act = async (path, body) => {
    try {
      await api("POST", `/api/v1/summons/${encodeURIComponent(sm.id)}/${path}`, body);
      await refresh();
    } catch (err) {
      message(out, err.message, true);
    }
  };
  if (!receipt && !["cancelled", "completed", "absent"].includes(sm.state)) {
    actions.append(button("appraiser.acknowledge", { class: "secondary", "data-action": "acknowledge" }, () => act("acknowledge")));
  }
  if (sm.state === "proposed" && !response?.confirmed && sm.slot?.appraiser_ids?.includes(mine)) {
    actions.append(button("appraiser.confirm", { "data-action": "confirm" }, () => act("confirm")));
  }
  if (["proposed", "confirmed", "scheduled"].includes(sm.state) && !(response && !response.confirmed)) {
    const reason = el("textarea", { id: `decline-reason-${sm.id}`, rows: 2, required: true });
    const evidence = el("input", { id: `decline-evidence-${sm.id}`, autocomplete: "off" });
    const form = el("form", { class: "stack" },
      el("label", { for: reason.id }, t("appraiser.decline_reason")), reason,
      el("label", { for: evidence.id }, t("appraiser.decline_evidence")), evidence,
      el("button", { type: "submit", class: "secondary" }, t("appraiser.decline")));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (!reason.value.trim()) {
        message(out, t("summons.err.reason"), true);
        reason.focus();
        return;
      }
      act("decline", { reason: reason.value.trim(), evidence: evidence.value.trim() });
    });
    actions.append(el("details", { class: "action", "data-kind": "decline" }, el("summary", {}, t("appraiser.decline")), form));
  }
  if (hearing && hearing.mode === "remote" && ["scheduled", "in_progress"].includes(sm.state)) {
    actions.append(el("a", { class: "button", href: `/room/${encodeURIComponent(hearing.id)}` }, t("summons.enter_room")),
      el("a", { class: "button secondary", href: "/selftest" }, t("selftest.title")),
      el("a", { class: "button secondary", href: `/api/v1/hearings/${encodeURIComponent(hearing.id)}/ics`, download: "" }, t("summons.ics")));
  }
  card.append(actions, out);
  return card;
}

page("/appraiser", ["appraiser"], "appraiser.summons", async (view, me) => {
  const look = await lookups();
  const mine = me.user.appraiser_id;
  const warnings = el("div", { id: "eligibility", "aria-live": "polite" });
  const list = el("div", { id: "summons-list" });
  const refresh = async () => {
    const [summons, hearings] = await Promise.all([
      apiAll(`/api/v1/summons?appraiser=${encodeURIComponent(mine)}&limit=200`),
      apiAll(`/api/v1/hearings?appraiser=${encodeURIComponent(mine)}&limit=500`),
    ]);
    const hearingOf = Object.fromEntries(hearings.items.map((h) => [h.summons_id, h]));
    const items = summons.items.sort((a, b) => (a.slot?.start || "").localeCompare(b.slot?.start || ""));
    list.replaceChildren(...(items.length ? items.map((sm) => appraiserSummonsCard(sm, me, look, hearingOf[sm.id], refresh)) :
      [el("p", {}, t("common.none"))]));
    document.body.dataset.listed = String(Date.now());
  };
  const el9 = await api("GET", `/api/v1/appraisers/${encodeURIComponent(mine)}/eligibility`).catch(() => null);
  if (el9 && !el9.eligible) {
    warnings.append(el("div", { class: "callout warn", role: "note" }, el("h3", {}, t("appraiser.eligibility_warnings")),
      el("ul", {}, el9.reasons.map((r) => el("li", { "data-code": r.code }, localize(r.message))))));
  } else if (el9) {
    warnings.append(el("p", { class: "ok" }, t("appraiser.eligible")));
  }
  view.append(warnings, el("h3", {}, t("appraiser.my_summons")), list);
  await refresh();
});

page("/appraiser/calendar", ["appraiser"], "appraiser.calendar", async (view, me) => {
  const mine = me.user.appraiser_id;
  const [hearings, summons] = await Promise.all([
    apiAll(`/api/v1/hearings?appraiser=${encodeURIComponent(mine)}&limit=500`),
    apiAll(`/api/v1/summons?appraiser=${encodeURIComponent(mine)}&limit=500`),
  ]);
  const caseNo = Object.fromEntries(summons.items.map((s) => [s.id, s.case_no]));
  const events = hearings.items.map((h) => ({ start: h.start, end: h.end, label: `${caseNo[h.summons_id] || ""} · ${t("mode." + h.mode)}`,
    href: h.mode === "remote" ? `/room/${encodeURIComponent(h.id)}` : "" }));
  const feed = el("div", { id: "feed", class: "callout" }, el("h3", {}, t("appraiser.ics_title")), el("p", {}, t("appraiser.ics_text")));
  const out = el("p", { role: "status" });
  feed.append(button("appraiser.ics_make", { class: "secondary" }, async () => {
    try {
      const f = await api("POST", "/api/v1/calendar-feeds", { subject: `appraiser:${mine}` });
      const url = new URL(f.url, location.origin).href;
      out.replaceChildren(t("appraiser.ics_address"), " ", el("a", { href: url, id: "ics-url" }, url));
    } catch (err) {
      message(out, err.message, true);
    }
  }), out);
  view.append(feed, monthCalendar(events, "appraiser.calendar"));
});

page("/appraiser/record", ["appraiser"], "appraiser.record", async (view, me) => {
  const look = await lookups();
  const rec = await api("GET", `/api/v1/appraisers/${encodeURIComponent(me.user.appraiser_id)}/attendance`);
  const s = rec.summary;
  view.append(el("p", { class: "lead" }, t("appraiser.record_summary", { served: s.served, appeared: s.appeared,
    rate: s.rate === null ? "—" : `${Math.round(100 * s.rate)}%` })),
  table("appraiser.record", ["refund.case", "summons.court", "summons.mode", "appraiser.status", "appraiser.why"],
    rec.entries.map((e) => ({ cells: [e.case_no, look.courts[e.court_id]?.name || "", t("mode." + e.mode), attendanceBadge(e.attendance.status),
      localize(e.attendance.why)], attrs: { "data-case": e.case_no, "data-status": e.attendance.status } }))));
});
