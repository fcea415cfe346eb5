// chuting's pages for each role, in one document: sign in, then the pages the role works
// with (ui.js registry; court.js, appraiser.js, institution.js, bureau.js, recordings.js …).
// Routing is by path; the server answers index.html for every page path. Talks to /api/v1.
"use strict";

// homes is each role's first page.
const homes = {
  clerk: "/court", judge: "/court", appraiser: "/appraiser", institution_admin: "/institution", bureau_admin: "/bureau",
};

let me = null;

// match finds the page of path for the signed-in role.
function match(path) {
  for (const r of routes) {
    if (!r.roles.includes(me.user.role)) continue;
    if (typeof r.path === "string" && r.path === path) return { r, groups: [] };
    if (r.path instanceof RegExp) {
      const m = r.path.exec(path);
      if (m) return { r, groups: m.slice(1).map(decodeURIComponent) };
    }
  }
  return null;
}

function drawNav(path) {
  const nav = document.getElementById("nav");
  const items = routes.filter((r) => r.nav && typeof r.path === "string" && r.roles.includes(me.user.role));
  nav.replaceChildren(el("ul", {}, items.map((r) =>
    el("li", {}, el("a", { href: r.path, "aria-current": r.path === path ? "page" : false }, t(r.titleKey))))));
  nav.hidden = false;
}

// show renders the page at the current path.
async function show() {
  let path = location.pathname.replace(/\/+$/, "") || "/";
  if (path === "/" || !match(path)) {
    const home = homes[me.user.role] || "/account";
    if (path !== "/") console.info("no page", path, "for", me.user.role);
    history.replaceState(null, "", home);
    path = home;
  }
  const { r, groups } = match(path);
  drawNav(path);
  document.title = `${t(r.titleKey)} · ${t("app.name")}`;
  document.body.dataset.page = path.split("/").slice(0, 3).join("/");
  const view = document.getElementById("view");
  const section = el("section", { "aria-labelledby": "page-title" }, el("h2", { id: "page-title", tabindex: "-1" }, t(r.titleKey)));
  view.replaceChildren(section);
  document.body.dataset.ready = "";
  try {
    await r.render(section, me, ...groups);
  } catch (err) {
    console.error("page", path, err);
    section.append(el("p", { role: "alert", class: "error" }, err.message));
  }
  document.body.dataset.ready = path; // the e2e test waits for this
}

// Links within the app change the page without a reload; the session stays.
function wireLinks() {
  document.addEventListener("click", (ev) => {
    const a = ev.target.closest("a[href]");
    if (!a || a.target || a.hasAttribute("download") || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith("/api/") || url.pathname.startsWith("/room/") ||
      url.pathname.startsWith("/calendar/") || url.pathname.includes(".")) return;
    ev.preventDefault();
    history.pushState(null, "", url.pathname + url.search);
    show().then(() => document.getElementById("page-title")?.focus());
  });
  window.addEventListener("popstate", () => show());
}

async function signedIn(session) {
  me = session;
  csrf = session.csrf_token || "";
  document.getElementById("me").hidden = false;
  document.getElementById("me-name").textContent = me.user.name;
  document.getElementById("me-role").textContent = t("role." + me.user.role);
  await show();
}

async function start() {
  await i18nReady;
  wireLinks();
  document.getElementById("login").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const err = document.getElementById("login-error");
    err.textContent = "";
    try {
      const session = await api("POST", "/api/v1/session", {
        username: document.getElementById("username").value,
        password: document.getElementById("password").value,
      });
      await signedIn(session);
    } catch (e) {
      err.textContent = e.message;
    }
  });
  document.getElementById("logout").addEventListener("click", async () => {
    await api("DELETE", "/api/v1/session").catch(() => {});
    location.assign("/");
  });
  try {
    await signedIn(await api("GET", "/api/v1/session"));
  } catch (e) {
    if (e.status !== 401) document.getElementById("login-error").textContent = e.message;
    document.body.dataset.ready = "login";
  }
}

start();
