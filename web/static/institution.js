// The institution's pages (鉴定机构): its appraisers with their eligibility and warnings, its
// testimony rooms and their calendars, the summons served on it and their acknowledgement
// (#3, #4), attendance and appearance-rate charts, and the monthly reports.
"use strict";

const instRoles = ["institution_admin"];

page("/institution", instRoles, "institution.appraisers", async (view, me) => {
  const look = await lookups();
  const mine = Object.values(look.appraisers).filter((a) => a.institution_id === me.user.institution_id);
  const rows = await Promise.all(mine.map(async (a) => {
    const e = await api("GET", `/api/v1/appraisers/${encodeURIComponent(a.id)}/eligibility`).catch(() => null);
    const status = !e ? "—" : e.eligible ? el("span", { class: "ok" }, t("institution.eligible")) :
      el("ul", { class: "warn" }, e.reasons.map((r) => el("li", { "data-code": r.code }, localize(r.message))));
    return { cells: [a.name, a.licence_no, a.licence_expires, (a.categories || []).join("、"), status],
      attrs: { "data-appraiser": a.id, "data-eligible": e ? String(e.eligible) : "" } };
  }));
  view.append(el("p", { class: "lead" }, look.institutions[me.user.institution_id]?.name || ""),
    table("institution.appraisers", ["institution.name", "institution.licence", "institution.licence_expires", "institution.categories",
      "institution.eligibility"], rows, { id: "appraisers-table" }));
});

page("/institution/summons", instRoles, "institution.summons", async (view, me) => {
  const look = await lookups();
  const draw = async () => {
    const summons = await apiAll(`/api/v1/summons?institution=${encodeURIComponent(me.user.institution_id)}&limit=200`);
    const rows = summons.items.map((sm) => {
      const inst = (sm.receipts || []).find((r) => r.party === "institution");
      const byAppraiser = (sm.receipts || []).filter((r) => r.party === "appraiser").map((r) => look.appraisers[r.party_id]?.name || r.party_id);
      const out = el("span", { role: "status" });
      const ack = inst ? when(inst.at) : el("span", {}, el("span", { class: "warn" }, t("institution.not_acknowledged")), " ",
        button("institution.acknowledge", { class: "small", "data-action": "acknowledge" }, async () => {
          try {
            await api("POST", `/api/v1/summons/${encodeURIComponent(sm.id)}/acknowledge`);
            await draw();
          } catch (err) {
            message(out, err.message, true);
          }
        }), out);
      return { cells: [sm.case_no, look.courts[sm.court_id]?.name || "", names(sm.appraiser_ids, look.appraisers),
        sm.slot ? when(sm.slot.start) : "—", stateBadge(sm.state), when(sm.served_at), ack, byAppraiser.join("、") || "—"],
      attrs: { "data-summons": sm.id, "data-case": sm.case_no } };
    });
    view.replaceChildren(view.firstChild, el("p", { class: "lead" }, t("institution.summons_lead")),
      table("institution.summons", ["refund.case", "summons.court", "summons.appraisers", "summons.slot", "refund.state",
        "institution.served", "institution.acknowledged", "institution.told_appraiser"], rows));
  };
  await draw();
});

page("/institution/rooms", instRoles, "institution.rooms", async (view, me) => {
  const [rooms, hearings, summons] = await Promise.all([
    apiAll("/api/v1/rooms?limit=200"),
    apiAll(`/api/v1/hearings?institution=${encodeURIComponent(me.user.institution_id)}&limit=500`),
    apiAll(`/api/v1/summons?institution=${encodeURIComponent(me.user.institution_id)}&limit=500`),
  ]);
  const caseNo = Object.fromEntries(summons.items.map((s) => [s.id, s.case_no]));
  const mine = rooms.items.filter((r) => r.institution_id === me.user.institution_id);
  view.append(table("institution.rooms", ["institution.room_name", "institution.location", "institution.equipment", "institution.approved"],
    mine.map((r) => [r.name, r.location, (r.equipment || []).join("、"), `${r.approved_by || ""} ${r.approved_on || ""}`])));
  for (const r of mine) {
    const events = hearings.items.filter((h) => h.room_id === r.id).map((h) => ({ start: h.start, end: h.end, label: caseNo[h.summons_id] || "" }));
    view.append(el("h3", {}, r.name), monthCalendar(events, "institution.room_calendar"));
  }
});

page("/institution/stats", instRoles, "institution.stats", async (view, me) => {
  const q = ratesQuery();
  const [byAppraiser, byMonth, reports] = await Promise.all([
    api("GET", `/api/v1/attendance/rates?by=appraiser&${q}`),
    api("GET", `/api/v1/attendance/rates?by=month&${q}`),
    apiAll(`/api/v1/reports?institution=${encodeURIComponent(me.user.institution_id)}&limit=24`),
  ]);
  const total = byAppraiser.total;
  view.append(el("p", { class: "lead", id: "rate-total", "data-served": total.served, "data-appeared": total.appeared },
    t("stats.total", { from: byMonth.from, to: byMonth.to, served: total.served, appeared: total.appeared,
      rate: total.rate === null ? "—" : `${Math.round(100 * total.rate)}%`, absent: total.absent_without_cause, excused: total.excused })),
  el("div", { class: "two" },
    el("div", { id: "chart-appraiser" }, barChart("stats.by_appraiser", rateRows(byAppraiser))),
    el("div", { id: "chart-month" }, barChart("stats.by_month", rateRows(byMonth)))),
  ratesTable(byAppraiser, "stats.table_appraiser"),
  reportsTable(reports));
});

// ratesTable lists a rates table's rows with every count (#42: justified absences apart).
function ratesTable(tb, captionKey) {
  return table(captionKey, ["stats.name", "stats.served", "stats.appeared", "stats.excused", "stats.technical", "stats.absent", "stats.no_show",
    "stats.rate", "stats.rate_excl"], tb.rows.map((r) => ({ cells: [r.name || r.key, r.served, r.appeared, r.excused, r.technical_failure,
    r.absent_without_cause, r.no_show, r.rate === null ? "—" : `${Math.round(100 * r.rate)}%`,
    r.rate_excluding_justified === null ? "—" : `${Math.round(100 * r.rate_excluding_justified)}%`], attrs: { "data-key": r.key } })));
}

// reportsTable lists reports; with institutions (ID → institution), an institution's report is
// named by its institution rather than "this institution".
function reportsTable(reports, institutions) {
  const scope = (r) => (r.scope === "institution" && institutions?.[r.institution_id]?.name) || t("reports.scope." + r.scope);
  return table("reports.caption", ["reports.period", "reports.scope", "reports.served", "reports.appeared", "reports.download"],
    reports.items.map((r) => [r.period, scope(r), r.served, r.appeared,
      el("span", { class: "row" }, download(`/api/v1/reports/${encodeURIComponent(r.id)}/download?format=xlsx`, "reports.xlsx"),
        download(`/api/v1/reports/${encodeURIComponent(r.id)}/download?format=csv`, "reports.csv"))]), { id: "reports" });
}
