// The recordings archive (档案归集和检索, #29–#31): search the hearings' recordings; play one
// hearing's participant files in step, with its event timeline beside them; and show its
// integrity value (the manifest's root hash) and the server's verification of it.
"use strict";

// A recording is the court's record: its judges and clerks see it, and whoever they grant
// access to until a set time (http/recordings.go). Others get an empty archive.
const recordingRoles = ["clerk", "judge"];

function recordingStatus(s) {
  return el("span", { class: `badge rec-${s}`, "data-status": s }, t("recordings.status." + s, null, s));
}

function bytes(n) {
  if (!n && n !== 0) return "";
  const units = ["B", "KB", "MB", "GB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

page("/recordings", recordingRoles, "recordings.title", async (view) => {
  const look = await lookups();
  const caseNo = el("input", { autocomplete: "off" });
  const court = select([["", t("recordings.any")], ...Object.values(look.courts).map((c) => [c.id, c.name])]);
  const appraiser = select([["", t("recordings.any")], ...Object.values(look.appraisers).map((a) => [a.id, a.name])]);
  const from = el("input", { type: "date" });
  const to = el("input", { type: "date" });
  const results = el("div", { id: "recordings-results", "aria-live": "polite" });
  const form = el("form", { class: "search-form", role: "search", "aria-label": t("recordings.search") },
    field("rec-case", "recordings.case_no", caseNo), field("rec-court", "recordings.court", court),
    field("rec-appraiser", "recordings.appraiser", appraiser), field("rec-from", "recordings.from", from), field("rec-to", "recordings.to", to),
    el("button", { type: "submit" }, t("recordings.search")));
  const search = async () => {
    const q = new URLSearchParams();
    if (caseNo.value.trim()) q.set("case_no", normaliseCaseNo(caseNo.value));
    if (court.value) q.set("court_id", court.value);
    if (appraiser.value) q.set("appraiser_id", appraiser.value);
    if (from.value) q.set("from", from.value);
    if (to.value) q.set("to", to.value);
    try {
      const res = await api("GET", `/api/v1/recordings?${q}`);
      results.replaceChildren(table("recordings.caption", ["recordings.case_no", "recordings.court", "recordings.time", "recordings.appraiser",
        "recordings.status", "recordings.files", "recordings.size", "recordings.root_hash"],
      res.items.map((r) => ({ cells: [el("a", { href: `/recordings/${encodeURIComponent(r.hearing_id)}` }, r.case_no), r.court_name || look.courts[r.court_id]?.name || "",
        `${when(r.start)} – ${r.end ? clock(r.end) : ""}`, (r.appraisers || []).map((a) => a.name).join("、"), recordingStatus(r.status), r.files,
        bytes(r.bytes), el("code", { class: "hash" }, (r.root_hash || "").slice(0, 16) + (r.root_hash ? "…" : ""))],
      attrs: { "data-hearing": r.hearing_id, "data-case": r.case_no } }))));
    } catch (err) {
      results.replaceChildren(el("p", { class: "error", role: "alert" }, err.status === 404 ? t("recordings.unavailable") : err.message));
    }
  };
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    search();
  });
  view.append(form, results);
  await search();
});

