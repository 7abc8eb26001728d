// The admin console's pages, one row each. A new page is a module exporting a
// `render(view, params, admin)` and a row here; `tab: false` pages (details) are
// reached by admin.go(id, params) rather than from the navigation.
//
//   view:   the element to draw into
//   params: the page's parameters, from the URL's hash (#threads?user=alice)
//   admin:  { api(path, {method, body}), go(pageId, params) }

import * as feedback from "./feedback.js";
import * as knowledge from "./knowledge.js";
import * as sessions from "./sessions.js";
import * as threads from "./threads.js";
import * as workflows from "./workflows.js";

export const PAGES = [
  { id: "sessions", label: "Sessions", render: sessions.render },
  { id: "threads", label: "Threads", render: threads.renderList },
  { id: "feedback", label: "Feedback", render: feedback.render },
  { id: "thread", label: "Thread", tab: false, parent: "threads", render: threads.renderThread },
  { id: "stores", label: "Knowledge", render: knowledge.renderStores },
  { id: "store", label: "Vector store", tab: false, parent: "stores", render: knowledge.renderStore },
  { id: "workflows", label: "Workflows", render: workflows.renderList },
  { id: "workflow", label: "Workflow", tab: false, parent: "workflows", render: workflows.renderWorkflow },
];
