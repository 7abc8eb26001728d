// Renders protocol thread items (chatkit.types ThreadItem) to DOM.
//
// Shared by the chat element and the admin console, so an operator sees a
// conversation exactly as its user did. Rendering is a pure function of the item:
// the chat re-renders an item whenever a stream event changes it.

import { escapeHtml, renderMarkdown, safeUrl, streamingPart } from "./markdown.js";
import { render as renderWidget } from "./widgets.js";
import { withClass as h } from "./dom.js";
import { english } from "./i18n.js";

function sourceLink(source, t) {
  const li = h("li", "ck-source");
  const label = source.title || source.label || source.filename || source.url || t("source");
  const href = source.type === "url" ? safeUrl(source.url) : null;
  if (href) {
    const a = h("a", null, label);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    li.append(a);
    if (source.attribution) li.append(h("span", "ck-source-attribution", ` — ${source.attribution}`));
  } else {
    li.textContent = label;
  }
  return li;
}

function userMessage(item, ctx) {
  const el = h("div", "ck-bubble");
  if (item.quoted_text) el.append(h("blockquote", "ck-quote", item.quoted_text));
  const text = h("div", "ck-user-text");
  for (const part of item.content || []) {
    if (part.type === "input_tag") text.append(h("span", "ck-tag", `@${part.text}`));
    else text.append(document.createTextNode(part.text || ""));
  }
  el.append(text);
  if (item.attachments && item.attachments.length) {
    const list = h("ul", "ck-attachments");
    list.setAttribute("aria-label", ctx.t("attachments"));
    for (const attachment of item.attachments) {
      const li = h("li", "ck-attachment");
      if (attachment.type === "image" && attachment.preview_url && ctx.allowImage(attachment.preview_url)) {
        const img = h("img", "ck-attachment-preview");
        img.src = attachment.preview_url;
        img.alt = attachment.name;
        li.append(img);
      }
      li.append(h("span", "ck-attachment-name", attachment.name));
      list.append(li);
    }
    el.append(list);
  }
  const options = item.inference_options || {};
  // The chosen tool changes what the answer is, so it is shown; the model is not.
  if (options.tool_choice && options.tool_choice.id) el.append(h("div", "ck-user-meta", ctx.t("toolCall", { name: options.tool_choice.id })));
  return el;
}

function assistantMessage(item, ctx) {
  const el = h("div", "ck-assistant-body");
  const sources = [];
  for (const part of item.content || []) {
    // While it streams, an unfinished table or formula waits for the rest (streamingPart).
    const text = ctx.streaming ? streamingPart(part.text) : part.text;
    el.append(renderMarkdown(h("div", "ck-markdown"), text, { copyLabel: ctx.t("copyCode") }));
    for (const annotation of part.annotations || []) if (annotation.source) sources.push(annotation.source);
  }
  if (sources.length) {
    const list = h("ol", "ck-sources");
    list.setAttribute("aria-label", ctx.t("sources"));
    for (const source of sources) list.append(sourceLink(source, ctx.t));
    el.append(list);
  }
  return el;
}

