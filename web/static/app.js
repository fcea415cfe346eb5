// chuting's first page: sign in, then see what your role works with. Talks to /api/v1 only.
"use strict";

const roleNames = {
  bureau_admin: "司法局 / Justice bureau",
  institution_admin: "鉴定机构 / Institution",
  clerk: "书记员 / Clerk",
  judge: "法官 / Judge",
  appraiser: "鉴定人 / Appraiser",
};
const stateNames = {
  proposed: "待确认 / proposed", confirmed: "已确认 / confirmed", declined: "已申请不出庭 / declined",
  excused: "准许不出庭 / excused", scheduled: "已排期 / scheduled", in_progress: "进行中 / in progress",
  completed: "已出庭 / appeared", absent: "未出庭 / absent", cancelled: "已撤销 / cancelled",
};

function table(caption, headers, rows) {
  const t = el("table", {}, el("caption", {}, caption));
  t.append(el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", { scope: "col" }, h)))));
  const body = el("tbody");
  if (rows.length === 0) body.append(el("tr", {}, el("td", { colspan: headers.length }, "暂无 / none")));
  for (const r of rows) body.append(el("tr", {}, ...r.map((c) => el("td", {}, c))));
  t.append(body);
  return t;
}

function when(iso) {
  return new Date(iso).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", dateStyle: "medium", timeStyle: "short" });
}

// appraiserNotes are the plain facts an institution should see at once; the full eligibility
// rules come with the scheduler.
function appraiserNotes(a) {
  const notes = [];
  const today = new Date().toISOString().slice(0, 10);
  if (a.licence_expires && a.licence_expires < today) notes.push(`执业证已于 ${a.licence_expires} 过期 / licence expired`);
  const year = new Date().getFullYear();
  const hours = (a.ce_hours || {})[year] || 0;
  if (hours < 40) notes.push(`${year} 年继续教育 ${hours}/40 学时 / CE hours`);
  return notes.join("；");
}

async function show(me) {
  document.getElementById("login-section").hidden = true;
  document.getElementById("me").hidden = false;
  document.getElementById("me-name").textContent = me.user.name;
  document.getElementById("me-role").textContent = roleNames[me.user.role] || me.user.role;
  const dash = document.getElementById("dashboard");
  dash.hidden = false;
  dash.replaceChildren(el("h2", {}, "概览 / Overview"));

  const [summons, appraisers, rooms, courts, institutions] = await Promise.all([
    api("GET", "/api/v1/summons"), api("GET", "/api/v1/appraisers"), api("GET", "/api/v1/rooms"),
    api("GET", "/api/v1/courts"), api("GET", "/api/v1/institutions"),
  ]);
  const courtName = Object.fromEntries(courts.items.map((c) => [c.id, c.name]));
  const instName = Object.fromEntries(institutions.items.map((i) => [i.id, i.name]));
  const apprName = Object.fromEntries(appraisers.items.map((a) => [a.id, a.name]));

  dash.append(table("出庭通知 / Summons",
    ["案号 / Case", "法院 / Court", "鉴定人 / Appraisers", "方式 / Mode", "时间窗 / Windows", "状态 / State"],
    summons.items.map((s) => [s.case_no, courtName[s.court_id] || "",
      s.pool ? `${s.pool.category} × ${s.pool.k}` : (s.appraiser_ids || []).map((id) => apprName[id] || id).join("、"),
      s.mode === "remote" ? "远程 / remote" : "现场 / in person",
      (s.windows || []).map((w) => when(w.start)).join("；"), stateNames[s.state] || s.state])));
  if (appraisers.items.length > 0) {
    dash.append(table("鉴定人 / Appraisers",
      ["姓名 / Name", "机构 / Institution", "类别 / Categories", "执业证有效期 / Licence expires", "提示 / Notes"],
      appraisers.items.map((a) => [a.name, instName[a.institution_id] || "", (a.categories || []).join("、"),
        a.licence_expires, el("span", { class: "warn" }, appraiserNotes(a))])));
  }
  if (["judge", "clerk", "appraiser"].includes(me.user.role)) {
    // Remote hearings link to their room page, which opens 30 minutes before the hearing.
    const hearings = await api("GET", "/api/v1/hearings");
    const caseNo = Object.fromEntries(summons.items.map((s) => [s.id, s.case_no]));
    dash.append(table("庭审 / Hearings", ["案号 / Case", "时间 / Time", "方式 / Mode", "庭审室 / Room"],
      hearings.items.map((h) => [caseNo[h.summons_id] || "", `${when(h.start)} – ${when(h.end)}`,
        h.mode === "remote" ? "远程 / remote" : "现场 / in person",
        h.mode === "remote" ? el("a", { href: `/room/${encodeURIComponent(h.id)}` }, "进入庭审室 / Enter the room") : ""])));
  }
  dash.append(table("远程视频出庭作证室 / Testimony rooms",
    ["名称 / Name", "机构 / Institution", "位置 / Location", "批准 / Approved by"],
    rooms.items.map((r) => [r.name, instName[r.institution_id] || "", r.location, r.approved_by])));
}

async function start() {
  document.getElementById("login").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const err = document.getElementById("login-error");
    err.textContent = "";
    try {
      const me = await api("POST", "/api/v1/session", {
        username: document.getElementById("username").value,
        password: document.getElementById("password").value,
      });
      csrf = me.csrf_token;
      await show(me);
    } catch (e) {
      err.textContent = e.message;
    }
  });
  document.getElementById("logout").addEventListener("click", async () => {
    await api("DELETE", "/api/v1/session").catch(() => {});
    location.reload();
  });
  try {
    const me = await api("GET", "/api/v1/session");
    csrf = me.csrf_token || "";
    await show(me);
  } catch (e) {
    if (e.status !== 401) document.getElementById("login-error").textContent = e.message;
  }
}

start();
