// Workflows: each workflow with its versions, and a graph version drawn as a diagram
// (its nodes, and its edges with their branch labels), laid out by dagre, because
// people read a graph by looking at it. With `trace=<id>`, the diagram shows the
// path that run took: the nodes it went through and the edges between them.

import { graphlib, layout } from "@dagrejs/dagre";
import { h, linkButton, pagedTable, status, when } from "./ui.js";

const enc = encodeURIComponent;
const NODE_WIDTH = 168;
const NODE_HEIGHT = 46;
const SVG = "http://www.w3.org/2000/svg";

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) if (value != null) el.setAttribute(name, String(value));
  el.append(...children);
  return el;
}

const stateOf = (w) => (w.archived_at ? "archived" : w.rolled_back ? "rolled back" : "active");

/** The project's workflows, newest first, each with its latest version; a name opens the workflow. */
export async function renderList(view, params, admin) {
  const list = pagedTable({
    api: admin.api,
    path: "/v1/chatkit/admin/workflows",
    label: "Workflows",
    empty: "No workflows yet. Deploy one with `chatkitd workflows deploy FILE`.",
    columns: [
      { label: "Workflow", render: (w) => linkButton(w.name || w.id, () => admin.go("workflow", { id: w.id }), `Open workflow ${w.id}`) },
      { label: "Id", mono: true, render: (w) => w.id },
      { label: "Latest", render: (w) => w.latest.version },
      { label: "Kind", render: (w) => w.latest.kind },
      { label: "Versions", render: (w) => String(w.versions) },
      { label: "State", render: (w) => status(stateOf(w)) },
      { label: "Deployed", render: (w) => when(w.latest.created_at) },
    ],
  });
  view.replaceChildren(h("h2", { text: "Workflows" }), list);
  await list.ready;
}

/** A workflow's versions, newest first, and one version (the latest, or `version`) drawn or shown as written. */
export async function renderWorkflow(view, params, admin) {
  const workflow = await admin.api(`/v1/chatkit/admin/workflows/${enc(params.id)}`);
  const shown = params.version || workflow.latest_version;
  const version = await admin.api(`/v1/chatkit/admin/workflows/${enc(params.id)}/versions/${enc(shown)}`);
  let path = null;
  if (params.trace) path = pathOf(await admin.api(`/v1/chatkit/traces/${enc(params.trace)}`));
  const versions = pagedTable({
    api: admin.api,
    path: `/v1/chatkit/admin/workflows/${enc(params.id)}/versions`,
    label: "Versions",
    empty: "",
    columns: [
      {
        label: "Version",
        render: (v) =>
          v.version === shown
            ? h("strong", { text: v.version })
            : linkButton(v.version, () => admin.go("workflow", { id: params.id, version: v.version }), `Show version ${v.version}`),
      },
      { label: "Kind", render: (v) => v.kind },
      { label: "Latest", render: (v) => (v.version === workflow.latest_version ? "latest" : "") },
      { label: "Deployed", render: (v) => when(v.created_at) },
    ],
  });
  await versions.ready;
  const parts = [h("h2", { text: workflow.name || workflow.id }), h("p", { class: "hint", text: `${workflow.id} · ${workflow.versions} version${workflow.versions === 1 ? "" : "s"}${workflow.archived_at ? " · archived" : ""}` }), versions];
  parts.push(h("h3", { text: `Version ${shown}` }));
  if (version.graph) {
    if (path) parts.push(h("p", { class: "hint", text: `The path of run ${params.trace}: ${path.nodes.join(" → ")}` }));
    parts.push(diagram(version.graph, path));
  }
  parts.push(h("details", { class: "definition", open: !version.graph }, h("summary", { text: "Definition" }), h("pre", { class: "span-data", text: version.definition })));
  view.replaceChildren(...parts);
}

/** The nodes a graph run went through, in order (its `graph` span's path), and the edges taken. */
export function pathOf(trace) {
  for (const span of trace.spans || []) {
    const data = span.data && span.data.data;
    if (span.name && span.name.startsWith("graph ") && data && Array.isArray(data.path)) {
      const edges = new Set();
      for (let i = 1; i < data.path.length; i += 1) edges.add(`${data.path[i - 1]}→${data.path[i]}`);
      return { nodes: data.path, visited: new Set(data.path), edges };
    }
  }
  return null;
}

/** The graph as an SVG diagram: boxes for nodes (kind and label), arrows labelled with the branch. */
export function diagram(graph, path) {
  const g = new graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: "TB", nodesep: 28, ranksep: 46, edgesep: 12, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes) g.setNode(node.id, { width: NODE_WIDTH, height: NODE_HEIGHT, node });
  graph.edges.forEach((edge, index) => {
    let source = edge.source;
    if (source == null) {
      // A widget action starts the graph at a node: drawn as an entry of its own.
      source = `action:${index}`;
      g.setNode(source, { width: NODE_WIDTH, height: 30, node: { id: source, type: "action", label: edge.label } });
    }
    const label = source === edge.source ? edge.label : "";
    g.setEdge(source, edge.target, { label, width: label.length * 7 + 8, height: 16, labelpos: "c", edge }, `e${index}`);
  });
  layout(g);
  const box = g.graph();
  const svg = s("svg", {
    class: "graph-diagram",
    role: "img",
    "aria-label": `Diagram of ${graph.nodes.length} nodes`,
    viewBox: `0 0 ${Math.ceil(box.width)} ${Math.ceil(box.height)}`,
    width: Math.ceil(box.width),
    height: Math.ceil(box.height),
  });
  svg.append(s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" }, s("path", { d: "M 0 0 L 10 5 L 0 10 z" }))));
  for (const e of g.edges()) {
    const drawn = g.edge(e);
    const taken = path && path.edges.has(`${e.v}→${e.w}`);
    const points = drawn.points.map((p) => `${p.x},${p.y}`).join(" ");
    const group = s("g", { class: "graph-edge", "data-source": e.v, "data-target": e.w, "data-taken": taken ? "true" : null });
    group.append(s("polyline", { points, fill: "none", "marker-end": "url(#arrow)" }));
    if (drawn.label) group.append(s("text", { x: drawn.x, y: drawn.y + 4, "text-anchor": "middle", class: "graph-edge-label" }, drawn.label));
    svg.append(group);
  }
  for (const id of g.nodes()) {
    const { x, y, width, height, node } = g.node(id);
    const visited = path && path.visited.has(id);
    const group = s("g", { class: "graph-node", "data-node": id, "data-kind": node.type, "data-visited": visited ? "true" : null, transform: `translate(${x - width / 2},${y - height / 2})` });
    group.append(s("title", {}, `${node.type} ${node.id}`));
    group.append(s("rect", { width, height, rx: node.type === "start" || node.type === "end" ? height / 2 : 8 }));
    if (node.type === "action") {
      group.append(s("text", { x: width / 2, y: height / 2 + 4, "text-anchor": "middle", class: "graph-node-kind" }, node.label));
    } else {
      group.append(s("text", { x: width / 2, y: 18, "text-anchor": "middle", class: "graph-node-kind" }, node.type));
      group.append(s("text", { x: width / 2, y: 36, "text-anchor": "middle", class: "graph-node-label" }, node.label || node.id));
    }
    svg.append(group);
  }
  return h("figure", { class: "graph" }, svg);
}
