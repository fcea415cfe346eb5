// The court's pages (clerk, judge): serve a summons with inline checks (#1, #2, #14, #15),
// the court's summons with their proposed slot, alternatives and the steps the court takes
// (confirm the outcome, reschedule, cancel, decide excuses), the court's calendar, and the
// follow-up tasks of absences without cause (#36).
"use strict";

const courtRoles = ["clerk", "judge"];

// caseNoPattern is the server's (scheduler.ParseCaseNo): (2026)赣07民初123号.
const caseNoPattern = /^\((\d{4})\)(\p{Script=Han}\d{2,4})(\p{Script=Han}{1,3})(\d{1,6})号$/u;

function normaliseCaseNo(s) {
  return s.trim().replaceAll("（", "(").replaceAll("）", ")").replaceAll("〔", "(").replaceAll("〕", ")").replaceAll(" ", "");
}

// checkCaseNo returns the problem with a case number for court, or "" and the case type.
function checkCaseNo(raw, court) {
  const m = caseNoPattern.exec(normaliseCaseNo(raw));
  if (!m) return { error: t("summons.err.case_no_format") };
  const type = { 民: "civil", 刑: "criminal", 行: "administrative" }[m[3][0]];
  if (!type) return { error: t("summons.err.case_no_procedure") };
  if (court?.code && m[2] !== court.code) return { error: t("summons.err.case_no_court", { code: court.code }) };
  return { error: "", type };
}

// noticeDays is the notice period of a summons in mode (#2): the court's (at least 3 days),
// plus its travel days (在途时间) for an appearance in person, as the server counts it.
function noticeDays(court, mode) {
  return Math.max(3, court?.notice_days || 3) + (mode === "in_person" ? court?.travel_days || 0 : 0);
}

// earliestDate is the first date a hearing in mode may be on when served today (#2): today
// plus the notice period, in the courts' zone.
function earliestDate(court, mode) {
  return ymd(Date.now() + noticeDays(court, mode) * 86400e3);
}

