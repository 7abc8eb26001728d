// Renders ChatKit widget trees ({type, ...camelCase props, children}) to DOM.
//
// Every string goes in through textContent or a checked attribute, never
// innerHTML (Markdown goes through the escaping markdown renderer). Actions are
// handed to ctx.onAction; the chat element decides whether they go to the
// server (threads.custom_action) or to the page's own handler.

import { renderMarkdown, safeUrl } from "./markdown.js";
import { withClass as h } from "./dom.js";
import { widgetIcon } from "./icons.js";
import { renderChart } from "./charts.js";
import { english } from "./i18n.js";

const SPACE_UNIT = 4; // ChatKit spacing numbers are multiples of 4px

const TOKENS = {
  primary: "var(--ck-text)",
  secondary: "var(--ck-text-2)",
  tertiary: "var(--ck-text-3)",
  emphasis: "var(--ck-accent)",
  success: "var(--ck-success)",
  warning: "var(--ck-warning)",
  danger: "var(--ck-danger)",
  info: "var(--ck-accent)",
  discovery: "var(--ck-discovery)",
  caution: "var(--ck-warning)",
};

function color(value, scheme) {
  if (value == null) return null;
  if (typeof value === "object") value = value[scheme] ?? value.light;
  if (typeof value !== "string") return null;
  if (TOKENS[value]) return TOKENS[value];
  // Surface tokens like "surface-secondary" and raw CSS colours.
  if (/^[a-z]+(-[a-z0-9]+)*$/.test(value) && !CSS.supports("color", value)) return `var(--ck-${value}, transparent)`;
  return CSS.supports("color", value) ? value : null;
}

function size(value) {
  if (value == null) return null;
  return typeof value === "number" ? `${value * SPACE_UNIT}px` : String(value);
}

function pixels(value) {
  if (value == null) return null;
  return typeof value === "number" ? `${value}px` : String(value);
}

function spacing(el, prop, value) {
  if (value == null) return;
  if (typeof value !== "object") {
    el.style[prop] = size(value);
    return;
  }
  const { top, right, bottom, left, x, y } = value;
  const side = (v, fallback) => size(v ?? fallback) ?? "0";
  el.style[prop] = [side(top, y), side(right, x), side(bottom, y), side(left, x)].join(" ");
}

const BORDER_STYLES = new Set(["solid", "dashed", "dotted", "double", "groove", "ridge", "inset", "outset", "none", "hidden"]);
const ALIGN = { start: "flex-start", end: "flex-end", center: "center", baseline: "baseline", stretch: "stretch" };
const JUSTIFY = { ...ALIGN, between: "space-between", around: "space-around", evenly: "space-evenly" };
const ICON_SIZE = { xs: 12, sm: 14, md: 16, lg: 20, xl: 24, "2xl": 32, "3xl": 40 };
const CELL_ALIGN = { start: "start", center: "center", end: "end" };
const V_ALIGN = { start: "top", center: "middle", end: "bottom" };
const COL_SIZE = { xs: "64px", sm: "96px", md: "144px", lg: "200px", xl: "280px" };

const RADIUS = { none: "0", "2xs": "2px", xs: "4px", sm: "6px", md: "8px", lg: "12px", xl: "16px", "2xl": "20px", "3xl": "24px", "4xl": "32px", full: "9999px", "100%": "100%" };

