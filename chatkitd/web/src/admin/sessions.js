// Sessions, newest first, with their status; a user's name leads to their threads.

import { h, linkButton, pagedTable, status, when } from "./ui.js";

function uploads(session) {
  const upload = session.chatkit_configuration.file_upload;
  return upload.enabled ? `${upload.max_file_size} MB × ${upload.max_files}` : "off";
}

export async function render(view, params, admin) {
  const list = pagedTable({
    api: admin.api,
    path: "/v1/chatkit/admin/sessions",
    label: "Sessions",
    empty: "No sessions yet.",
    columns: [
      { label: "Session", mono: true, render: (s) => s.id },
      { label: "User", render: (s) => linkButton(s.user, () => admin.go("threads", { user: s.user }), `Threads of ${s.user}`) },
      { label: "Workflow", render: (s) => `${s.workflow.id}${s.workflow.version ? `@${s.workflow.version}` : ""}` },
      { label: "Status", render: (s) => status(s.status) },
      { label: "Uploads", render: uploads },
      { label: "Created", render: (s) => when(s.created_at) },
      { label: "Expires", render: (s) => when(s.expires_at) },
    ],
  });
  view.replaceChildren(h("h2", { text: "Sessions" }), list);
  await list.ready;
}
