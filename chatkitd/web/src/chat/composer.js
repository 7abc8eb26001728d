// The composer: the message box, attachments, model and tool pickers, send and stop.
//
// Built once per element; options only change its placeholder, pickers and
// whether files can be attached.

import { Uploads } from "./uploads.js";
import { icon } from "./icons.js";
import { chatkitIcon } from "./chatkit-icons.js";
import { h } from "./dom.js";
import { Dictation } from "./dictation.js";

export function buildComposer(chat) {
  chat.textarea = h("textarea", { class: "ck-input", rows: "1" });
  chat.textarea.addEventListener("keydown", (event) => {
    // Enter sends, Shift+Enter is a newline; never send mid IME composition.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      chat._submit();
    }
  });
  chat.textarea.addEventListener("input", () => autosize(chat));
  chat.fileInput = h("input", { type: "file", multiple: true, hidden: true, "aria-hidden": "true", tabindex: "-1" });
  chat.fileInput.addEventListener("change", () => {
    chat.uploads.add([...chat.fileInput.files]);
    chat.fileInput.value = "";
  });
  chat.attachButton = h("button", { type: "button", class: "ck-icon-button", onclick: () => chat.fileInput.click() }, icon("plus"));
  chat.modelSelect = h("select", { class: "ck-select", hidden: true });
  chat.toolSelect = h("select", { class: "ck-select", hidden: true, onchange: () => chat._onToolChange() });
  chat.pinnedTools = h("span", { class: "ck-pinned-tools" });
  chat.sendButton = h("button", { type: "submit", class: "ck-send" });
  chat.stopButton = h("button", { type: "button", class: "ck-stop", hidden: true, onclick: () => chat.stop() });
  chat.composerError = h("div", { class: "ck-composer-error", role: "alert" });
  const attachmentsEl = h("ul", { class: "ck-pending-attachments" });
  chat.pendingList = attachmentsEl;
  chat.uploads = new Uploads(chat, attachmentsEl);
  chat.dictation = new Dictation(chat);
  const row = h("div", { class: "ck-composer-row" }, chat.attachButton, chat.pinnedTools, chat.textarea, chat.modelSelect, chat.toolSelect, chat.dictation.button, chat.sendButton, chat.stopButton);
  const form = h("form", { class: "ck-composer" }, attachmentsEl, row, chat.composerError, chat.fileInput);
  chat.composerForm = form;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    chat._submit();
  });
  return form;
}

export function autosize(chat) {
  chat.textarea.style.height = "auto";
  chat.textarea.style.height = `${Math.min(chat.textarea.scrollHeight, 200)}px`;
}

/** The composer's own words, in the chat's locale (chat/i18n.js). */
export function applyComposerStrings(chat) {
  const t = chat.t;
  chat.textarea.setAttribute("aria-label", t("message"));
  chat.attachButton.setAttribute("aria-label", t("attachFiles"));
  chat.modelSelect.setAttribute("aria-label", t("model"));
  chat.toolSelect.setAttribute("aria-label", t("tool"));
  chat.sendButton.textContent = t("send");
  chat.sendButton.setAttribute("aria-label", t("sendMessage"));
  chat.stopButton.textContent = t("stop");
  chat.stopButton.setAttribute("aria-label", t("stop"));
  chat.pendingList.setAttribute("aria-label", t("filesToSend"));
  chat.composerForm.setAttribute("aria-label", t("composeMessage"));
  chat.dictation.applyStrings();
  const none = chat.toolSelect.querySelector("option[value='']");
  if (none) none.textContent = t("noTool");
  chat._onToolChange(); // the placeholder
}

/** ChatKit.js's `composer` options (read by options.js) on the composer's controls. */
export function applyComposerOptions(chat) {
  const composer = chat.config.composer;
  const keepModel = chat.modelSelect.value;
  const keepTool = chat.toolSelect.value;
  chat.modelSelect.replaceChildren();
  for (const model of composer.models) {
    const option = h("option", { value: model.id, text: model.label || model.id, title: model.description || null, disabled: !!model.disabled });
    if (model.default) option.selected = true;
    chat.modelSelect.append(option);
  }
  if (keepModel && composer.models.some((m) => m.id === keepModel && !m.disabled)) chat.modelSelect.value = keepModel;
  chat.modelSelect.hidden = !composer.models.length;

  // Tools: a menu of all of them (none selected by default), and a toggle button for each pinned one.
  chat.toolSelect.replaceChildren(h("option", { value: "", text: chat.t("noTool") }));
  chat.pinnedTools.replaceChildren();
  for (const tool of composer.tools) {
    chat.toolSelect.append(h("option", { value: tool.id, text: tool.label || tool.id }));
    if (tool.pinned) {
      const button = h("button", {
        type: "button",
        class: "ck-icon-button ck-pinned-tool",
        "data-tool-id": tool.id,
        "aria-pressed": "false",
        "aria-label": tool.label || tool.id,
        onclick: () => chat._selectTool(chat.toolSelect.value === tool.id ? null : tool.id),
      });
      if (tool.icon) button.append(chatkitIcon(tool.icon));
      button.append(h("span", { text: tool.shortLabel || tool.label || tool.id }));
      chat.pinnedTools.append(button);
    }
  }
  chat.toolSelect.hidden = !composer.tools.length;
  chat.toolSelect.value = composer.tools.some((t) => t.id === keepTool) ? keepTool : "";
  chat._onToolChange(); // placeholder (a tool's placeholderOverride wins) and pinned buttons

  const accept = composer.attachments && composer.attachments.accept;
  if (accept) chat.fileInput.setAttribute("accept", Object.entries(accept).flatMap(([mime, exts]) => [mime, ...(exts || [])]).join(","));
  else chat.fileInput.removeAttribute("accept");
  chat.dictation.setEnabled(composer.dictation);
  chat.uploads.refreshLimits();
  chat.history.setEnabled(chat.config.history.enabled);
}