function summonsForm(court, look, onServed) {
  const insts = Object.values(look.institutions);
  const form = el("form", { id: "summons-form", class: "grid-form", novalidate: true, "aria-labelledby": "new-summons-title" },
    el("h3", { id: "new-summons-title" }, t("summons.new")));
  const caseNo = el("input", { placeholder: `(${new Date().getFullYear()})${court?.code || "赣07"}民初123号`, autocomplete: "off", required: true });
  const caseType = el("output", { id: "case-type", "aria-live": "polite" });
  const inst = select([["", t("summons.choose")], ...insts.map((i) => [i.id, i.name])]);
  const appraiserBox = el("fieldset", { id: "appraisers", class: "checks" }, el("legend", {}, t("summons.appraisers")));
  const mode = select([["remote", t("mode.remote")], ["in_person", t("mode.in_person")]], "remote");
  const ground = select([["", t("summons.choose")], ...["health", "distance", "force_majeure", "other"].map((g) => [g, t("ground." + g)])]);
  const groundNote = el("input", { autocomplete: "off" });
  const duration = select([30, 60, 90, 120, 180, 240].map((m) => [String(m), t("summons.minutes", { n: m })]), "60");
  const windows = el("div", { id: "windows", class: "windows" });
  const parties = el("div", { id: "parties", class: "windows" });
  const reason = el("textarea", { rows: 2, required: true });
  const contactName = el("input", { autocomplete: "name", value: "" });
  const contactPhone = el("input", { autocomplete: "tel", inputmode: "tel" });
  const priv = el("input", { type: "checkbox" });
  const result = el("div", { id: "summons-result", role: "status", "aria-live": "polite" });

  const addWindow = () => {
    const i = windows.children.length;
    const date = el("input", { type: "date", min: earliestDate(court, mode.value), "aria-label": t("summons.window_date", { n: i + 1 }), class: "w-date" });
    const from = el("input", { type: "time", value: "09:00", step: 900, "aria-label": t("summons.window_from", { n: i + 1 }), class: "w-from" });
    const to = el("input", { type: "time", value: "12:00", step: 900, "aria-label": t("summons.window_to", { n: i + 1 }), class: "w-to" });
    const remove = button("summons.remove_window", { class: "secondary small" }, () => row.remove());
    const row = el("div", { class: "window row" }, date, from, to, remove);
    date.addEventListener("change", checkWindows);
    windows.append(row);
  };
  const addParty = () => {
    const i = parties.children.length;
    const row = el("div", { class: "party row" },
      el("input", { class: "p-name", "aria-label": t("summons.party_name", { n: i + 1 }), autocomplete: "off" }),
      el("input", { class: "p-role", "aria-label": t("summons.party_role", { n: i + 1 }), autocomplete: "off", placeholder: t("summons.party_role_hint") }));
    parties.append(row);
  };
  addWindow();
  addParty();
  addParty();

  const drawAppraisers = () => {
    const list = Object.values(look.appraisers).filter((a) => a.institution_id === inst.value);
    appraiserBox.replaceChildren(el("legend", {}, t("summons.appraisers")));
    if (!inst.value) appraiserBox.append(el("p", { class: "hint" }, t("summons.choose_institution_first")));
    for (const a of list) {
      const id = `appr-${a.id}`;
      appraiserBox.append(el("label", { for: id, class: "check" },
        el("input", { type: "checkbox", id, value: a.id, name: "appraiser" }), ` ${a.name} · ${(a.categories || []).join("、")}`));
    }
    appraiserBox.append(el("p", { id: "appraisers-error", class: "field-error", role: "alert" }));
  };
  inst.addEventListener("change", drawAppraisers);
  drawAppraisers();

  // Inline checks, as the person types: the case number (#1), the criminal default (#15),
  // the remote ground (#14) and the notice period (#2).
  // The opinion of the case (#6): only its signatories may be summoned on it, so a case
  // number with an opinion on file chooses its institution and signatories at once.
  const opinionNote = el("p", { id: "opinion-note", class: "hint", "aria-live": "polite" });
  let lookedUp = "";
  async function findOpinion(norm) {
    if (norm === lookedUp) return;
    lookedUp = norm;
    delete form.dataset.opinion;
    opinionNote.textContent = "";
    const res = await apiAll(`/api/v1/opinions?case_no=${encodeURIComponent(norm)}`).catch(() => null);
    const o = res?.items?.[0];
    if (!o || lookedUp !== norm) return;
    form.dataset.opinion = o.id;
    opinionNote.textContent = t("summons.opinion_found", { document: o.document_no, names: names(o.signatories, look.appraisers) });
    if (!inst.value && o.institution_id) {
      inst.value = o.institution_id;
      drawAppraisers();
    }
    if (!appraiserBox.querySelector("input:checked")) {
      for (const id of o.signatories || []) {
        const box = appraiserBox.querySelector(`input[value="${CSS.escape(id)}"]`);
        if (box) box.checked = true;
      }
    }
  }
  function checkCase() {
    const c = checkCaseNo(caseNo.value, court);
    caseType.textContent = c.type ? t("case_type." + c.type) : "";
    if (!c.error) findOpinion(normaliseCaseNo(caseNo.value));
    if (c.type === "criminal" && !form.dataset.modeTouched) mode.value = "in_person";
    syncMode();
    return setError("case-no", caseNo.value ? c.error : t("summons.err.required"));
  }
  // syncMode shows what follows from the case type (on every keystroke) and, when the mode
  // changed, from the mode: the remote fields, and the earliest date in person.
  let syncedMode = "";
  function syncMode() {
    const c = checkCaseNo(caseNo.value, court);
    form.querySelector("#mode-note").textContent = c.type === "criminal" ? t("summons.criminal_in_person") : "";
    if (mode.value === syncedMode) return;
    syncedMode = mode.value;
    form.querySelector("#remote-fields").hidden = mode.value !== "remote";
    // In person, the notice period has the court's travel days too.
    const min = earliestDate(court, mode.value);
    form.querySelector("#windows-hint").textContent = t("summons.windows_hint", { days: noticeDays(court, mode.value), date: min });
    for (const d of windows.querySelectorAll(".w-date")) d.min = min;
    if (windows.querySelector(".w-date")?.value) checkWindows();
  }
  function checkMode() {
    syncMode();
    return mode.value !== "remote" || setError("ground", ground.value ? "" : t("summons.err.ground"));
  }
  function checkWindows() {
    const min = earliestDate(court, mode.value);
    let msg = "";
    const rows = [...windows.querySelectorAll(".window")];
    if (rows.length === 0 || rows.some((r) => !r.querySelector(".w-date").value)) msg = t("summons.err.window_missing");
    else if (rows.some((r) => r.querySelector(".w-from").value >= r.querySelector(".w-to").value)) msg = t("summons.err.window_order");
    else if (rows.some((r) => r.querySelector(".w-date").value < min)) msg = t("summons.err.notice", { days: noticeDays(court, mode.value), date: min });
    return setError("windows", msg);
  }
  caseNo.addEventListener("input", checkCase);
  caseNo.addEventListener("blur", checkCase);
  mode.addEventListener("change", () => {
    form.dataset.modeTouched = "1";
    checkMode();
  });
  ground.addEventListener("change", checkMode);

  form.append(
    field("case-no", "summons.case_no", caseNo, "summons.case_no_hint"), caseType, opinionNote,
    field("institution", "summons.institution", inst), appraiserBox,
    field("mode", "summons.mode", mode), el("p", { id: "mode-note", class: "warn", "aria-live": "polite" }),
    el("div", { id: "remote-fields" }, field("ground", "summons.ground", ground, "summons.ground_hint"),
      field("ground-note", "summons.ground_note", groundNote)),
    field("duration", "summons.duration", duration),
    el("fieldset", {}, el("legend", {}, t("summons.windows")), el("p", { class: "hint", id: "windows-hint" }), windows,
    el("input", { type: "hidden", id: "windows-anchor" }),
    el("p", { id: "windows-error", class: "field-error", role: "alert" }),
    button("summons.add_window", { class: "secondary small", id: "add-window" }, addWindow)),
    el("fieldset", {}, el("legend", {}, t("summons.parties")), parties, button("summons.add_party", { class: "secondary small" }, addParty)),
    field("reason", "summons.reason", reason),
    field("contact-name", "summons.contact_name", contactName), field("contact-phone", "summons.contact_phone", contactPhone),
    el("label", { class: "check" }, priv, " ", t("summons.private")),
    el("button", { type: "submit", id: "serve" }, t("summons.serve")), result);
  windows.id = "windows-list";
  form.querySelector("#windows-anchor").id = "windows";
  syncMode(); // the hint and the mode's fields

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    let ok = checkCase();
    ok = checkMode() && ok;
    ok = checkWindows() && ok;
    const chosen = [...appraiserBox.querySelectorAll("input:checked")].map((c) => c.value);
    ok = setError("institution", inst.value ? "" : t("summons.err.institution")) && ok;
    document.getElementById("appraisers-error").textContent = chosen.length ? "" : t("summons.err.appraisers");
    ok = chosen.length > 0 && ok;
    ok = setError("reason", reason.value.trim() ? "" : t("summons.err.required")) && ok;
    if (!ok) {
      form.querySelector('[aria-invalid="true"]')?.focus();
      message(result, t("summons.err.fix"), true);
      return;
    }
    const body = {
      case_no: normaliseCaseNo(caseNo.value), institution_id: inst.value, appraiser_ids: chosen, mode: mode.value,
      duration_minutes: Number(duration.value),
      windows: [...windows.querySelectorAll(".window")].map((r) => ({
        start: isoAt(r.querySelector(".w-date").value, r.querySelector(".w-from").value),
        end: isoAt(r.querySelector(".w-date").value, r.querySelector(".w-to").value) })),
      parties: [...parties.querySelectorAll(".party")].map((r) => ({ name: r.querySelector(".p-name").value.trim(), role: r.querySelector(".p-role").value.trim() }))
        .filter((p) => p.name),
      reason: reason.value.trim(), contact: { name: contactName.value.trim(), phone: contactPhone.value.trim() }, private: priv.checked,
    };
    if (form.dataset.opinion) body.opinion_id = form.dataset.opinion;
    if (mode.value === "remote") {
      body.remote_ground = ground.value;
      body.remote_note = groundNote.value.trim();
    }
    try {
      // The key makes a retried click (a lost answer) serve the summons once.
      const key = form.dataset.key || (form.dataset.key = crypto.randomUUID());
      const res = await api("POST", "/api/v1/summons", body, { "Idempotency-Key": key });
      delete form.dataset.key;
      const sm = res.summons;
      result.replaceChildren(el("p", { class: "ok" }, t("summons.served", { case_no: sm.case_no })),
        sm.slot ? el("p", { id: "proposed-slot" }, t("summons.proposed", { start: when(sm.slot.start), end: clock(sm.slot.end) })) :
          el("p", { class: "warn" }, t("summons.no_slot")),
        ...(res.warnings || []).map((w) => el("p", { class: "warn" }, `${look.appraisers[w.appraiser_id]?.name || ""} ${localize(w.message)}`)));
      onServed(sm);
    } catch (err) {
      const f = err.error?.field || "";
      const map = { case_no: "case-no", remote_ground: "ground", reason: "reason", institution_id: "institution" };
      if (map[f]) setError(map[f], err.message);
      else if (f.startsWith("windows")) setError("windows", err.message);
      message(result, err.message, true);
    }
  });
  return form;
}

