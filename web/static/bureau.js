// The justice bureau's pages (司法局): every institution with its appearance rate, absences
// without cause and their follow-ups, charts over time, and the reports to download (#42, #43).
"use strict";

page("/bureau", ["bureau_admin"], "bureau.overview", async (view) => {
  const q = ratesQuery();
  const [byInst, byMonth, institutions] = await Promise.all([
    api("GET", `/api/v1/attendance/rates?by=institution&${q}`),
    api("GET", `/api/v1/attendance/rates?by=month&${q}`),
    apiAll("/api/v1/institutions?limit=500"),
  ]);
  const total = byInst.total;
  view.append(el("p", { class: "lead", id: "rate-total", "data-served": total.served, "data-appeared": total.appeared },
    t("stats.total", { from: byMonth.from, to: byMonth.to, served: total.served, appeared: total.appeared,
      rate: total.rate === null ? "—" : `${Math.round(100 * total.rate)}%`, absent: total.absent_without_cause, excused: total.excused })),
  el("div", { class: "two" },
    el("div", { id: "chart-institution" }, barChart("stats.by_institution", rateRows(byInst))),
    el("div", { id: "chart-month" }, barChart("stats.by_month", rateRows(byMonth)),
      barChart("stats.absences_by_month", byMonth.rows.map((r) => ({ label: r.name || r.key, value: r.absent_without_cause, cls: "fill-warn" }))))),
  ratesTable(byInst, "stats.table_institution"),
  table("bureau.institutions", ["institution.name", "bureau.licence", "bureau.accreditation", "institution.categories"],
    institutions.items.map((i) => [i.name, i.licence_no, `${i.accreditation_no || "—"} ${i.accreditation_expires || ""}`,
      (i.categories || []).map((c) => c.category).join("、")])));
});

page("/bureau/absences", ["bureau_admin"], "bureau.absences", async (view) => {
  const look = await lookups();
  const refunds = await apiAll("/api/v1/fee-refunds?limit=200");
  view.append(el("p", { class: "lead" }, t("bureau.absences_lead")),
    table("refund.caption", ["refund.case", "summons.court", "summons.institution", "refund.appraisers", "refund.opened", "refund.due", "refund.state"],
      refunds.items.map((f) => ({ cells: [f.case_no, look.courts[f.court_id]?.name || "", look.institutions[f.institution_id]?.name || "",
        names(f.appraiser_ids, look.appraisers), when(f.opened), when(f.due), t("refund.state." + f.state)], attrs: { "data-case": f.case_no } }))));
});

page("/bureau/reports", ["bureau_admin", "institution_admin"], "reports.title", async (view, me) => {
  // The bureau sees every institution's reports: each is named by its institution.
  const bureau = me.user.role === "bureau_admin";
  const [reports, insts] = await Promise.all([apiAll("/api/v1/reports?limit=100"),
    bureau ? apiAll("/api/v1/institutions?limit=500") : { items: [] }]);
  view.append(el("p", { class: "lead" }, t("reports.lead")),
    reportsTable(reports, byID(insts)));
  if (!bureau) return;
  // A month the monthly job missed (no server was up on the 1st) is made here; reports made
  // already stay as they were.
  const form = el("form", { class: "stack", id: "generate-form", "aria-labelledby": "generate-title" },
    el("h3", { id: "generate-title" }, t("reports.generate")),
    field("generate-period", "reports.period", el("input", { type: "month", required: true }), "reports.generate_hint"),
    el("button", { type: "submit" }, t("reports.generate_button")),
    el("p", { id: "generate-result", role: "status" }));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const out = document.getElementById("generate-result");
    try {
      const r = await api("POST", "/api/v1/reports", { period: document.getElementById("generate-period").value });
      message(out, t("reports.generated", { period: r.period, added: r.added }));
    } catch (err) {
      if (err.error?.field === "period") setError("generate-period", err.message);
      else message(out, err.message, true);
    }
  });
  view.append(form);
});
