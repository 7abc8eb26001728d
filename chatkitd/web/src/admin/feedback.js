// Thumbs given in the chat (items.feedback), newest first, each leading to its thread.

import { h, linkButton, pagedTable, status, when } from "./ui.js";

export async function render(view, params, admin) {
  const list = pagedTable({
    api: admin.api,
    path: "/v1/chatkit/admin/feedback",
    label: "Feedback",
    empty: "No feedback yet.",
    columns: [
      { label: "Kind", render: (f) => status(f.kind) },
      { label: "User", render: (f) => f.user },
      { label: "Thread", render: (f) => linkButton(f.thread_id, () => admin.go("thread", { id: f.thread_id }), `Open thread ${f.thread_id}`) },
      { label: "Item", mono: true, render: (f) => f.item_id },
      { label: "When", render: (f) => when(f.created_at) },
    ],
  });
  view.replaceChildren(h("h2", { text: "Feedback" }), list);
  await list.ready;
}
