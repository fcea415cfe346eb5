// The shell's shared parts for the role pages of index.html: the page registry, tables,
// dates, forms, a month calendar and SVG bar charts. Loaded after page.js, before the pages.
"use strict";

// routes are the pages: a path pattern (a string, or a RegExp whose groups are passed on),
// the roles that see it, its title key, and whether it shows in the navigation.
const routes = [];

// page registers a page. render(view, me, ...groups) fills view (a <section>).
function page(path, roles, titleKey, render, nav = true) {
  routes.push({ path, roles, titleKey, render, nav });
}

function day(iso) {
  return iso ? new Date(iso).toLocaleDateString(lang, { timeZone: zone, dateStyle: "medium" }) : "";
}

// clock formats the time of day of an instant in the courts' zone.
function clock(iso) {
  return new Date(iso).toLocaleTimeString(lang, { timeZone: zone, hour: "2-digit", minute: "2-digit" });
}

// ymd is the calendar date (YYYY-MM-DD) of an instant in the courts' zone.
function ymd(d) {
  return new Date(d).toLocaleDateString("sv-SE", { timeZone: zone });
}

// isoAt makes an RFC 3339 instant of a date and time of day in the courts' zone (UTC+8,
// without daylight saving).
function isoAt(date, time) {
  return `${date}T${time}:00+08:00`;
}

function h2(key, params) {
  return el("h2", {}, t(key, params));
}

// table makes a table with a caption, column headers and rows (cells are nodes or text).
function table(captionKey, headerKeys, rows, attrs) {
  const tb = el("table", attrs || {}, el("caption", {}, t(captionKey)));
  tb.append(el("thead", {}, el("tr", {}, headerKeys.map((h) => el("th", { scope: "col" }, t(h))))));
  const body = el("tbody");
  if (rows.length === 0) body.append(el("tr", {}, el("td", { colspan: headerKeys.length }, t("common.none"))));
  for (const r of rows) {
    const tr = el("tr", r.attrs || {});
    for (const [i, c] of (r.cells || r).entries()) tr.append(el("td", { "data-label": t(headerKeys[i]) }, c));
    body.append(tr);
  }
  tb.append(body);
  return el("div", { class: "scroll" }, tb);
}

// field makes a labelled input; the error element under it says what is wrong, inline,
// and is tied to the input for screen readers.
function field(id, labelKey, input, hintKey) {
  input.id = id;
  const err = el("p", { id: `${id}-error`, class: "field-error", role: "alert" });
  const described = [`${id}-error`];
  const parts = [el("label", { for: id }, t(labelKey)), input];
  if (hintKey) {
    parts.push(el("p", { id: `${id}-hint`, class: "hint" }, t(hintKey)));
    described.push(`${id}-hint`);
  }
  input.setAttribute("aria-describedby", described.join(" "));
  parts.push(err);
  return el("div", { class: "field" }, parts);
}

// setError shows (or clears) the inline error of the field with id.
function setError(id, text) {
  const input = document.getElementById(id);
  const err = document.getElementById(`${id}-error`);
  if (err) err.textContent = text || "";
  if (input) input.setAttribute("aria-invalid", text ? "true" : "false");
  return !text;
}

function select(options, value) {
  const s = el("select");
  for (const [v, label] of options) s.append(el("option", { value: v, selected: v === value }, label));
  return s;
}

function button(labelKey, attrs, onClick) {
  const b = el("button", { type: "button", ...(attrs || {}) }, t(labelKey));
  if (onClick) b.addEventListener("click", onClick);
  return b;
}

// message shows a result or an error of an action in a live region.
function message(box, text, isError) {
  box.textContent = text;
  box.className = isError ? "error" : "ok";
}

const summonsStates = ["proposed", "confirmed", "declined", "excused", "scheduled", "in_progress", "completed", "absent", "cancelled"];

function stateBadge(state) {
  return el("span", { class: `badge state-${state}`, "data-state": state }, t("summons.state." + state, null, state));
}

function attendanceBadge(code) {
  return el("span", { class: `badge att-${code}`, "data-status": code }, t("attendance." + code, null, code));
}

// byID maps a list answer's items by their id.
function byID(list) {
  return Object.fromEntries(list.items.map((x) => [x.id, x]));
}

// lookups loads the names of courts, institutions and appraisers the caller may see.
async function lookups() {
  const [courts, institutions, appraisers] = await Promise.all([
    apiAll("/api/v1/courts?limit=500"), apiAll("/api/v1/institutions?limit=500"), apiAll("/api/v1/appraisers?limit=500"),
  ]);
  return { courts: byID(courts), institutions: byID(institutions), appraisers: byID(appraisers) };
}

function names(ids, map) {
  return (ids || []).map((id) => map[id]?.name || id).join("、");
}

