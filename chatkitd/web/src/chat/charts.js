// The Chart widget (chatkit.widgets.Chart): bar, line and area series drawn as SVG with
// d3-scale and d3-shape, stacked by `stack` id, with axes, a legend and tooltips.
//
// A chart is a picture to most people and a table to a screen reader: the SVG carries a
// summary label and the same data follows as a visually hidden table.

import { scaleBand, scaleLinear } from "d3-scale";
import {
  area, line,
  curveBasis, curveBasisClosed, curveBasisOpen, curveBumpX, curveBumpY, curveLinear, curveLinearClosed,
  curveMonotoneX, curveMonotoneY, curveNatural, curveStep, curveStepAfter, curveStepBefore,
} from "d3-shape";
import { withClass as h } from "./dom.js";
import { english } from "./i18n.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 560; // the viewBox; the SVG itself scales to its container
const DEFAULT_HEIGHT = 220;
const MARGIN = { top: 10, right: 12, bottom: 26, left: 12 };
const Y_AXIS_WIDTH = 40;

const CURVES = {
  basis: curveBasis, basisClosed: curveBasisClosed, basisOpen: curveBasisOpen, bumpX: curveBumpX,
  bumpY: curveBumpY, bump: curveBumpX, linear: curveLinear, linearClosed: curveLinearClosed,
  natural: curveNatural, monotoneX: curveMonotoneX, monotoneY: curveMonotoneY, monotone: curveMonotoneX,
  step: curveStep, stepBefore: curveStepBefore, stepAfter: curveStepAfter,
};

// ChatKit's chart colour tokens, in the order series take them by default.
const PALETTE = { blue: "#3b82f6", purple: "#8b5cf6", orange: "#f97316", green: "#22c55e", red: "#ef4444", yellow: "#eab308", pink: "#ec4899" };
const GREYS = { gray: "#6b7280", grey: "#6b7280", slate: "#64748b", teal: "#14b8a6", cyan: "#06b6d4", indigo: "#6366f1", amber: "#f59e0b", lime: "#84cc16", emerald: "#10b981", sky: "#0ea5e9", violet: "#8b5cf6", fuchsia: "#d946ef", rose: "#f43f5e" };

/** A series colour: a chart token, a primitive token ("red-700"), a CSS colour, or {light, dark}. */
export function seriesColor(value, scheme, index) {
  if (value && typeof value === "object") value = value[scheme] ?? value.light;
  if (typeof value === "string") {
    if (PALETTE[value]) return PALETTE[value];
    const primitive = value.match(/^([a-z]+)-(\d{2,3})$/);
    const base = primitive && (PALETTE[primitive[1]] || GREYS[primitive[1]]);
    if (base) {
      // 500 is the token's own colour; lower numbers mix towards white, higher towards black.
      const shade = Number(primitive[2]);
      if (shade === 500) return base;
      const toward = shade < 500 ? "white" : "black";
      const amount = Math.round((Math.abs(500 - shade) / 500) * 90);
      return `color-mix(in srgb, ${base} ${100 - amount}%, ${toward})`;
    }
    if (CSS.supports("color", value)) return value;
  }
  const order = Object.values(PALETTE);
  return order[index % order.length];
}

function svgEl(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) if (value != null) el.setAttribute(key, String(value));
  if (text != null) el.textContent = text;
  return el;
}

function number(value) {
  const n = typeof value === "number" ? value : Number(value);
  return Number.isFinite(n) ? n : 0;
}

function pixels(value) {
  if (value == null) return null;
  return typeof value === "number" ? `${value}px` : String(value);
}

/** Per series, per row: [bottom, top]. Series sharing a `stack` id pile up; others start at 0. */
function stackValues(series, data) {
  const positive = new Map(); // stack id -> running tops per row
  const negative = new Map();
  return series.map((s) => {
    const values = data.map((row) => number(row[s.dataKey]));
    if (!s.stack || s.type === "line") return values.map((v) => [Math.min(0, v), Math.max(0, v), v]);
    const up = positive.get(s.stack) || data.map(() => 0);
    const down = negative.get(s.stack) || data.map(() => 0);
    const spans = values.map((v, i) => {
      if (v >= 0) {
        const span = [up[i], up[i] + v, v];
        up[i] += v;
        return span;
      }
      const span = [down[i] + v, down[i], v];
      down[i] += v;
      return span;
    });
    positive.set(s.stack, up);
    negative.set(s.stack, down);
    return spans;
  });
}

