// Building blocks every admin page uses: tables, paging, status badges, times.

import { h } from "../chat/dom.js";
import { withQuery } from "./api.js";

export { h };

let report = (error) => console.error(error);

/** Where errors of actions taken on a page (a click on Next) are shown; main.js sets it. */
export function setErrorReporter(fn) {
  report = fn;
}

export function reportError(error) {
  report(error);
}

export const when = (seconds) => (seconds ? new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 19) : "");

export const status = (value) => h("span", { class: "status", "data-status": value, text: value });

export const linkButton = (text, onclick, label) =>
  h("button", { type: "button", class: "link", text, onclick, "aria-label": label || text });

/** A data table; each column is {label, render(row) -> Node|string, mono}. */
export function table(columns, rows, empty) {
  if (!rows.length) return h("p", { class: "empty", text: empty });
  const head = h("tr", {}, ...columns.map((c) => h("th", { scope: "col", text: c.label })));
  const body = rows.map((row) =>
    h("tr", {}, ...columns.map((c) => {
      const value = c.render(row);
      return h("td", { class: c.mono ? "mono" : null }, value instanceof Node ? value : String(value ?? ""));
    })),
  );
  return h("table", { class: "data" }, h("thead", {}, head), h("tbody", {}, ...body));
}

/**
 * A table over a cursor-paged list endpoint (`after`, `limit`, answering `data`,
 * `has_more` and `last_id`), with Previous and Next. Returns its container; the
 * rows load right away. `prepare(rows)`, if given, is awaited before a page is drawn
 * (to fetch what only that page's rows need, such as the names of their files).
 */
export function pagedTable({ api, path, params = {}, columns, empty, label, pageSize = 100, prepare = null }) {
  const box = h("div", { class: "paged" });
  const cursors = [null]; // the `after` of each page seen so far; the last is the current page
  const show = async () => {
    const after = cursors[cursors.length - 1];
    const page = await api(withQuery(path, { ...params, limit: pageSize, after }));
    const rows = page.data || [];
    if (prepare) await prepare(rows);
    const previous = h("button", { type: "button", class: "secondary", text: "Previous page", disabled: cursors.length === 1, onclick: () => { cursors.pop(); show().catch(reportError); } });
    const lastId = page.last_id ?? (rows.length ? rows[rows.length - 1].id : null);
    const next = h("button", { type: "button", class: "secondary", text: "Next page", disabled: !page.has_more, onclick: () => { cursors.push(lastId); show().catch(reportError); } });
    const first = (cursors.length - 1) * pageSize + 1;
    const range = rows.length ? `Rows ${first}–${first + rows.length - 1}` : "";
    const nav = h("nav", { class: "pager", "aria-label": `${label} pages` }, previous, h("span", { class: "hint", text: range }), next);
    box.replaceChildren(table(columns, rows, empty), nav);
  };
  box.ready = show();
  return box;
}