// monthCalendar draws a month grid of events ({start, end, label, href}); the arrows move
// by a month. It is a table, so that screen readers read it day by day.
function monthCalendar(events, captionKey) {
  const box = el("div", { class: "calendar" });
  const first = events.map((e) => e.start).sort()[0];
  let month = ymd(first && new Date(first) > new Date() ? first : new Date()).slice(0, 7);
  const draw = () => {
    const [y, m] = month.split("-").map(Number);
    const start = new Date(Date.UTC(y, m - 1, 1));
    const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
    const lead = (start.getUTCDay() + 6) % 7; // weeks start on Monday
    const title = new Date(Date.UTC(y, m - 1, 15)).toLocaleDateString(lang, { year: "numeric", month: "long" });
    const tb = el("table", { class: "month" }, el("caption", {}, `${t(captionKey)} · ${title}`));
    const wd = [];
    for (let i = 0; i < 7; i++) {
      wd.push(el("th", { scope: "col" }, new Date(Date.UTC(2024, 0, 1 + i)).toLocaleDateString(lang, { weekday: "short", timeZone: "UTC" })));
    }
    tb.append(el("thead", {}, el("tr", {}, wd)));
    const body = el("tbody");
    let tr = el("tr");
    for (let i = 0; i < lead; i++) tr.append(el("td", { class: "empty" }));
    for (let d = 1; d <= days; d++) {
      const date = `${month}-${String(d).padStart(2, "0")}`;
      const cell = el("td", { "data-date": date }, el("span", { class: "dnum" }, String(d)));
      for (const e of events.filter((x) => ymd(x.start) === date)) {
        const text = `${clock(e.start)} ${e.label}`;
        cell.append(el("div", { class: "event" }, e.href ? el("a", { href: e.href }, text) : text));
      }
      tr.append(cell);
      if ((lead + d) % 7 === 0) {
        body.append(tr);
        tr = el("tr");
      }
    }
    if (tr.children.length) body.append(tr);
    tb.append(body);
    const move = (n) => {
      const nd = new Date(Date.UTC(y, m - 1 + n, 1));
      month = nd.toISOString().slice(0, 7);
      draw();
      // The redraw replaced the button that had focus: give it to its successor, so that a
      // keyboard user pressing on stays on it.
      box.querySelector(`[data-move="${n}"]`)?.focus();
    };
    box.replaceChildren(
      el("div", { class: "row" }, button("calendar.prev", { class: "secondary small", "data-move": "-1" }, () => move(-1)),
        button("calendar.next", { class: "secondary small", "data-move": "1" }, () => move(1))),
      el("div", { class: "scroll" }, tb));
  };
  draw();
  // The coming hearings as a list too: quicker to read than a grid, on a phone or aloud.
  const now = Date.now() - 86400e3;
  const coming = events.filter((e) => new Date(e.start).getTime() >= now).sort((a, b) => a.start.localeCompare(b.start)).slice(0, 10);
  return el("div", {}, box, el("h3", {}, t("calendar.coming")), coming.length === 0 ? el("p", {}, t("common.none")) :
    el("ul", { class: "agenda" }, coming.map((e) => el("li", {}, `${when(e.start)} – ${clock(e.end)} `,
      e.href ? el("a", { href: e.href }, e.label) : e.label))));
}

// barChart draws a horizontal bar chart in SVG: one bar per row ({label, value, of, note}),
// value ÷ of as a share (the appearance rate) when of is given. The numbers are also in a
// table beside it for screen readers; the picture itself is one labelled image.
function barChart(titleKey, rows, opts = {}) {
  const ns = "http://www.w3.org/2000/svg";
  const rowH = 28;
  const labelW = 150;
  const width = 560;
  const height = rows.length * rowH + 24;
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", t(titleKey));
  svg.setAttribute("class", "chart");
  const max = opts.max ?? Math.max(1, ...rows.map((r) => (r.of !== undefined ? 1 : r.value)));
  const mk = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  rows.forEach((r, i) => {
    const y = i * rowH + 4;
    const share = r.of !== undefined ? (r.of > 0 ? r.value / r.of : 0) : r.value / max;
    const w = Math.max(0, Math.min(1, share)) * (width - labelW - 90);
    const g = mk("g", { class: "bar", "data-label": r.label, "data-value": r.value, "data-of": r.of ?? "" });
    g.append(mk("text", { x: labelW - 6, y: y + 17, "text-anchor": "end", class: "label" }, r.label.length > 12 ? r.label.slice(0, 12) + "…" : r.label));
    g.append(mk("rect", { x: labelW, y: y + 4, width: w.toFixed(1), height: rowH - 10, rx: 3, class: r.cls || "fill" }));
    const text = r.of !== undefined
      ? (r.of > 0 ? `${Math.round(100 * share)}% (${r.value}/${r.of})` : t("chart.none"))
      : String(r.value);
    g.append(mk("text", { x: labelW + w + 6, y: y + 17, class: "value" }, text));
    g.append(mk("title", {}, `${r.label}: ${text}${r.note ? " · " + r.note : ""}`));
    svg.append(g);
  });
  if (rows.length === 0) svg.append(mk("text", { x: 10, y: 18 }, t("chart.none")));
  return el("figure", { class: "chart-box" }, el("figcaption", {}, t(titleKey)), svg);
}

// rateRows turns an attendance rates table into chart rows: appeared of served.
function rateRows(table) {
  return (table.rows || []).map((r) => ({ label: r.name || r.key, value: r.appeared, of: r.served,
    note: t("chart.rate_note", { excused: r.excused, absent: r.absent_without_cause }) }));
}

// ratesQuery asks for the rates of the last twelve months up to the server's today (the
// server's clock decides what is due, so "to" is left to it).
function ratesQuery() {
  return `from=${ymd(Date.now() - 365 * 86400e3)}`;
}

function download(href, labelKey) {
  return el("a", { href, class: "button secondary small", download: "" }, t(labelKey));
}