// actionForm makes a small inline form: a reason, perhaps a choice, and a submit button.
function actionForm(sm, kind, onDone) {
  const id = `${kind}-${sm.id}`;
  const reason = el("input", { id: `${id}-reason`, autocomplete: "off", required: true });
  const parts = [el("label", { for: `${id}-reason` }, t("summons.reason_for", { action: t("summons.action." + kind) })), reason];
  let choice = null;
  if (kind === "excuse") {
    choice = select([["true", t("summons.excuse_accept")], ["false", t("summons.excuse_reject")]]);
    choice.id = `${id}-choice`;
    parts.unshift(el("label", { for: choice.id }, t("summons.excuse_decision")), choice);
  }
  if (kind === "outcome") {
    choice = select([["completed", t("summons.outcome_completed")], ["without_cause", t("summons.outcome_without_cause")],
      ["technical_failure", t("summons.outcome_technical")]]);
    choice.id = `${id}-choice`;
    reason.required = false;
    parts.splice(0, 2, el("label", { for: choice.id }, t("summons.outcome")), choice,
      el("label", { for: `${id}-reason` }, t("summons.outcome_note")), reason);
  }
  const out = el("p", { role: "status", class: "ok" });
  const f = el("form", { class: "inline-form", "data-kind": kind, "data-summons": sm.id }, ...parts,
    el("button", { type: "submit" }, t("summons.action." + kind)), out);
  f.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (reason.required && !reason.value.trim()) {
      message(out, t("summons.err.reason"), true);
      reason.focus();
      return;
    }
    const path = `/api/v1/summons/${encodeURIComponent(sm.id)}/${kind}`;
    let body = { reason: reason.value.trim() };
    if (kind === "excuse") body.accept = choice.value === "true";
    if (kind === "outcome") {
      body = choice.value === "completed" ? { outcome: "completed", reason: body.reason } :
        { outcome: "absent", cause: choice.value, reason: body.reason };
    }
    try {
      await api("POST", path, body);
      onDone();
    } catch (err) {
      message(out, err.message, true);
    }
  });
  return f;
}