// player plays the files of one recording in step: one clock from the hearing's start; each
// file plays from its own start on that clock and waits before it or after its end.
function player(rec) {
  const t0 = new Date(rec.start).getTime();
  const tEnd = new Date(rec.end || rec.start).getTime();
  const length = Math.max(1, (tEnd - t0) / 1000);
  const files = (rec.files || []).filter((f) => f.kind === "video" || f.kind === "audio");
  const grid = el("div", { class: "player-grid" });
  const media = files.map((f) => {
    const m = el(f.kind === "video" ? "video" : "audio", { src: f.url, preload: "metadata", playsinline: true, "data-file": f.name,
      "aria-label": `${f.participant_name || f.participant} · ${t("recordings.kind." + f.kind, null, f.kind)}` });
    const offset = (new Date(f.start).getTime() - t0) / 1000;
    const dur = (new Date(f.end).getTime() - new Date(f.start).getTime()) / 1000;
    if (f.kind === "video") {
      grid.append(el("figure", { class: "tile" }, m, el("figcaption", {}, `${f.participant_name || f.participant} · ${t("role." + f.role, null, f.role)}`)));
    } else {
      grid.append(m);
      m.hidden = true;
    }
    return { m, offset, dur };
  });
  let pos = 0;
  let playing = false;
  let last = 0;
  const slider = el("input", { type: "range", min: 0, max: length.toFixed(1), step: "0.1", value: 0, id: "player-position",
    "aria-label": t("recordings.position") });
  const timeText = el("output", { for: "player-position", id: "player-time" }, "0:00");
  const play = button("recordings.play", { id: "player-play", "aria-pressed": "false" });
  const fmt = (s) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, "0")}`;
  const timeline = el("ol", { class: "timeline", id: "timeline" }, (rec.timeline || []).map((e) => {
    const at = (new Date(e.at).getTime() - t0) / 1000;
    const b = el("button", { type: "button", class: "link", "data-at": at.toFixed(1) }, `${clock(e.at)} ${t("recordings.event." + e.type, null, e.type)}`);
    b.addEventListener("click", () => seek(at));
    return el("li", { "data-at": at.toFixed(1), "data-type": e.type }, b, e.detail ? el("span", { class: "hint" }, ` ${localize(e.detail)}`) : "");
  }));
  // sync puts every file at the clock's position: inside its span it plays (if the clock
  // runs) from the right point; outside it waits.
  const sync = (hard) => {
    for (const x of media) {
      const local = pos - x.offset;
      const inside = local >= 0 && (!(x.dur > 0) || local <= x.dur);
      if (!inside) {
        if (!x.m.paused) x.m.pause();
        continue;
      }
      if (hard || Math.abs(x.m.currentTime - local) > 0.4) x.m.currentTime = local;
      if (playing && x.m.paused) x.m.play().catch(() => {});
      if (!playing && !x.m.paused) x.m.pause();
    }
    slider.value = pos.toFixed(1);
    timeText.textContent = `${fmt(pos)} / ${fmt(length)}`;
    for (const li of timeline.children) li.classList.toggle("past", Number(li.dataset.at) <= pos);
  };
  const seek = (s) => {
    pos = Math.max(0, Math.min(length, s));
    sync(true);
  };
  const loop = (now) => {
    if (!playing) return;
    pos = Math.min(length, pos + (now - last) / 1000);
    last = now;
    sync(false);
    if (pos >= length) {
      playing = false;
      play.textContent = t("recordings.play");
      play.setAttribute("aria-pressed", "false");
      sync(false);
      return;
    }
    requestAnimationFrame(loop);
  };
  play.addEventListener("click", () => {
    playing = !playing;
    play.textContent = playing ? t("recordings.pause") : t("recordings.play");
    play.setAttribute("aria-pressed", String(playing));
    last = performance.now();
    sync(true);
    if (playing) requestAnimationFrame(loop);
  });
  slider.addEventListener("input", () => seek(Number(slider.value)));
  sync(true);
  return el("div", { class: "player" },
    el("div", { class: "player-main" }, grid, el("div", { class: "row controls" }, play, slider, timeText)),
    el("aside", { class: "player-side", "aria-labelledby": "timeline-title" }, el("h3", { id: "timeline-title" }, t("recordings.timeline")), timeline));
}

page(/^\/recordings\/([^/]+)$/, recordingRoles, "recordings.one", async (view, me, id) => {
  let rec;
  try {
    rec = await api("GET", `/api/v1/recordings/${encodeURIComponent(id)}`);
  } catch (err) {
    view.append(el("p", { class: "error", role: "alert" }, err.status === 404 ? t("recordings.unavailable") : err.message));
    return;
  }
  const v = rec.verification || {};
  const verified = el("div", { id: "verification", class: `callout ${v.ok ? "ok" : "warn"}`, "data-ok": String(!!v.ok), role: "status" },
    el("h3", {}, t("recordings.integrity")),
    el("dl", { class: "facts" },
      el("dt", {}, t("recordings.root_hash")), el("dd", {}, el("code", { class: "hash", id: "root-hash" }, rec.root_hash || "—")),
      el("dt", {}, t("recordings.verification")), el("dd", {}, v.ok ? t("recordings.verified") : t("recordings.not_verified")),
      el("dt", {}, t("recordings.checked_at")), el("dd", {}, when(v.checked_at)),
      el("dt", {}, t("recordings.public_key")), el("dd", {}, el("a", { href: "/api/v1/recordings/public-key", download: "" }, t("recordings.public_key_download"))),
      ...(rec.verification ? [el("dt", {}, t("recordings.package")), el("dd", {}, el("a", { id: "package", href: `/api/v1/recordings/${encodeURIComponent(id)}/export`, download: "" }, t("recordings.package_download")),
        " ", el("span", { class: "hint" }, t("recordings.package_hint")))] : [])),
    (v.problems || []).length ? el("ul", { class: "warn" }, v.problems.map((p) => el("li", {}, `${p.item}: ${localize(p.problem)}`))) : "");
  const pauses = (rec.pauses || []).length ? el("p", { class: "hint" }, t("recordings.pauses", { n: rec.pauses.length })) : "";
  view.append(el("p", { class: "lead" }, `${rec.case_no} · ${rec.court_name || ""} · ${when(rec.start)} – ${rec.end ? clock(rec.end) : ""} `, recordingStatus(rec.status)),
    verified, pauses, player(rec),
    table("recordings.files_caption", ["recordings.participant", "recordings.kind", "recordings.codec", "recordings.time", "recordings.size", "recordings.sha256"],
      (rec.files || []).map((f) => [f.participant_name || f.participant, t("recordings.kind." + f.kind, null, f.kind), f.codec || "",
        `${clock(f.start)} – ${clock(f.end)}`, bytes(f.size), el("a", { href: f.url, download: "" }, el("code", { class: "hash" }, (f.sha256 || "").slice(0, 16) + "…"))])));
}, false);
