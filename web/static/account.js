// The account page: who I am, and changing my password (every other session of mine ends).
"use strict";

const everyone = ["clerk", "judge", "appraiser", "institution_admin", "bureau_admin"];

page("/account", everyone, "account.title", async (view, me) => {
  const u = me.user;
  view.append(el("dl", { class: "facts" },
    el("dt", {}, t("account.username")), el("dd", {}, u.username),
    el("dt", {}, t("account.name")), el("dd", {}, u.name),
    el("dt", {}, t("account.role")), el("dd", {}, t("role." + u.role)),
    el("dt", {}, t("account.session_expires")), el("dd", {}, when(me.expires))));

  const form = el("form", { class: "stack", id: "password-form", "aria-labelledby": "pw-title" },
    el("h3", { id: "pw-title" }, t("account.change_password")),
    field("current-password", "account.current_password", el("input", { type: "password", autocomplete: "current-password", required: true })),
    field("new-password", "account.new_password", el("input", { type: "password", autocomplete: "new-password", required: true, minlength: 10 }), "account.password_rule"),
    field("repeat-password", "account.repeat_password", el("input", { type: "password", autocomplete: "new-password", required: true })),
    el("button", { type: "submit" }, t("account.save_password")),
    el("p", { id: "password-result", role: "status" }));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const cur = document.getElementById("current-password").value;
    const next = document.getElementById("new-password").value;
    const again = document.getElementById("repeat-password").value;
    let ok = setError("new-password", next.length < 10 ? t("account.too_short") : "");
    ok = setError("repeat-password", next !== again ? t("account.mismatch") : "") && ok;
    if (!ok) return;
    const out = document.getElementById("password-result");
    try {
      const session = await api("PUT", "/api/v1/session/password", { current_password: cur, new_password: next });
      if (session?.csrf_token) csrf = session.csrf_token;
      form.reset();
      message(out, t("account.password_changed"));
    } catch (err) {
      if (err.error?.field === "current_password") setError("current-password", err.message);
      else if (err.error?.field === "new_password") setError("new-password", err.message);
      else message(out, err.message, true);
    }
  });
  view.append(form);
});
