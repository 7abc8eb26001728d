// Knowledge: the project's vector stores and files (OpenAI's API, served by chatkitd),
// each store's files with their processing status and errors, and a search box that
// shows the ranked chunks a workflow's file_search would get.

import { h, linkButton, pagedTable, reportError, status, table, when } from "./ui.js";

const bytes = (n) => (n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : n >= 1024 ? `${(n / 1024).toFixed(1)} kB` : `${n} B`);

function counts(store) {
  const c = store.file_counts;
  const parts = [`${c.completed} ready`];
  if (c.in_progress) parts.push(`${c.in_progress} processing`);
  if (c.failed) parts.push(`${c.failed} failed`);
  if (c.cancelled) parts.push(`${c.cancelled} cancelled`);
  return parts.join(", ");
}

/** The stores, newest first; a store's name opens it. */
export async function renderStores(view, params, admin) {
  const list = pagedTable({
    api: admin.api,
    path: "/v1/vector_stores",
    label: "Vector stores",
    empty: "No vector stores yet. Create one with the openai SDK: client.vector_stores.create(name=...).",
    columns: [
      { label: "Name", render: (s) => linkButton(s.name || s.id, () => admin.go("store", { id: s.id }), `Open store ${s.name || s.id}`) },
      { label: "Store", mono: true, render: (s) => s.id },
      { label: "Files", render: counts },
      { label: "Size", render: (s) => bytes(s.usage_bytes) },
      { label: "Status", render: (s) => status(s.status) },
      { label: "Last active", render: (s) => when(s.last_active_at) },
    ],
  });
  const files = pagedTable({
    api: admin.api,
    path: "/v1/files",
    label: "Files",
    empty: "No files yet.",
    columns: [
      { label: "File", render: (f) => f.filename },
      { label: "Id", mono: true, render: (f) => f.id },
      { label: "Size", render: (f) => bytes(f.bytes) },
      { label: "Purpose", render: (f) => f.purpose },
      { label: "Uploaded", render: (f) => when(f.created_at) },
    ],
  });
  view.replaceChildren(h("h2", { text: "Vector stores" }), list, h("h2", { text: "Files" }), files);
  await Promise.all([list.ready, files.ready]);
}

function errorOf(file) {
  return file.last_error ? `${file.last_error.code}: ${file.last_error.message}` : "";
}

function searchBox(admin, storeId, names) {
  const results = h("div", { class: "search-results", "aria-live": "polite" });
  const query = h("input", { type: "search", name: "query", required: true, placeholder: "A question, in the documents' words", "aria-label": "Search query" });
  const run = async () => {
    results.replaceChildren(h("p", { class: "hint", text: "Searching…" }));
    const page = await admin.api(`/v1/vector_stores/${encodeURIComponent(storeId)}/search`, {
      method: "POST",
      body: { query: query.value, max_num_results: 10 },
    });
    const hits = page.data || [];
    results.replaceChildren(
      table(
        [
          { label: "#", render: (hit) => String(hits.indexOf(hit) + 1) },
          { label: "Score", mono: true, render: (hit) => hit.score.toFixed(3) },
          { label: "File", render: (hit) => hit.filename || names.get(hit.file_id) || hit.file_id },
          { label: "Chunk", render: (hit) => h("div", { class: "chunk", text: hit.content.map((c) => c.text).join("\n") }) },
        ],
        hits,
        "Nothing in this store matches.",
      ),
    );
  };
  const form = h(
    "form",
    { class: "search", role: "search", "aria-label": "Search this store", onsubmit: (event) => { event.preventDefault(); run().catch((error) => { results.replaceChildren(); reportError(error); }); } },
    query,
    h("button", { type: "submit", text: "Search" }),
  );
  return h("section", { class: "panel" }, h("h3", { text: "Try a search" }), form, results);
}

/** One store: its search box, then its files with their status and errors. */
export async function renderStore(view, params, admin) {
  const storeId = params.id;
  const store = await admin.api(`/v1/vector_stores/${encodeURIComponent(storeId)}`);
  // File names come from the Files API (a store's file carries only its id): those of the
  // page shown, in one request, never by listing every file.
  const names = new Map();
  const nameFiles = async (rows) => {
    const unknown = [...new Set(rows.map((f) => f.id))].filter((id) => !names.has(id));
    if (!unknown.length) return;
    const found = await admin.api(`/v1/chatkit/admin/files?${new URLSearchParams(unknown.map((id) => ["id", id]))}`);
    for (const file of found.data || []) names.set(file.id, file.filename);
    for (const id of unknown) if (!names.has(id)) names.set(id, null); // deleted from the Files API: shown by id
  };
  const files = pagedTable({
    prepare: nameFiles,
    api: admin.api,
    path: `/v1/vector_stores/${encodeURIComponent(storeId)}/files`,
    params: params.filter ? { filter: params.filter } : {},
    label: "Files in the store",
    empty: params.filter ? `No ${params.filter} files.` : "No files in this store.",
    columns: [
      { label: "File", render: (f) => names.get(f.id) || f.id },
      { label: "Status", render: (f) => status(f.status) },
      { label: "Error", render: errorOf },
      { label: "Indexed", render: (f) => bytes(f.usage_bytes) },
      { label: "Added", render: (f) => when(f.created_at) },
    ],
  });
  const filters = h(
    "nav",
    { class: "filters", "aria-label": "Show files by status" },
    ...["", "in_progress", "completed", "failed"].map((value) =>
      linkButton(value ? value.replace("_", " ") : "all", () => admin.go("store", { id: storeId, filter: value || null }), `Show ${value || "all"} files`),
    ),
  );
  view.replaceChildren(
    h("h2", { text: store.name || store.id }),
    h("p", { class: "hint", text: `${store.id} · ${counts(store)} · ${bytes(store.usage_bytes)} · created ${when(store.created_at)}` }),
    searchBox(admin, storeId, names),
    h("h3", { text: "Files" }),
    filters,
    files,
  );
  await files.ready;
}