// summonsCard shows one summons to the court with the steps its state allows.
function summonsCard(sm, look, hearing, attendance, refresh) {
  const ap = look.appraisers;
  const card = el("article", { class: "card summons", "data-summons": sm.id, "data-case": sm.case_no, "data-state": sm.state },
    el("h4", {}, `${sm.case_no} `, stateBadge(sm.state)));
  const facts = el("dl", { class: "facts" },
    el("dt", {}, t("summons.appraisers")), el("dd", {}, sm.pool ? `${sm.pool.category} × ${sm.pool.k}` : names(sm.appraiser_ids, ap)),
    el("dt", {}, t("summons.institution")), el("dd", {}, look.institutions[sm.institution_id]?.name || ""),
    el("dt", {}, t("summons.mode")), el("dd", {}, t("mode." + sm.mode)),
    el("dt", {}, t("summons.slot")), el("dd", { class: "slot" }, sm.slot ? `${when(sm.slot.start)} – ${clock(sm.slot.end)}` : t("summons.no_slot")),
    el("dt", {}, t("summons.alternatives")), el("dd", {}, (sm.windows || []).map((w) => `${when(w.start)} – ${clock(w.end)}`).join("；")));
  for (const r of sm.responses || []) {
    facts.append(el("dt", {}, ap[r.appraiser_id]?.name || r.appraiser_id),
      el("dd", { class: r.confirmed ? "" : "warn" }, r.confirmed ? t("summons.confirmed_at", { at: when(r.at) }) :
        t("summons.declined_because", { reason: r.reason, evidence: r.evidence || "—" })));
  }
  for (const r of sm.receipts || []) {
    facts.append(el("dt", {}, t("summons.receipt." + r.party)), el("dd", {}, when(r.at)));
  }
  card.append(facts);
  if (attendance) {
    card.append(el("ul", { class: "attendance" }, attendance.results.map((r) =>
      el("li", { "data-appraiser": r.appraiser_id, "data-status": r.status }, `${ap[r.appraiser_id]?.name || ""} `, attendanceBadge(r.status), ` ${localize(r.why)}`))));
  }
  const actions = el("div", { class: "actions" });
  if (hearing && sm.mode === "remote" && ["scheduled", "in_progress"].includes(sm.state)) {
    actions.append(el("a", { class: "button", href: `/room/${encodeURIComponent(hearing.id)}` }, t("summons.enter_room")));
    actions.append(el("a", { class: "button secondary", href: `/api/v1/hearings/${encodeURIComponent(hearing.id)}/ics`, download: "" }, t("summons.ics")));
  }
  const forms = [];
  if (sm.state === "declined") forms.push("excuse");
  // The court records the outcome once the hearing is due; the server holds the clock, so the
  // form is always there for a fixed hearing, and open from an hour before it by this clock.
  const due = hearing && new Date() >= new Date(hearing.start) - 3600e3;
  if (["scheduled", "in_progress"].includes(sm.state) && hearing) forms.push("outcome");
  if (["proposed", "confirmed", "scheduled", "declined", "excused"].includes(sm.state)) forms.push("reschedule", "cancel");
  for (const kind of forms) {
    const d = el("details", { class: "action", "data-kind": kind }, el("summary", {}, t("summons.action." + kind)), actionForm(sm, kind, refresh));
    if (kind === "excuse" || (kind === "outcome" && due)) d.open = true;
    actions.append(d);
  }
  card.append(actions);
  return card;
}