/** Layout props shared by Box, Row, Col and Form. */
function boxStyle(el, node, scheme) {
  const s = el.style;
  if (node.align) s.alignItems = ALIGN[node.align] || node.align;
  if (node.justify) s.justifyContent = JUSTIFY[node.justify] || node.justify;
  if (node.wrap) s.flexWrap = node.wrap;
  if (node.flex != null) s.flex = String(node.flex);
  if (node.gap != null) s.gap = size(node.gap);
  for (const prop of ["height", "width", "minHeight", "minWidth", "maxHeight", "maxWidth"]) {
    if (node[prop] != null) s[prop] = pixels(node[prop]);
  }
  if (node.size != null) s.width = s.height = pixels(node.size);
  spacing(el, "padding", node.padding);
  spacing(el, "margin", node.margin);
  if (node.radius) s.borderRadius = RADIUS[node.radius] || node.radius;
  const background = color(node.background, scheme);
  if (background) s.background = background;
  if (node.aspectRatio != null) s.aspectRatio = String(node.aspectRatio);
  if (node.border != null) {
    const b = typeof node.border === "number" ? { size: node.border } : node.border;
    // Each part checked: with var() in it, a shorthand takes any text as it is (a url(...) too).
    const style = BORDER_STYLES.has(b.style) ? b.style : "solid";
    if (typeof b.size === "number") s.border = `${b.size}px ${style} ${color(b.color, scheme) || "var(--ck-border)"}`;
  }
}

function textStyle(el, node, scheme) {
  const c = color(node.color, scheme);
  if (c) el.style.color = c;
  if (node.weight) el.dataset.weight = node.weight;
  if (node.size) el.dataset.size = node.size;
  if (node.textAlign) el.style.textAlign = node.textAlign;
  if (node.italic) el.style.fontStyle = "italic";
  if (node.lineThrough) el.style.textDecoration = "line-through";
  if (node.truncate) el.classList.add("ck-truncate");
  if (node.maxLines) {
    el.classList.add("ck-clamp");
    el.style.webkitLineClamp = String(node.maxLines);
  }
}

/** A root's own `theme` overrides the chat's colour scheme for its subtree. */
function themed(el, node, ctx) {
  if (node.theme !== "light" && node.theme !== "dark") return ctx;
  el.dataset.widgetTheme = node.theme;
  return { ...ctx, scheme: node.theme };
}

/** A Card's or ListView's status line: an icon or a favicon, then its text. */
function statusLine(status, ctx) {
  const el = h("div", "ck-w-status");
  if (status.icon) {
    const svg = widgetIcon(status.icon, 14);
    if (svg) el.append(svg);
  } else if (status.favicon && ctx.allowImage(status.favicon)) {
    const img = h("img", status.frame ? "ck-w-favicon ck-framed" : "ck-w-favicon");
    img.src = status.favicon;
    img.alt = "";
    el.append(img);
  }
  el.append(h("span", null, status.text || ""));
  return el;
}

