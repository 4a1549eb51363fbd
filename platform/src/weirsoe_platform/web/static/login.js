// Host accounts (optional: hidden where the server has none): log in, register, log out.

import { api, currentUser } from "./api.js";
import { $, el, replace } from "./dom.js";

const main = $("#main");
const next = new URLSearchParams(location.search).get("next");
const target = next && next.startsWith("/") && !next.startsWith("//") ? next : "/host";

function header(title, sub) {
  return el("header", { class: "brand" },
    el("p", { class: "wordmark", "aria-hidden": "true", text: "Weirsøe" }),
    el("h1", { class: "brand-title", text: title }),
    sub ? el("p", { class: "brand-sub", text: sub }) : null);
}

function loggedIn(user) {
  const status = el("p", { class: "field-msg", role: "alert" });
  replace(main, header("Your account", `Logged in as ${user.name}.`),
    el("div", { class: "card stack" },
      el("a", { class: "btn btn-primary btn-block", href: "/host", text: "Host a game" }),
      el("a", { class: "btn btn-secondary btn-block", href: "/presets", text: "Manage presets" }),
      el("button", {
        class: "btn btn-ghost btn-block", id: "logout", text: "Log out",
        on: {
          async click() {
            try { await api("/api/auth/logout", { method: "POST" }); } catch (err) { if (err.status !== 401) { status.textContent = err.message; return; } }
            location.replace("/login");
          },
        },
      }),
      status));
}

function loginForm() {
  const username = el("input", { class: "input", id: "username", autocomplete: "username", spellcheck: "false", required: true, "aria-describedby": "login-msg" });
  const password = el("input", { class: "input", id: "password", type: "password", autocomplete: "current-password", required: true, "aria-describedby": "login-msg" });
  const status = el("p", { class: "field-msg", id: "login-msg", role: "alert" });
  const login = el("button", { class: "btn btn-primary btn-block", type: "submit", id: "login", text: "Log in" });
  const register = el("button", { class: "btn btn-secondary btn-block", type: "button", id: "register", text: "Create account" });

  async function send(path) {
    status.textContent = "";
    status.classList.remove("is-error");
    login.disabled = register.disabled = true;
    const body = { username: username.value.trim(), password: password.value };
    try {
      await api(path, { method: "POST", body });
      // Registering creates the account; signing in sets the (HttpOnly) cookie.
      if (path.endsWith("register")) await api("/api/auth/login", { method: "POST", body });
      location.replace(target);
    } catch (err) {
      status.textContent = err.message;
      status.classList.add("is-error");
      login.disabled = register.disabled = false;
    }
  }

  register.addEventListener("click", () => send("/api/auth/register"));
  replace(main, header("Log in", "Hosts with an account can keep presets of their favourite settings. Players never need one."),
    el("form", { class: "card stack", on: { submit: (e) => { e.preventDefault(); send("/api/auth/login"); } } },
      el("div", { class: "field" }, el("label", { class: "label", for: "username", text: "Username" }), username),
      el("div", { class: "field" }, el("label", { class: "label", for: "password", text: "Password" }), password),
      status, login, register),
    el("nav", { class: "links", "aria-label": "More" }, el("a", { href: "/host", text: "← Back to hosting" })));
  username.focus();
}

const { available, user } = await currentUser();
if (!available) {
  replace(main, header("Accounts are off", "This server has no host accounts. You can still host and play."),
    el("nav", { class: "links" }, el("a", { href: "/host", text: "Host a game →" }), el("a", { href: "/", text: "Join a game →" })));
} else if (user) {
  loggedIn(user);
} else {
  loginForm();
}