page("/court", courtRoles, "court.summons", async (view, me) => {
  const look = await lookups();
  const court = look.courts[me.user.court_id];
  const list = el("div", { id: "summons-list", "aria-live": "polite" });
  const refresh = async () => {
    const [summons, hearings] = await Promise.all([
      apiAll(`/api/v1/summons?court=${encodeURIComponent(me.user.court_id)}&limit=200`),
      apiAll(`/api/v1/hearings?court=${encodeURIComponent(me.user.court_id)}&limit=500`),
    ]);
    const hearingOf = Object.fromEntries(hearings.items.map((h) => [h.summons_id, h]));
    const items = summons.items.sort((a, b) => (b.served_at || "").localeCompare(a.served_at || ""));
    const cards = await Promise.all(items.map(async (sm) => {
      const h = hearingOf[sm.id];
      const att = h ? await api("GET", `/api/v1/hearings/${encodeURIComponent(h.id)}/attendance`).catch(() => null) : null;
      return summonsCard(sm, look, h, att, refresh);
    }));
    list.replaceChildren(el("h3", {}, t("court.list")), ...(cards.length ? cards : [el("p", {}, t("common.none"))]));
    document.body.dataset.listed = String(Date.now());
  };
  view.append(el("p", { class: "lead" }, t("court.lead", { court: court?.name || "" })),
    el("div", { class: "two" }, summonsForm(court, look, refresh), list));
  await refresh();
});