const RENDERERS = {
  Card(node, ctx) {
    const el = h(node.asForm ? "form" : "div", "ck-w-card");
    ctx = themed(el, node, ctx);
    el.dataset.size = node.size || "md";
    boxStyle(el, { padding: node.padding, background: node.background, border: node.border }, ctx.scheme);
    if (node.status) el.append(statusLine(node.status, ctx));
    if (node.collapsed) {
      // A collapsed card keeps its content one click (or Enter) away.
      const details = h("details", "ck-w-collapsed");
      details.append(h("summary", null, node.status ? node.status.text || "" : "…"));
      appendChildren(details, node.children, ctx);
      el.append(details);
      return el;
    }
    appendChildren(el, node.children, ctx);
    if (node.confirm || node.cancel) {
      const actions = h("div", "ck-w-card-actions");
      if (node.cancel) actions.append(actionButton(node.cancel.label, node.cancel.action, ctx, "secondary"));
      if (node.confirm) {
        const confirm = actionButton(node.confirm.label, node.confirm.action, ctx, "primary");
        actions.append(confirm);
      }
      el.append(actions);
    }
    if (node.asForm) bindForm(el, node.confirm ? node.confirm.action : null, ctx);
    return el;
  },
  Basic(node, ctx) {
    const el = h("div", `ck-w-basic ck-w-box ck-w-${node.direction === "row" ? "row" : "col"}`);
    ctx = themed(el, node, ctx);
    boxStyle(el, node, ctx.scheme);
    appendChildren(el, node.children, ctx);
    return el;
  },
  ListView(node, ctx) {
    const wrap = h("div", "ck-w-listview");
    ctx = themed(wrap, node, ctx);
    if (node.status) wrap.append(statusLine(node.status, ctx));
    const el = h("ul", "ck-w-list");
    const children = node.children || [];
    const limit = typeof node.limit === "number" ? node.limit : children.length;
    children.forEach((child, i) => {
      const item = render(child, ctx);
      if (i >= limit) item.hidden = true;
      el.append(item);
    });
    wrap.append(el);
    if (children.length > limit) {
      // More rows than the limit: the rest are a "Show more" away, as in ChatKit.
      const more = h("button", "ck-w-button ck-w-more", (ctx.t || english)("showMore", { count: children.length - limit }));
      more.type = "button";
      more.dataset.style = "secondary";
      more.addEventListener("click", () => {
        for (const item of el.children) item.hidden = false;
        more.remove();
      });
      wrap.append(more);
    }
    return wrap;
  },
  ListViewItem(node, ctx) {
    // A clickable row stays a list item (for screen readers' list navigation) holding a button.
    const li = h("li", "ck-w-list-item");
    const el = node.onClickAction ? h("div", "ck-w-list-item-body") : li;
    if (el !== li) li.append(el);
    if (node.gap != null) el.style.gap = size(node.gap);
    if (node.align) el.style.alignItems = ALIGN[node.align] || node.align;
    appendChildren(el, node.children, ctx);
    if (node.onClickAction) {
      el.tabIndex = 0;
      el.setAttribute("role", "button");
      li.classList.add("ck-clickable");
      const fire = () => ctx.onAction(node.onClickAction, el);
      el.addEventListener("click", fire);
      el.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          fire();
        }
      });
    }
    return li;
  },
  Box(node, ctx) {
    const el = h("div", `ck-w-box ck-w-${node.direction === "row" ? "row" : "col"}`);
    boxStyle(el, node, ctx.scheme);
    appendChildren(el, node.children, ctx);
    return el;
  },
  Row(node, ctx) {
    const el = h("div", "ck-w-box ck-w-row");
    boxStyle(el, node, ctx.scheme);
    appendChildren(el, node.children, ctx);
    return el;
  },
  Col(node, ctx) {
    const el = h("div", "ck-w-box ck-w-col");
    boxStyle(el, node, ctx.scheme);
    appendChildren(el, node.children, ctx);
    return el;
  },
  Form(node, ctx) {
    const el = h("form", `ck-w-box ck-w-form ck-w-${node.direction === "row" ? "row" : "col"}`);
    boxStyle(el, node, ctx.scheme);
    appendChildren(el, node.children, ctx);
    bindForm(el, node.onSubmitAction, ctx);
    return el;
  },
  Text(node, ctx) {
    if (node.editable && node.editable.name) {
      // An editable Text is a field: its value goes with the form's action like any input.
      const edit = node.editable;
      const el = h(node.minLines > 1 ? "textarea" : "input", "ck-w-input ck-w-text-edit");
      el.name = edit.name;
      el.value = node.value ?? "";
      if (el.tagName === "TEXTAREA") el.rows = node.minLines;
      if (edit.placeholder) el.placeholder = edit.placeholder;
      if (edit.pattern && el.tagName === "INPUT") el.pattern = edit.pattern;
      if (edit.autoComplete) el.autocomplete = edit.autoComplete;
      el.required = !!edit.required;
      el.setAttribute("aria-label", edit.placeholder || edit.name);
      textStyle(el, node, ctx.scheme);
      return el;
    }
    const el = h("p", "ck-w-text", node.value);
    textStyle(el, node, ctx.scheme);
    if (node.width != null) el.style.width = pixels(node.width);
    if (node.minLines) el.style.minHeight = `${node.minLines * 1.5}em`;
    return el;
  },
  Title(node, ctx) {
    const el = h("h3", "ck-w-title", node.value);
    textStyle(el, node, ctx.scheme);
    return el;
  },
  Caption(node, ctx) {
    const el = h("p", "ck-w-caption", node.value);
    textStyle(el, node, ctx.scheme);
    return el;
  },
  Label(node, ctx) {
    const el = h("label", "ck-w-label", node.value);
    if (node.fieldName) el.dataset.for = node.fieldName;
    textStyle(el, node, ctx.scheme);
    return el;
  },
  Markdown(node, ctx) {
    return renderMarkdown(h("div", "ck-w-markdown ck-markdown"), node.value, { copyLabel: (ctx.t || english)("copyCode") });
  },
  Badge(node, ctx) {
    const el = h("span", "ck-w-badge", node.label);
    el.dataset.variant = node.variant || "soft";
    el.dataset.color = node.color || "secondary";
    if (node.size) el.dataset.size = node.size;
    if (node.pill) el.classList.add("ck-pill");
    return el;
  },
  Icon(node, ctx) {
    const el = h("span", "ck-w-icon");
    el.dataset.name = node.name;
    el.setAttribute("aria-hidden", "true");
    const svg = widgetIcon(node.name, ICON_SIZE[node.size] || ICON_SIZE.md);
    if (svg) el.append(svg);
    const c = color(node.color, ctx.scheme);
    if (c) el.style.color = c;
    return el;
  },
  Image(node, ctx) {
    const src = node.src && ctx.allowImage(node.src) ? node.src : null;
    if (!src) {
      // Images from hosts the integrator did not allow would leave the network.
      const el = h("span", "ck-w-image-blocked", node.alt || (ctx.t || english)("imageNotShown"));
      el.title = node.src || "";
      return el;
    }
    const el = h("img", "ck-w-image");
    el.src = src;
    el.alt = node.alt || "";
    if (node.fit) el.style.objectFit = node.fit;
    if (node.position) el.style.objectPosition = node.position;
    if (node.flush) el.classList.add("ck-flush");
    spacing(el, "margin", node.margin);
    for (const prop of ["height", "width", "minHeight", "minWidth", "maxHeight", "maxWidth"]) {
      if (node[prop] != null) el.style[prop] = pixels(node[prop]);
    }
    if (node.size != null) el.style.width = el.style.height = pixels(node.size);
    if (node.radius) el.style.borderRadius = RADIUS[node.radius] || node.radius;
    if (node.aspectRatio != null) el.style.aspectRatio = String(node.aspectRatio);
    if (node.frame) el.classList.add("ck-framed");
    return el;
  },
  Divider(node, ctx) {
    const el = h("hr", "ck-w-divider");
    const c = color(node.color, ctx.scheme);
    if (c) el.style.borderColor = c;
    if (node.spacing != null) el.style.margin = `${size(node.spacing)} 0`;
    if (node.size != null) el.style.borderTopWidth = pixels(node.size);
    if (node.flush) el.classList.add("ck-flush");
    return el;
  },
  Spacer(node) {
    const el = h("div", "ck-w-spacer");
    if (node.minSize != null) el.style.minWidth = el.style.minHeight = pixels(node.minSize);
    return el;
  },
  Button(node, ctx) {
    const el = actionButton(node.label || "", node.onClickAction, ctx, node.style || node.variant, node.submit);
    if (node.block) el.classList.add("ck-block");
    if (node.pill) el.classList.add("ck-pill");
    if (node.disabled) el.disabled = true;
    if (node.color) el.dataset.color = node.color;
    if (node.variant) el.dataset.variant = node.variant;
    if (node.size) el.dataset.size = node.size;
    if (node.uniform) el.classList.add("ck-uniform");
    const iconPx = ICON_SIZE[node.iconSize] || ICON_SIZE.sm;
    const start = node.iconStart && widgetIcon(node.iconStart, iconPx);
    const end = node.iconEnd && widgetIcon(node.iconEnd, iconPx);
    if (start) el.prepend(start);
    if (end) el.append(end);
    // An icon-only button still needs a name.
    if (!node.label) el.setAttribute("aria-label", node.iconStart || node.iconEnd || "button");
    return el;
  },
  Input(node) {
    const el = h("input", "ck-w-input");
    el.name = node.name;
    el.type = node.inputType || "text";
    if (node.defaultValue != null) el.value = node.defaultValue;
    if (node.placeholder) el.placeholder = node.placeholder;
    if (node.pattern) el.pattern = node.pattern;
    el.required = !!node.required;
    el.disabled = !!node.disabled;
    el.setAttribute("aria-label", node.placeholder || node.name);
    return el;
  },
  Textarea(node) {
    const el = h("textarea", "ck-w-input");
    el.name = node.name;
    el.rows = node.rows || 3;
    if (node.defaultValue != null) el.value = node.defaultValue;
    if (node.placeholder) el.placeholder = node.placeholder;
    el.required = !!node.required;
    el.disabled = !!node.disabled;
    el.setAttribute("aria-label", node.placeholder || node.name);
    return el;
  },
  Select(node, ctx) {
    const el = h("select", "ck-w-input");
    el.name = node.name;
    el.setAttribute("aria-label", node.placeholder || node.name);
    if (node.placeholder) {
      const placeholder = h("option", null, node.placeholder);
      placeholder.value = "";
      el.append(placeholder);
    }
    for (const option of node.options || []) {
      const o = h("option", null, option.label);
      o.value = option.value;
      o.disabled = !!option.disabled;
      el.append(o);
    }
    if (node.defaultValue != null) el.value = node.defaultValue;
    el.disabled = !!node.disabled;
    onChange(el, node, ctx, () => el.value);
    return el;
  },
  DatePicker(node, ctx) {
    const el = h("input", "ck-w-input");
    el.type = "date";
    el.name = node.name;
    const day = (v) => (v ? String(v).slice(0, 10) : "");
    el.value = day(node.defaultValue);
    if (node.min) el.min = day(node.min);
    if (node.max) el.max = day(node.max);
    el.disabled = !!node.disabled;
    el.setAttribute("aria-label", node.placeholder || node.name);
    onChange(el, node, ctx, () => el.value);
    return el;
  },
  Checkbox(node, ctx) {
    const el = h("input");
    el.type = "checkbox";
    el.name = node.name;
    el.checked = !!node.defaultChecked;
    el.disabled = !!node.disabled;
    el.required = !!node.required;
    onChange(el, node, ctx, () => el.checked);
    const label = h("label", "ck-w-check");
    label.append(el, h("span", null, node.label || node.name));
    return label;
  },
  RadioGroup(node, ctx) {
    const group = h("div", `ck-w-radio ck-w-${node.direction === "row" ? "row" : "col"}`);
    group.setAttribute("role", "radiogroup");
    group.setAttribute("aria-label", node.ariaLabel || node.name);
    for (const option of node.options || []) {
      const input = h("input");
      input.type = "radio";
      input.name = node.name;
      input.value = option.value;
      input.checked = option.value === node.defaultValue;
      input.disabled = !!(node.disabled || option.disabled);
      input.required = !!node.required;
      onChange(input, node, ctx, () => input.value);
      const label = h("label", "ck-w-check");
      label.append(input, h("span", null, option.label));
      group.append(label);
    }
    return group;
  },
  Transition(node, ctx) {
    // Its child fades and slides in when the widget is first shown or replaced (an update).
    const el = h("div", "ck-w-transition");
    const child = Array.isArray(node.children) ? node.children[0] : node.children;
    if (child) el.append(render(child, ctx));
    return el;
  },
  Chart(node, ctx) {
    return renderChart(node, ctx);
  },
  Table(node, ctx) {
    const wrap = h("div", "ck-w-table-wrap");
    const table = h("table", "ck-w-table");
    const head = h("thead");
    const body = h("tbody");
    for (const row of node.children || []) {
      const tr = render(row, ctx);
      (row && row.header ? head : body).append(tr);
    }
    if (head.children.length) table.append(head);
    table.append(body);
    wrap.append(table);
    return wrap;
  },
  "Table.Row"(node, ctx) {
    const tr = h("tr", "ck-w-table-row");
    for (const cell of node.children || []) tr.append(render(cell, { ...ctx, headerRow: !!node.header }));
    return tr;
  },
  "Table.Cell"(node, ctx) {
    const cell = h(ctx.headerRow ? "th" : "td", "ck-w-table-cell");
    if (ctx.headerRow) cell.scope = "col";
    if (node.colSpan) cell.colSpan = node.colSpan;
    if (node.rowSpan) cell.rowSpan = node.rowSpan;
    if (node.align) cell.style.textAlign = CELL_ALIGN[node.align] || "start";
    if (node.vAlign) cell.style.verticalAlign = V_ALIGN[node.vAlign] || "top";
    if (node.width != null) cell.style.width = pixels(node.width);
    else if (node.colSize) cell.style.width = COL_SIZE[node.colSize] || null;
    spacing(cell, "padding", node.padding);
    appendChildren(cell, node.children, { ...ctx, headerRow: false });
    return cell;
  },
};