function json(value) {
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

function clientToolCall(item, ctx) {
  const t = ctx.t;
  const el = h("details", "ck-tool");
  const summary = h("summary");
  summary.append(h("span", "ck-tool-name", t("toolCall", { name: item.name })));
  const status = h("span", "ck-badge", t(item.status === "completed" ? "toolCompleted" : "toolWaiting"));
  status.dataset.status = item.status;
  summary.append(status);
  el.append(summary);
  el.append(h("div", "ck-tool-label", t("arguments")), h("pre", "ck-json", json(item.arguments)));
  if (item.status === "completed") el.append(h("div", "ck-tool-label", t("output")), h("pre", "ck-json", json(item.output)));
  return el;
}

function taskBody(task, t) {
  const body = h("div", "ck-task-body");
  if (task.content) {
    body.append(renderMarkdown(h("div", "ck-markdown"), task.content, { copyLabel: t("copyCode") }));
  }
  if (task.queries && task.queries.length) body.append(h("div", "ck-task-queries", task.queries.join(" · ")));
  if (task.sources && task.sources.length) {
    const list = h("ul", "ck-sources");
    for (const source of task.sources) list.append(sourceLink(source, t));
    body.append(list);
  }
  return body;
}

const TASK_TITLES = { thought: "taskThought", web_search: "taskWebSearch", file: "taskFile", image: "taskImage" };

function taskTitle(task, t) {
  return task.title || task.title_query || t(TASK_TITLES[task.type] || "task");
}

/** A task as a collapsible disclosure; its status shows as a spinner or a tick. */
export function renderTask(task, open = false, t = english) {
  const el = h("details", "ck-task");
  el.dataset.status = task.status_indicator || "none";
  el.dataset.taskType = task.type;
  el.open = open;
  const summary = h("summary");
  summary.append(h("span", "ck-task-indicator"), h("span", "ck-task-title", taskTitle(task, t)));
  el.append(summary, taskBody(task, t));
  return el;
}

function workflowSummary(workflow, t) {
  const summary = workflow.summary;
  if (summary && summary.title) return summary.title;
  if (summary && summary.duration != null) return t("workedFor", { seconds: summary.duration });
  return t("steps", { count: (workflow.tasks || []).length });
}

function workflowItem(item, t) {
  const workflow = item.workflow || {};
  const el = h("details", "ck-workflow");
  el.open = !!workflow.expanded;
  const summary = h("summary");
  summary.append(h("span", "ck-workflow-title", workflowSummary(workflow, t)));
  el.append(summary);
  const list = h("ol", "ck-workflow-tasks");
  for (const task of workflow.tasks || []) {
    const li = h("li");
    li.append(renderTask(task, false, t));
    list.append(li);
  }
  el.append(list);
  return el;
}

/** Questions the workflow asked; while pending (and not read-only) they form a form to answer. */
function structuredInput(item, ctx) {
  const pending = item.status === "pending" && !ctx.readOnly && typeof ctx.onStructuredInput === "function";
  const el = h(pending ? "form" : "div", "ck-structured");
  for (const input of item.inputs || []) {
    const fieldset = h("fieldset", "ck-structured-input");
    fieldset.append(h("legend", "ck-structured-question", input.question));
    if (!pending) {
      const values = input.answer ? (input.answer.values || []).join(", ") : "";
      fieldset.append(h("p", "ck-structured-answer", input.answer ? values || ctx.t("skipped") : ctx.t("notAnswered")));
    } else if (input.type === "multiple_choice") {
      for (const option of input.options || []) {
        const control = h("input");
        control.type = input.multiple ? "checkbox" : "radio";
        control.name = input.id;
        control.value = option.value;
        const label = h("label", "ck-w-check");
        label.append(control, h("span", null, option.value));
        fieldset.append(label);
      }
    } else {
      const text = h("textarea", "ck-w-input");
      text.name = input.id;
      text.rows = 2;
      text.setAttribute("aria-label", input.question);
      if (input.description) text.placeholder = input.description;
      fieldset.append(text);
    }
    el.append(fieldset);
  }
  if (!pending) return el;
  const collect = (skipped) => {
    const answers = {};
    for (const input of item.inputs || []) {
      const controls = [...el.querySelectorAll(`[name="${CSS.escape(input.id)}"]`)];
      const values = controls
        .filter((c) => (c.type === "radio" || c.type === "checkbox" ? c.checked : c.value.trim()))
        .map((c) => c.value.trim());
      answers[input.id] = { values: skipped ? [] : values, skipped: skipped || values.length === 0 };
    }
    return { status: skipped ? "skipped" : "answered", answers };
  };
  const submit = h("button", "ck-w-button", ctx.t("submit"));
  submit.type = "submit";
  const skip = h("button", "ck-w-button", ctx.t("skip"));
  skip.type = "button";
  skip.dataset.style = "secondary";
  skip.addEventListener("click", () => ctx.onStructuredInput(item, collect(true)));
  el.addEventListener("submit", (event) => {
    event.preventDefault();
    ctx.onStructuredInput(item, collect(false));
  });
  el.append(h("div", "ck-w-card-actions"));
  el.lastChild.append(skip, submit);
  return el;
}

/**
 * One item -> a DOM node, or null for items the user never sees.
 * ctx: {scheme, allowImage(url), onAction(action, el, item), readOnly}
 */
export function renderItem(item, ctx) {
  if (!ctx.t) ctx = { ...ctx, t: english };
  let body;
  switch (item.type) {
    case "user_message":
      body = userMessage(item, ctx);
      break;
    case "assistant_message":
      body = assistantMessage(item, ctx);
      break;
    case "client_tool_call":
      body = clientToolCall(item, ctx);
      break;
    case "widget":
      body = h("div", "ck-widget");
      body.append(renderWidget(item.widget, { ...ctx, onAction: (action, el) => ctx.onAction(action, el, item) }));
      break;
    case "task":
      body = renderTask(item.task || {}, false, ctx.t);
      break;
    case "workflow":
      body = workflowItem(item, ctx.t);
      break;
    case "generated_image":
      body = h("div", "ck-generated-image");
      if (item.image && ctx.allowImage(item.image.url)) {
        const img = h("img");
        img.src = item.image.url;
        img.alt = ctx.t("generatedImage");
        body.append(img);
      } else {
        body.textContent = ctx.t(item.image ? "imageNotShown" : "makingImage");
      }
      break;
    case "structured_input":
      body = structuredInput(item, ctx);
      break;
    default:
      return null; // end_of_turn and hidden context items
  }
  const el = h("div", `ck-item ck-item-${item.type.replace(/_/g, "-")}`);
  el.dataset.itemId = item.id;
  el.dataset.itemType = item.type;
  el.append(body);
  return el;
}

export { escapeHtml };