page("/court/calendar", courtRoles, "court.calendar", async (view, me) => {
  const [hearings, summons] = await Promise.all([
    apiAll(`/api/v1/hearings?court=${encodeURIComponent(me.user.court_id)}&limit=500`),
    apiAll(`/api/v1/summons?court=${encodeURIComponent(me.user.court_id)}&limit=500`),
  ]);
  const caseNo = Object.fromEntries(summons.items.map((s) => [s.id, s.case_no]));
  const events = hearings.items.map((h) => ({ start: h.start, end: h.end, label: `${caseNo[h.summons_id] || ""} · ${t("mode." + h.mode)}`,
    href: h.mode === "remote" ? `/room/${encodeURIComponent(h.id)}` : "" }));
  // Proposed slots not yet fixed are shown too, marked as such.
  for (const s of summons.items.filter((x) => x.slot && !x.hearing_id && ["proposed", "confirmed"].includes(x.state))) {
    events.push({ start: s.slot.start, end: s.slot.end, label: `${s.case_no} · ${t("summons.state.proposed")}` });
  }
  view.append(monthCalendar(events, "court.calendar"));
});

page("/court/follow-ups", courtRoles, "court.followups", async (view, me) => {
  const look = await lookups();
  const draw = async () => {
    const refunds = await apiAll(`/api/v1/fee-refunds?court=${encodeURIComponent(me.user.court_id)}&limit=200`);
    const rows = refunds.items.map((f) => {
      const cells = [f.case_no, names(f.appraiser_ids, look.appraisers), when(f.opened),
        el("span", { class: f.state === "open" && new Date(f.due) < new Date() ? "warn" : "" }, when(f.due)),
        el("span", { class: `badge refund-${f.state}` }, t("refund.state." + f.state)),
        f.notified ? t("refund.notified", { at: when(f.notified) }) : "—"];
      if (f.state === "open") {
        const note = el("input", { id: `note-${f.id}`, autocomplete: "off" });
        const out = el("span", { role: "status" });
        const form = el("form", { class: "inline-form" }, el("label", { for: note.id }, t("refund.ruling")), note,
          el("button", { type: "submit" }, t("refund.close")), out);
        form.addEventListener("submit", async (ev) => {
          ev.preventDefault();
          try {
            await api("POST", `/api/v1/fee-refunds/${encodeURIComponent(f.id)}/close`, { note: note.value.trim() });
            await draw();
          } catch (err) {
            message(out, err.message, true);
          }
        });
        cells.push(form);
      } else {
        cells.push(f.note || "");
      }
      return { cells, attrs: { "data-refund": f.id, "data-case": f.case_no, "data-state": f.state } };
    });
    view.replaceChildren(view.firstChild, el("p", { class: "lead" }, t("court.followups_lead")),
      table("refund.caption", ["refund.case", "refund.appraisers", "refund.opened", "refund.due", "refund.state", "refund.notice", "refund.action"], rows,
        { id: "refunds" }));
  };
  await draw();
});