/** Label widgets name a field (`fieldName`): tie each to the control of that name. */
let labelIds = 0;
function linkLabels(root) {
  for (const label of root.querySelectorAll("label[data-for]")) {
    const control = root.querySelector(`[name="${CSS.escape(label.dataset.for)}"]:not([type=radio])`);
    if (!control) continue;
    if (!control.id) control.id = `ck-w-field-${++labelIds}`;
    label.htmlFor = control.id;
    control.removeAttribute("aria-label"); // the visible label names it now
  }
}

function actionButton(label, action, ctx, style, submit = false) {
  const el = h("button", "ck-w-button", label);
  el.type = submit ? "submit" : "button";
  el.dataset.style = style || "primary";
  if (action && !submit) el.addEventListener("click", () => ctx.onAction(action, el));
  if (ctx.readOnly) el.disabled = true;
  return el;
}

function onChange(el, node, ctx, value) {
  if (!node.onChangeAction) return;
  el.addEventListener("change", () => {
    const action = { ...node.onChangeAction, payload: { ...(node.onChangeAction.payload || {}), value: value() } };
    ctx.onAction(action, el);
  });
}

/** Collect a form's named controls into a plain object, the way ChatKit merges them into the payload. */
export function formValues(form) {
  const values = {};
  for (const control of form.querySelectorAll("input[name], textarea[name], select[name]")) {
    if (control.type === "radio") {
      if (control.checked) values[control.name] = control.value;
    } else if (control.type === "checkbox") {
      values[control.name] = control.checked;
    } else {
      values[control.name] = control.value;
    }
  }
  return values;
}

