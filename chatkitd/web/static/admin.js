// The admin console at /admin: sessions, threads (rendered as their users saw
// them, with the chat's own renderer), feedback, and run traces when the server
// records them. It reads the REST API and the admin-only /v1/chatkit/admin/ JSON.

import { h } from "./dom.js";
import { renderItem } from "./items.js";
import { imagePolicy } from "./widgets.js";

const KEY = "chatkitd.adminKey";
const $ = (id) => document.getElementById(id);
const view = $("view");
const state = { tab: "sessions", userFilter: null };

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path) {
  const response = await fetch(path, { headers: { authorization: `Bearer ${sessionStorage.getItem(KEY)}` } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new HttpError(response.status, (body.error && body.error.message) || `HTTP ${response.status}`);
  return body;
}

const when = (seconds) => (seconds ? new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 19) : "");
const status = (value) => h("span", { class: "status", "data-status": value, text: value });

function table(columns, rows, empty) {
  if (!rows.length) return h("p", { class: "empty", text: empty });
  const head = h("tr", {}, ...columns.map((c) => h("th", { scope: "col", text: c.label })));
  const body = rows.map((row) => h("tr", {}, ...columns.map((c) => {
    const value = c.render(row);
    return h("td", { class: c.mono ? "mono" : null }, value instanceof Node ? value : String(value ?? ""));
  })));
  return h("table", { class: "data" }, h("thead", {}, head), h("tbody", {}, ...body));
}

const linkButton = (text, onclick, label) => h("button", { type: "button", class: "link", text, onclick, "aria-label": label || text });

async function showSessions() {
  const page = await api("/v1/chatkit/admin/sessions?limit=100");
  view.replaceChildren(
    h("h2", { text: "Sessions" }),
    table(
      [
        { label: "Session", mono: true, render: (s) => s.id },
        { label: "User", render: (s) => linkButton(s.user, () => openThreads(s.user), `Threads of ${s.user}`) },
        { label: "Workflow", render: (s) => `${s.workflow.id}${s.workflow.version ? `@${s.workflow.version}` : ""}` },
        { label: "Status", render: (s) => status(s.status) },
        { label: "Uploads", render: (s) => (s.chatkit_configuration.file_upload.enabled ? `${s.chatkit_configuration.file_upload.max_file_size} MB × ${s.chatkit_configuration.file_upload.max_files}` : "off") },
        { label: "Created", render: (s) => when(s.created_at) },
        { label: "Expires", render: (s) => when(s.expires_at) },
      ],
      page.data,
      "No sessions yet.",
    ),
  );
}

function openThreads(user) {
  state.userFilter = user;
  select("threads");
}

async function showThreads() {
  const query = new URLSearchParams({ limit: "100" });
  if (state.userFilter) query.set("user", state.userFilter);
  const page = await api(`/v1/chatkit/threads?${query}`);
  const heading = h("h2", { text: state.userFilter ? `Threads of ${state.userFilter}` : "Threads" });
  const clear = state.userFilter ? linkButton("Show all users", () => { state.userFilter = null; showThreads(); }) : "";
  view.replaceChildren(
    heading,
    clear,
    table(
      [
        { label: "Title", render: (t) => linkButton(t.title || "(untitled)", () => showThread(t), `Open thread ${t.title || t.id}`) },
        { label: "User", render: (t) => t.user },
        { label: "Status", render: (t) => status(t.status.type) },
        { label: "Created", render: (t) => when(t.created_at) },
        { label: "Thread", mono: true, render: (t) => t.id },
      ],
      page.data,
      "No threads.",
    ),
  );
}

async function allItems(threadId) {
  let items = [];
  let after = null;
  for (let i = 0; i < 20; i++) {
    const query = new URLSearchParams({ order: "asc", limit: "100" });
    if (after) query.set("after", after);
    const page = await api(`/v1/chatkit/admin/threads/${encodeURIComponent(threadId)}/items?${query}`);
    items = items.concat(page.data);
    if (!page.has_more) break;
    after = page.last_id;
  }
  return items;
}

async function showThread(thread) {
  const [items, feedback] = await Promise.all([
    allItems(thread.id),
    api(`/v1/chatkit/admin/feedback?thread_id=${encodeURIComponent(thread.id)}`),
  ]);
  const ctx = { scheme: "light", allowImage: imagePolicy(), onAction: () => {}, readOnly: true };
  const itemsEl = h("div", { class: "ck-admin-items", "data-scheme": "light", "aria-label": "Conversation" });
  const kinds = new Map(feedback.data.map((f) => [f.item_id, f.kind]));
  for (const item of items) {
    const node = renderItem(item, ctx);
    if (!node) continue;
    if (kinds.has(item.id)) node.append(h("div", {}, status(kinds.get(item.id))));
    itemsEl.append(node);
  }
  if (!itemsEl.children.length) itemsEl.append(h("p", { class: "empty", text: "No items." }));
  const side = h("div", { class: "panel" }, h("h3", { text: "Trace" }), h("p", { class: "empty", text: "Loading…" }));
  view.replaceChildren(
    linkButton("← Threads", () => showThreads()),
    h("h2", { text: thread.title || "(untitled)" }),
    h("p", { class: "hint" }, `${thread.user} · `, status(thread.status.type), ` · ${when(thread.created_at)} · `, h("span", { class: "mono", text: thread.id })),
    h("div", { class: "thread-view" }, itemsEl, side),
  );
  side.replaceChildren(h("h3", { text: "Trace" }), await traceView(thread.id));
}

/** The thread's runs as span timelines; a server without tracing just says so. */
async function traceView(threadId) {
  let traces;
  try {
    traces = await api(`/v1/chatkit/traces?thread_id=${encodeURIComponent(threadId)}`);
  } catch (error) {
    if (error.status === 404) return h("p", { class: "empty", text: "This server does not record traces." });
    return h("p", { class: "error", text: error.message });
  }
  const list = traces.data || [];
  if (!list.length) return h("p", { class: "empty", text: "No traces for this thread." });
  const out = h("div", { class: "trace" });
  for (const summary of list.slice(0, 10)) {
    let trace = summary;
    if (!trace.spans) {
      try {
        trace = await api(`/v1/chatkit/traces/${encodeURIComponent(summary.id)}`);
      } catch {
        trace = summary;
      }
    }
    out.append(timeline(trace));
  }
  return out;
}

function timeline(trace) {
  const spans = trace.spans || [];
  const start = Math.min(trace.started_at ?? Infinity, ...spans.map((s) => s.started_at ?? Infinity));
  const end = Math.max(trace.ended_at ?? 0, ...spans.map((s) => s.ended_at ?? s.started_at ?? 0));
  const total = Math.max(end - start, 1e-6);
  const box = h("section", { class: "trace-run", "aria-label": `Trace ${trace.id}` });
  const duration = Number.isFinite(total) ? `${(total * 1000).toFixed(0)} ms` : "";
  box.append(h("h4", { text: `${trace.name || trace.id} · ${duration}` }));
  if (trace.error) box.append(h("p", { class: "error", text: typeof trace.error === "string" ? trace.error : JSON.stringify(trace.error) }));
  for (const span of spans) {
    const left = (((span.started_at ?? start) - start) / total) * 100;
    const width = ((((span.ended_at ?? end) - (span.started_at ?? start)) / total) * 100) || 0.5;
    const bar = h("div", { class: "span-bar", "data-error": span.error ? "true" : "false", title: `${span.kind || ""} ${span.name || ""}` });
    bar.style.left = `${left}%`;
    bar.style.width = `${Math.max(width, 0.5)}%`;
    box.append(h("div", { class: "span-row" }, h("span", { class: "span-name", text: span.name || span.kind || span.id }), h("div", { class: "span-track" }, bar)));
  }
  if (!spans.length) box.append(h("p", { class: "empty", text: "No spans recorded." }));
  return box;
}

async function showFeedback() {
  const page = await api("/v1/chatkit/admin/feedback?limit=100");
  view.replaceChildren(
    h("h2", { text: "Feedback" }),
    table(
      [
        { label: "Kind", render: (f) => status(f.kind) },
        { label: "User", render: (f) => f.user },
        { label: "Thread", render: (f) => linkButton(f.thread_id, () => openThreadById(f.thread_id), `Open thread ${f.thread_id}`) },
        { label: "Item", mono: true, render: (f) => f.item_id },
        { label: "When", render: (f) => when(f.created_at) },
      ],
      page.data,
      "No feedback yet.",
    ),
  );
}

async function openThreadById(threadId) {
  showThread(await api(`/v1/chatkit/threads/${encodeURIComponent(threadId)}`));
}

const VIEWS = { sessions: showSessions, threads: showThreads, feedback: showFeedback };

async function select(tab) {
  state.tab = tab;
  for (const button of document.querySelectorAll("[role=tab]")) button.setAttribute("aria-selected", String(button.dataset.tab === tab));
  $("console-error").textContent = "";
  try {
    await VIEWS[tab]();
  } catch (error) {
    $("console-error").textContent = error.message;
    if (error.status === 401) signOut();
  }
}

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
  select(state.tab);
}

function signOut() {
  sessionStorage.removeItem(KEY);
  $("login").hidden = false;
  $("console").hidden = true;
  $("sign-out").hidden = true;
}

$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  $("login-error").textContent = "";
  signIn(event.target.elements.key.value.trim());
});
$("sign-out").addEventListener("click", signOut);
for (const button of document.querySelectorAll("[role=tab]")) button.addEventListener("click", () => select(button.dataset.tab));
window.admin = { select, signIn, signOut, showThread: openThreadById };

if (sessionStorage.getItem(KEY)) signIn(sessionStorage.getItem(KEY));