/** Chart widget -> a <figure> with the SVG, a legend and a hidden data table. */
export function renderChart(node, ctx) {
  const data = Array.isArray(node.data) ? node.data : [];
  const series = (Array.isArray(node.series) ? node.series : []).map((s) => ({ type: "bar", ...s }));
  const xAxis = typeof node.xAxis === "string" ? { dataKey: node.xAxis } : node.xAxis || {};
  const xKey = xAxis.dataKey;
  const tick = (value) => (xAxis.labels && xAxis.labels[value] != null ? xAxis.labels[value] : String(value ?? ""));
  const colours = series.map((s, i) => seriesColor(s.color, ctx.scheme, i));
  const label = (s) => s.label || s.dataKey;

  const figure = h("figure", "ck-w-chart");
  const box = node.size != null ? { width: node.size, height: node.size } : node;
  for (const prop of ["width", "minWidth", "maxWidth", "minHeight", "maxHeight"]) if (node[prop] != null) figure.style[prop] = pixels(node[prop]);
  if (box.width != null) figure.style.width = pixels(box.width);
  if (node.flex != null) figure.style.flex = String(node.flex);

  const height = typeof box.height === "number" ? box.height : node.aspectRatio ? Math.round(WIDTH / number(node.aspectRatio) || DEFAULT_HEIGHT) : DEFAULT_HEIGHT;
  const showY = node.showYAxis === true;
  const left = MARGIN.left + (showY ? Y_AXIS_WIDTH : 0);
  const bottom = xAxis.hide ? 6 : MARGIN.bottom;

  const spans = stackValues(series, data);
  const all = spans.flat();
  const low = Math.min(0, ...all.map((s) => s[0]));
  const high = Math.max(0, ...all.map((s) => s[1]));
  const y = scaleLinear().domain([low, high === low ? low + 1 : high]).nice().range([height - bottom, MARGIN.top]);

  const categories = data.map((row, i) => `${i}`);
  // barCategoryGap and barGap are pixels in ChatKit; d3's band padding is a fraction of a step.
  const step = (WIDTH - left - MARGIN.right) / Math.max(1, data.length);
  const x = scaleBand().domain(categories).range([left, WIDTH - MARGIN.right]).paddingInner(Math.min(0.9, number(node.barCategoryGap ?? step * 0.2) / step)).paddingOuter(0.1);
  const bars = series.map((s, i) => ({ s, i })).filter(({ s }) => s.type === "bar");
  const groups = [...new Set(bars.map(({ s, i }) => (s.stack ? `stack:${s.stack}` : `bar:${i}`)))];
  const inner = scaleBand().domain(groups).range([0, x.bandwidth()]).paddingInner(Math.min(0.9, number(node.barGap ?? 4) / Math.max(1, x.bandwidth() / Math.max(1, groups.length))));
  const centre = (i) => x(`${i}`) + x.bandwidth() / 2;

  // What the chart shows, for screen readers, in the chat's language.
  const t = ctx.t || english;
  const names = new Intl.ListFormat(t.locale, { type: "conjunction" }).format(series.map((s) => String(label(s))));
  const summary = !series.length ? t("chartEmpty") : xKey ? t("chartSummary", { series: names, axis: xKey }) : names;
  const svg = svgEl("svg", { viewBox: `0 0 ${WIDTH} ${height}`, role: "img", "aria-label": summary, class: "ck-chart-svg", preserveAspectRatio: "xMidYMid meet" });
  svg.style.aspectRatio = `${WIDTH} / ${height}`;

  // Grid lines and the y axis's ticks.
  const grid = svgEl("g", { class: "ck-chart-grid" });
  for (const value of y.ticks(4)) {
    grid.append(svgEl("line", { x1: left, x2: WIDTH - MARGIN.right, y1: y(value), y2: y(value) }));
    if (showY) grid.append(svgEl("text", { x: left - 6, y: y(value), "text-anchor": "end", "dominant-baseline": "middle", class: "ck-chart-tick" }, y.tickFormat(4)(value)));
  }
  svg.append(grid);

  const tooltip = node.showTooltip !== false;
  const titled = (el, i, s, value) => {
    if (tooltip) el.append(svgEl("title", {}, `${tick(data[i][xKey])} · ${label(s)}: ${value}`));
    return el;
  };

  // Areas first, then bars, then lines on top.
  const order = ["area", "bar", "line"];
  series
    .map((s, i) => ({ s, i }))
    .sort((a, b) => order.indexOf(a.s.type) - order.indexOf(b.s.type))
    .forEach(({ s, i }) => {
      const g = svgEl("g", { class: `ck-chart-series ck-chart-${s.type}`, "data-series": s.dataKey, fill: colours[i], stroke: colours[i] });
      const curve = CURVES[s.curveType] || curveLinear;
      if (s.type === "bar") {
        const group = s.stack ? `stack:${s.stack}` : `bar:${i}`;
        spans[i].forEach(([from, to, value], row) => {
          const rect = svgEl("rect", { x: x(`${row}`) + inner(group), width: Math.max(1, inner.bandwidth()), y: y(to), height: Math.max(0, y(from) - y(to)), rx: 2, stroke: "none" });
          g.append(titled(rect, row, s, value));
        });
      } else if (s.type === "area") {
        const shape = area().x((d) => d.x).y0((d) => y(d.span[0])).y1((d) => y(d.span[1])).curve(curve);
        const points = spans[i].map((span, row) => ({ x: centre(row), span }));
        g.append(svgEl("path", { d: shape(points), "fill-opacity": 0.25, stroke: "none", class: "ck-chart-area-fill" }));
        const edge = line().x((d) => d.x).y((d) => y(d.span[1])).curve(curve);
        g.append(svgEl("path", { d: edge(points), fill: "none", "stroke-width": 2 }));
        points.forEach((p, row) => g.append(titled(svgEl("circle", { cx: p.x, cy: y(p.span[1]), r: 3, "fill-opacity": tooltip ? 0.001 : 0, stroke: "none" }), row, s, p.span[2])));
      } else {
        const points = spans[i].map((span, row) => ({ x: centre(row), y: y(span[2]), value: span[2] }));
        const shape = line().x((d) => d.x).y((d) => d.y).curve(curve);
        g.append(svgEl("path", { d: shape(points), fill: "none", "stroke-width": 2, class: "ck-chart-line-path" }));
        points.forEach((p, row) => g.append(titled(svgEl("circle", { cx: p.x, cy: p.y, r: 3, stroke: "none" }), row, s, p.value)));
      }
      svg.append(g);
    });

  if (!xAxis.hide) {
    const axis = svgEl("g", { class: "ck-chart-x" });
    axis.append(svgEl("line", { x1: left, x2: WIDTH - MARGIN.right, y1: y(0), y2: y(0), class: "ck-chart-baseline" }));
    // Thin out labels that would overlap: about one per 48 units of width.
    const every = Math.max(1, Math.ceil(data.length / Math.floor((WIDTH - left) / 48)));
    data.forEach((row, i) => {
      if (i % every) return;
      axis.append(svgEl("text", { x: centre(i), y: height - 8, "text-anchor": "middle", class: "ck-chart-tick" }, tick(row[xKey])));
    });
    svg.append(axis);
  }
  figure.append(svg);

  if (node.showLegend !== false && series.length) {
    const legend = h("ul", "ck-chart-legend");
    series.forEach((s, i) => {
      const item = h("li", "ck-chart-legend-item");
      const swatch = h("span", "ck-chart-swatch");
      swatch.style.background = colours[i];
      item.append(swatch, document.createTextNode(label(s)));
      legend.append(item);
    });
    figure.append(legend);
  }

  // The same numbers for screen readers.
  const table = h("table", "ck-sr-only");
  const head = h("tr");
  head.append(h("th", null, xKey || ""));
  for (const s of series) head.append(h("th", null, label(s)));
  table.append(head);
  for (const row of data) {
    const tr = h("tr");
    tr.append(h("th", null, tick(row[xKey])));
    for (const s of series) tr.append(h("td", null, String(row[s.dataKey] ?? "")));
    table.append(tr);
  }
  figure.append(table);
  return figure;
}