function bindForm(form, action, ctx) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!action) return;
    const payload = { ...(action.payload || {}), ...formValues(form) };
    ctx.onAction({ ...action, payload }, form.querySelector("[type=submit]") || form);
  });
}

function appendChildren(el, children, ctx) {
  if (!children) return;
  for (const child of Array.isArray(children) ? children : [children]) el.append(render(child, ctx));
}

const ROOTS = new Set(["Card", "ListView", "Basic"]);

/** One component (and its subtree) -> a DOM node. Unknown types render their children. */
export function render(node, ctx) {
  if (!node || typeof node !== "object") return document.createTextNode("");
  const renderer = RENDERERS[node.type];
  if (!renderer) {
    const el = h("div", "ck-w-unknown");
    el.dataset.type = String(node.type);
    appendChildren(el, node.children, ctx);
    return el;
  }
  const el = renderer(node, ctx);
  if (node.id) el.dataset.widgetId = node.id;
  el.dataset.widget = node.type;
  if (ROOTS.has(node.type)) linkLabels(el);
  return el;
}

/** Default image policy: same origin, data: and blob: only, plus explicitly allowed hosts. */
export function imagePolicy(allowedHosts = [], base = location.href) {
  const allowed = new Set(allowedHosts);
  return (src) => {
    if (/^(data:image\/|blob:)/.test(src)) return true;
    const url = safeUrl(src);
    if (!url) return false;
    const parsed = new URL(url);
    return parsed.origin === new URL(base).origin || allowed.has(parsed.host) || allowed.has(parsed.hostname);
  };
}
