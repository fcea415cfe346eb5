// What every chuting page shares: the JSON API client and a small DOM helper. Loaded before
// the page's own script; its top-level names are shared with it.
"use strict";

// csrf is the session's CSRF token, sent on every write made with the session cookie.
let csrf = "";

// api calls the JSON API; a failed call throws an Error with the server's zh-CN / English
// message, its HTTP status and the error object (code, field).
async function api(method, path, body) {
  const opts = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  if (method !== "GET" && csrf) opts.headers["X-CSRF-Token"] = csrf;
  const res = await fetch(path, opts);
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) {
    const msg = data?.error?.message || `HTTP ${res.status}`;
    throw Object.assign(new Error(msg), { status: res.status, error: data?.error });
  }
  return data;
}

// el makes an element with attributes and children (nodes or text).
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
  return e;
}
