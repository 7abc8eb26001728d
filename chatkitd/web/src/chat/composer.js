// The composer: the message box, attachments, model and tool pickers, send and stop.
//
// Built once per element; options only change its placeholder, pickers and
// whether files can be attached.

import { Uploads } from "./uploads.js";
import { icon } from "./icons.js";
import { h } from "./dom.js";

export function buildComposer(chat) {
  chat.textarea = h("textarea", { class: "ck-input", rows: "1", "aria-label": "Message", placeholder: "Message" });
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
  chat.attachButton = h("button", { type: "button", class: "ck-icon-button", "aria-label": "Attach files", onclick: () => chat.fileInput.click() }, icon("plus"));
  chat.modelSelect = h("select", { class: "ck-select", "aria-label": "Model", hidden: true });
  chat.toolSelect = h("select", { class: "ck-select", "aria-label": "Tool", hidden: true });
  chat.sendButton = h("button", { type: "submit", class: "ck-send", "aria-label": "Send message", text: "Send" });
  chat.stopButton = h("button", { type: "button", class: "ck-stop", "aria-label": "Stop", text: "Stop", hidden: true, onclick: () => chat.stop() });
  chat.composerError = h("div", { class: "ck-composer-error", role: "alert" });
  const attachmentsEl = h("ul", { class: "ck-pending-attachments", "aria-label": "Files to send" });
  chat.uploads = new Uploads(chat, attachmentsEl);
  const row = h("div", { class: "ck-composer-row" }, chat.attachButton, chat.textarea, chat.modelSelect, chat.toolSelect, chat.sendButton, chat.stopButton);
  const form = h("form", { class: "ck-composer", "aria-label": "Compose message" }, attachmentsEl, row, chat.composerError, chat.fileInput);
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

export function applyComposerOptions(chat) {
  const composer = chat.options.composer || {};
  chat.textarea.placeholder = composer.placeholder || "Message";
  const fill = (select, choices, label) => {
    select.replaceChildren();
    for (const choice of choices || []) {
      const option = h("option", { value: choice.id, text: choice.label || choice.id });
      if (choice.default) option.selected = true;
      select.append(option);
    }
    if (label === "Tool" && choices && choices.length) select.prepend(h("option", { value: "", text: "No tool" }));
    select.hidden = !(choices && choices.length);
  };
  fill(chat.modelSelect, composer.models, "Model");
  fill(chat.toolSelect, composer.tools, "Tool");
  if (composer.tools && !composer.tools.some((t) => t.default)) chat.toolSelect.value = "";
  chat.uploads.refreshLimits();
  chat.history.setEnabled(!(chat.options.history && chat.options.history.enabled === false));
}
