// What every chuting page shares: the message catalogue (zh-CN first, English on request),
// the JSON API client, the courts' time zone and a small DOM helper. Loaded before the
// page's own script; its top-level names are shared with it.
"use strict";

// Languages the catalogue has, the first the default. The choice is remembered in this
// browser (localStorage), not on the server: the sign-in page needs it before anyone signs in.
const languages = ["zh-CN", "en"];
const langKey = "chuting.lang";
let lang = languages.includes(localStorage.getItem(langKey)) ? localStorage.getItem(langKey) : languages[0];
let messages = {};

// loadMessages loads the catalogue of the current language.
async function loadMessages() {
  messages = await (await fetch(`/i18n/${lang}.json`, { credentials: "same-origin" })).json();
}

// i18nReady resolves once the catalogue of the chosen language is loaded and the page's
// static text (data-i18n attributes) is in that language. Every page awaits it first.
const i18nReady = (async () => {
  try {
    await loadMessages();
  } catch (err) {
    console.error("i18n:", err);
  }
  if (document.readyState === "loading") await new Promise((r) => document.addEventListener("DOMContentLoaded", r));
  applyI18n(document);
  wireLanguageSwitch();
})();

// t returns the message with key in the current language, with {name} placeholders filled
// from params. A missing key returns fallback, or the key itself (the i18n test in web/
// keeps the catalogue complete, so this shows only during development).
function t(key, params, fallback) {
  let s = messages[key];
  if (s === undefined) return fallback !== undefined ? fallback : key;
  // One pass, with a function: a value is put in as it is ("$'" in a reason is not a
  // replacement pattern) and never read again for placeholders ("{evidence}" typed in it).
  return s.replace(/\{(\w+)\}/g, (m, k) => (params && Object.hasOwn(params, k) ? String(params[k] ?? "") : m));
}

// localize picks the current language's half of a "中文 / English" text, the form the API
// uses for its messages (errors, attendance reasons); other text is returned as it is.
function localize(s) {
  if (typeof s !== "string") return s ?? "";
  const i = s.indexOf(" / ");
  if (i < 0) return s;
  return lang === "en" ? s.slice(i + 3) : s.slice(0, i);
}

// applyI18n puts the catalogue's text into root's elements: data-i18n sets the text,
// data-i18n-label the aria-label, data-i18n-placeholder the placeholder, data-i18n-title the
// title.
function applyI18n(root) {
  document.documentElement.lang = lang;
  for (const e of root.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
  for (const e of root.querySelectorAll("[data-i18n-label]")) e.setAttribute("aria-label", t(e.dataset.i18nLabel));
  for (const e of root.querySelectorAll("[data-i18n-placeholder]")) e.placeholder = t(e.dataset.i18nPlaceholder);
  for (const e of root.querySelectorAll("[data-i18n-title]")) e.title = t(e.dataset.i18nTitle);
  if (document.body?.dataset.titleKey) document.title = `${t(document.body.dataset.titleKey)} · ${t("app.name")}`;
}

// onLanguageChange, if a page sets it, re-renders the page in the new language in place
// (the hearing room must not reconnect); otherwise the page reloads.
let onLanguageChange = null;

function wireLanguageSwitch() {
  const b = document.getElementById("lang");
  if (!b) return;
  b.textContent = t("lang.switch");
  b.setAttribute("lang", lang === "en" ? "zh-CN" : "en");
  b.addEventListener("click", async () => {
    const next = lang === "en" ? "zh-CN" : "en";
    localStorage.setItem(langKey, next);
    if (!onLanguageChange) {
      location.reload();
      return;
    }
    lang = next;
    await loadMessages();
    applyI18n(document);
    b.textContent = t("lang.switch");
    b.setAttribute("lang", lang === "en" ? "zh-CN" : "en");
    onLanguageChange();
  });
}

// zone is the courts' time zone, the one every page shows times in.
const zone = "Asia/Shanghai";

// when formats an instant in the courts' zone, in the page's language.
function when(iso, opts) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(lang, { timeZone: zone, dateStyle: "medium", timeStyle: "short", ...(opts || {}) });
}

// csrf is the session's CSRF token, sent on every write made with the session cookie.
let csrf = "";

// api calls the JSON API; a failed call throws an Error with the server's message in the
// page's language, its HTTP status and the error object (code, field).
async function api(method, path, body, headers) {
  const opts = { method, headers: { ...(headers || {}) }, credentials: "same-origin" };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  if (method !== "GET" && csrf) opts.headers["X-CSRF-Token"] = csrf;
  const res = await fetch(path, opts);
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) {
    const msg = localize(data?.error?.message) || `HTTP ${res.status}`;
    throw Object.assign(new Error(msg), { status: res.status, error: data?.error });
  }
  return data;
}

// apiAll reads a whole listing (GET path, with its page size as limit), following next: the
// API answers a page at a time, oldest first, so one page of a long list leaves out the
// newest records.
async function apiAll(path) {
  const items = [];
  let next = "";
  for (let i = 0; i < 200; i++) {
    const sep = path.includes("?") ? "&" : "?";
    const page = await api("GET", next ? `${path}${sep}after=${encodeURIComponent(next)}` : path);
    items.push(...page.items);
    if (!page.next) break;
    next = page.next;
  }
  return { items, next: "" };
}

// el makes an element with attributes and children (nodes or text).
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}
