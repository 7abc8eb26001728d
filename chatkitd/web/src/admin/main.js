// The admin console at /admin: sign-in with an admin key, then the pages of
// pages.js, one at a time, addressed by the URL's hash (#threads?user=alice), so the
// browser's back button and links work. It reads the REST API and the admin-only
// /v1/chatkit/admin/ JSON, seeing the key's own project only.

import { adopt, chatSheet } from "../chat/styles.js";
import { api, KEY } from "./api.js";
import { PAGES } from "./pages.js";
import { h, setErrorReporter } from "./ui.js";

// Thread items render in the page itself, with the chat's own styles.
adopt(document, chatSheet());

const $ = (id) => document.getElementById(id);
const view = $("view");
const DEFAULT_PAGE = PAGES[0].id;

function parseHash() {
  const [id, query = ""] = location.hash.replace(/^#/, "").split("?");
  const page = PAGES.find((p) => p.id === id) || PAGES.find((p) => p.id === DEFAULT_PAGE);
  return { page, params: Object.fromEntries(new URLSearchParams(query)) };
}

function go(id, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v != null && v !== "")).toString();
  const hash = `#${id}${query ? `?${query}` : ""}`;
  if (location.hash === hash) show();
  else location.hash = hash; // hashchange shows it
}

function buildNavigation() {
  const nav = $("sections");
  nav.replaceChildren(...PAGES.filter((p) => p.tab !== false).map((p) => h("a", { href: `#${p.id}`, "data-page": p.id, text: p.label })));
}

function markCurrent(page) {
  const current = page.tab === false ? page.parent : page.id;
  for (const link of $("sections").querySelectorAll("a")) {
    if (link.dataset.page === current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

const admin = { api, go };

async function show() {
  if (!sessionStorage.getItem(KEY)) return;
  const { page, params } = parseHash();
  markCurrent(page);
  $("console-error").textContent = "";
  view.setAttribute("aria-busy", "true");
  try {
    await page.render(view, params, admin);
  } catch (error) {
    showError(error);
  } finally {
    view.setAttribute("aria-busy", "false");
  }
}

function showError(error) {
  $("console-error").textContent = error.message;
  if (error.status === 401) signOut();
}
setErrorReporter(showError);

async function signIn(key) {
  sessionStorage.setItem(KEY, key);
  try {
    await api("/v1/chatkit/admin/sessions?limit=1");
  } catch (error) {
    sessionStorage.removeItem(KEY);
    $("login-error").textContent = error.status === 401 ? "That admin key was not accepted." : error.message;
    return;
  }
  $("login").hidden = true;
  $("console").hidden = false;
  $("sign-out").hidden = false;
  await show();
}

function signOut() {
  sessionStorage.removeItem(KEY);
  $("login").hidden = false;
  $("console").hidden = true;
  $("sign-out").hidden = true;
  view.replaceChildren();
}

buildNavigation();
$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  $("login-error").textContent = "";
  signIn(event.target.elements.key.value.trim());
});
$("sign-out").addEventListener("click", signOut);
window.addEventListener("hashchange", show);
window.admin = { go, signIn, signOut, pages: PAGES, showThread: (id) => go("thread", { id }) };

if (sessionStorage.getItem(KEY)) signIn(sessionStorage.getItem(KEY));
