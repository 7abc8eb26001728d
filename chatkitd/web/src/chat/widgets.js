// Renders ChatKit widget trees ({type, ...camelCase props, children}) to DOM.
//
// Every string goes in through textContent or a checked attribute, never
// innerHTML (Markdown goes through the escaping markdown renderer). Actions are
// handed to ctx.onAction; the chat element decides whether they go to the
// server (threads.custom_action) or to the page's own handler.

import { renderMarkdown, safeUrl } from "./markdown.js";
import { withClass as h } from "./dom.js";

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

const ALIGN = { start: "flex-start", end: "flex-end", center: "center", baseline: "baseline", stretch: "stretch" };
const JUSTIFY = { ...ALIGN, between: "space-between", around: "space-around", evenly: "space-evenly" };
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
    if (b.size != null) s.border = `${b.size}px ${b.style || "solid"} ${color(b.color, scheme) || "var(--ck-border)"}`;
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

const RENDERERS = {
  Card(node, ctx) {
    const el = h(node.asForm ? "form" : "div", "ck-w-card");
    el.dataset.size = node.size || "md";
    boxStyle(el, { padding: node.padding, background: node.background }, ctx.scheme);
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
    const el = h("div", "ck-w-basic");
    boxStyle(el, node, ctx.scheme);
    appendChildren(el, node.children, ctx);
    return el;
  },
  ListView(node, ctx) {
    const el = h("ul", "ck-w-list");
    let children = node.children || [];
    if (typeof node.limit === "number") children = children.slice(0, node.limit);
    for (const child of children) el.append(render(child, ctx));
    return el;
  },
  ListViewItem(node, ctx) {
    const el = h("li", "ck-w-list-item");
    if (node.gap != null) el.style.gap = size(node.gap);
    if (node.align) el.style.alignItems = ALIGN[node.align] || node.align;
    appendChildren(el, node.children, ctx);
    if (node.onClickAction) {
      el.tabIndex = 0;
      el.setAttribute("role", "button");
      el.classList.add("ck-clickable");
      const fire = () => ctx.onAction(node.onClickAction, el);
      el.addEventListener("click", fire);
      el.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          fire();
        }
      });
    }
    return el;
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
    const el = h("p", "ck-w-text", node.value);
    textStyle(el, node, ctx.scheme);
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
  Markdown(node) {
    return renderMarkdown(h("div", "ck-w-markdown ck-markdown"), node.value);
  },
  Badge(node, ctx) {
    const el = h("span", "ck-w-badge", node.label);
    el.dataset.variant = node.variant || "soft";
    el.dataset.color = node.color || "secondary";
    if (node.pill) el.classList.add("ck-pill");
    return el;
  },
  Icon(node) {
    // No icon font ships offline; a neutral glyph keeps the layout without a fetch.
    const el = h("span", "ck-w-icon", "•");
    el.setAttribute("aria-hidden", "true");
    el.dataset.name = node.name;
    return el;
  },
  Image(node, ctx) {
    const src = node.src && ctx.allowImage(node.src) ? node.src : null;
    if (!src) {
      // Images from hosts the integrator did not allow would leave the network.
      const el = h("span", "ck-w-image-blocked", node.alt || "Image not shown");
      el.title = node.src || "";
      return el;
    }
    const el = h("img", "ck-w-image");
    el.src = src;
    el.alt = node.alt || "";
    if (node.fit) el.style.objectFit = node.fit;
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
    const el = h("div", "ck-w-transition");
    if (node.children) el.append(render(node.children, ctx));
    return el;
  },
  Chart(node) {
    // Charts need a plotting library; a table keeps the data readable offline.
    const table = h("table", "ck-w-chart");
    const xKey = typeof node.xAxis === "string" ? node.xAxis : node.xAxis && node.xAxis.dataKey;
    const head = h("tr");
    head.append(h("th", null, xKey || ""));
    for (const s of node.series || []) head.append(h("th", null, s.label || s.dataKey));
    table.append(head);
    for (const row of node.data || []) {
      const tr = h("tr");
      tr.append(h("td", null, String(row[xKey] ?? "")));
      for (const s of node.series || []) tr.append(h("td", null, String(row[s.dataKey] ?? "")));
      table.append(tr);
    }
    return table;
  },
};

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
