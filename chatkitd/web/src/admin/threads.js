// Threads (all users', or one user's) and one thread as its user saw it: its items
// through the chat's own renderer, the feedback on them, and the runs' traces.

import { renderItem } from "../chat/items.js";
import { imagePolicy } from "../chat/widgets.js";
import { withQuery } from "./api.js";
import { traceView } from "./traces.js";
import { h, linkButton, pagedTable, status, when } from "./ui.js";

export async function renderList(view, params, admin) {
  const user = params.user || null;
  const list = pagedTable({
    api: admin.api,
    path: "/v1/chatkit/threads",
    params: { user },
    label: "Threads",
    empty: "No threads.",
    columns: [
      { label: "Title", render: (t) => linkButton(t.title || "(untitled)", () => admin.go("thread", { id: t.id }), `Open thread ${t.title || t.id}`) },
      { label: "User", render: (t) => t.user },
      { label: "Status", render: (t) => status(t.status.type) },
      { label: "Created", render: (t) => when(t.created_at) },
      { label: "Thread", mono: true, render: (t) => t.id },
    ],
  });
  const heading = h("h2", { text: user ? `Threads of ${user}` : "Threads" });
  const clear = user ? linkButton("Show all users", () => admin.go("threads", {})) : "";
  view.replaceChildren(heading, clear, list);
  await list.ready;
}

async function allItems(api, threadId) {
  let items = [];
  let after = null;
  for (;;) {
    const page = await api(withQuery(`/v1/chatkit/admin/threads/${encodeURIComponent(threadId)}/items`, { order: "asc", limit: 100, after }));
    items = items.concat(page.data);
    if (!page.has_more) return items;
    after = page.last_id;
  }
}

async function allFeedback(api, threadId) {
  let rows = [];
  let after = null;
  for (;;) {
    const page = await api(withQuery("/v1/chatkit/admin/feedback", { thread_id: threadId, limit: 100, after }));
    rows = rows.concat(page.data);
    if (!page.has_more || !page.last_id) return rows;
    after = page.last_id;
  }
}

export async function renderThread(view, params, admin) {
  const thread = await admin.api(`/v1/chatkit/threads/${encodeURIComponent(params.id)}`);
  const [items, feedback] = await Promise.all([allItems(admin.api, thread.id), allFeedback(admin.api, thread.id)]);
  const ctx = { scheme: "light", allowImage: imagePolicy(), onAction: () => {}, readOnly: true };
  const itemsEl = h("div", { class: "ck-admin-items", "data-scheme": "light", role: "region", "aria-label": "Conversation" });
  const kinds = new Map(feedback.map((f) => [f.item_id, f.kind]));
  for (const item of items) {
    const node = renderItem(item, ctx);
    if (!node) continue;
    if (kinds.has(item.id)) node.append(h("div", {}, status(kinds.get(item.id))));
    itemsEl.append(node);
  }
  if (!itemsEl.children.length) itemsEl.append(h("p", { class: "empty", text: "No items." }));
  const side = h("section", { class: "panel", "aria-label": "Traces" }, h("h3", { text: "Trace" }), h("p", { class: "empty", text: "Loading…" }));
  view.replaceChildren(
    linkButton("← Threads", () => admin.go("threads", {})),
    h("h2", { text: thread.title || "(untitled)" }),
    h("p", { class: "hint" }, `${thread.user} · `, status(thread.status.type), ` · ${when(thread.created_at)} · `, h("span", { class: "mono", text: thread.id })),
    h("div", { class: "thread-view" }, itemsEl, side),
  );
  side.replaceChildren(h("h3", { text: "Trace" }), await traceView(admin.api, thread.id, admin.go));
}
