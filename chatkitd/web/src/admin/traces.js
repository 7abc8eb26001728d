// A thread's runs as span timelines. Each span opens to its details: kind, timing,
// error and the data the Agents SDK recorded (model, usage, tool input and output).

import { withQuery } from "./api.js";
import { h } from "./ui.js";

const ms = (seconds) => `${(seconds * 1000).toFixed(seconds < 0.01 ? 1 : 0)} ms`;

function json(value) {
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

const TRACES_PER_PAGE = 10;

/** The thread's traces, newest first, ten at a time ("Older runs" fetches the next ten); a
 * server that records none just says so. A graph run's trace links to its workflow's diagram
 * with its path drawn (`go`, the console's). */
export async function traceView(api, threadId, go = null) {
  const out = h("div", { class: "trace" });
  const more = h("button", { type: "button", class: "secondary", text: "Older runs", hidden: true });
  let after = null;
  const load = async () => {
    more.disabled = true; // one page at a time: a second click would fetch the same page again
    try {
      return await loadPage();
    } finally {
      more.disabled = false;
    }
  };
  const loadPage = async () => {
    const page = await api(withQuery("/v1/chatkit/traces", { thread_id: threadId, limit: TRACES_PER_PAGE, after }));
    for (const summary of page.data || []) {
      let trace = summary;
      if (!trace.spans) {
        try {
          trace = await api(`/v1/chatkit/traces/${encodeURIComponent(summary.id)}`);
        } catch {
          trace = summary;
        }
      }
      out.insertBefore(timeline(trace, go), more);
    }
    after = page.last_id || null;
    more.hidden = !page.has_more;
    return (page.data || []).length;
  };
  more.addEventListener("click", () => load().catch((error) => out.insertBefore(h("p", { class: "error", text: error.message }), more)));
  out.append(more);
  let count;
  try {
    count = await load();
  } catch (error) {
    if (error.status === 404) return h("p", { class: "empty", text: "This server does not record traces." });
    return h("p", { class: "error", text: error.message });
  }
  if (!count) return h("p", { class: "empty", text: "No traces for this thread." });
  return out;
}

function spanDetails(span, start) {
  const rows = [
    ["Kind", span.kind || ""],
    ["Name", span.name || ""],
    ["Starts at", span.started_at != null ? `+${ms(span.started_at - start)}` : "—"],
    ["Duration", span.started_at != null && span.ended_at != null ? ms(span.ended_at - span.started_at) : "still running"],
    ["Span", span.id],
  ];
  if (span.parent_id) rows.push(["Parent", span.parent_id]);
  const list = h("dl", { class: "span-facts" });
  for (const [term, value] of rows) list.append(h("dt", { text: term }), h("dd", { text: value }));
  const box = h("div", { class: "span-details" }, list);
  if (span.error) box.append(h("p", { class: "error", text: typeof span.error === "string" ? span.error : json(span.error) }));
  if (span.data && Object.keys(span.data).length) box.append(h("pre", { class: "span-data", text: json(span.data) }));
  return box;
}

export function timeline(trace, go = null) {
  const spans = trace.spans || [];
  const start = Math.min(trace.started_at ?? Infinity, ...spans.map((s) => s.started_at ?? Infinity));
  const end = Math.max(trace.ended_at ?? 0, ...spans.map((s) => s.ended_at ?? s.started_at ?? 0));
  const total = Math.max(end - start, 1e-6);
  const box = h("section", { class: "trace-run", "aria-label": `Trace ${trace.id}` });
  const duration = Number.isFinite(total) ? `${(total * 1000).toFixed(0)} ms` : "";
  box.append(h("h4", { text: `${trace.name || trace.id} · ${duration}` }));
  const isGraph = spans.some((span) => span.name && span.name.startsWith("graph ") && span.data && span.data.data && Array.isArray(span.data.data.path));
  if (go && isGraph && trace.workflow) {
    const show = () => go("workflow", { id: trace.workflow.id, version: trace.workflow.version, trace: trace.id });
    box.append(h("button", { type: "button", class: "link", text: "Show the path on the diagram", onclick: show }));
  }
  if (trace.error) box.append(h("p", { class: "error", text: typeof trace.error === "string" ? trace.error : json(trace.error) }));
  for (const span of spans) {
    const left = (((span.started_at ?? start) - start) / total) * 100;
    const width = ((((span.ended_at ?? end) - (span.started_at ?? start)) / total) * 100) || 0.5;
    const bar = h("span", { class: "span-bar", "data-error": span.error ? "true" : "false" });
    bar.style.left = `${left}%`;
    bar.style.width = `${Math.max(width, 0.5)}%`;
    // A disclosure per span: the row is its summary, so it opens with Enter or a click.
    const row = h("details", { class: "span-row-details" },
      h("summary", { class: "span-row", title: `${span.kind || ""} ${span.name || ""}` },
        h("span", { class: "span-name", text: span.name || span.kind || span.id }),
        h("span", { class: "span-track", "aria-hidden": "true" }, bar)),
      spanDetails(span, start));
    box.append(row);
  }
  if (!spans.length) box.append(h("p", { class: "empty", text: "No spans recorded." }));
  return box;
}
