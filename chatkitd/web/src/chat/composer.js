// The composer: the message box, attachments, model and tool pickers, send and stop.
//
// Built once per element; options only change its placeholder, pickers and
// whether files can be attached.

import { Uploads } from "./uploads.js";
import { icon } from "./icons.js";
import { h } from "./dom.js";

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
  chat.toolSelect = h("select", { class: "ck-select", hidden: true });
  chat.sendButton = h("button", { type: "submit", class: "ck-send" });
  chat.stopButton = h("button", { type: "button", class: "ck-stop", hidden: true, onclick: () => chat.stop() });
  chat.composerError = h("div", { class: "ck-composer-error", role: "alert" });
  chat.pendingList = h("ul", { class: "ck-pending-attachments" });
  chat.uploads = new Uploads(chat, chat.pendingList);
  const row = h("div", { class: "ck-composer-row" }, chat.attachButton, chat.textarea, chat.modelSelect, chat.toolSelect, chat.sendButton, chat.stopButton);
  const form = h("form", { class: "ck-composer" }, chat.pendingList, row, chat.composerError, chat.fileInput);
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

/** The composer's own words, in the chat's locale. */
export function applyComposerStrings(chat) {
  const t = chat.t;
  chat.textarea.setAttribute("aria-label", t("message"));
  chat.textarea.placeholder = (chat.options.composer && chat.options.composer.placeholder) || t("message");
  chat.attachButton.setAttribute("aria-label", t("attachFiles"));
  chat.modelSelect.setAttribute("aria-label", t("model"));
  chat.toolSelect.setAttribute("aria-label", t("tool"));
  chat.sendButton.textContent = t("send");
  chat.sendButton.setAttribute("aria-label", t("sendMessage"));
  chat.stopButton.textContent = t("stop");
  chat.stopButton.setAttribute("aria-label", t("stop"));
  chat.pendingList.setAttribute("aria-label", t("filesToSend"));
  chat.composerForm.setAttribute("aria-label", t("composeMessage"));
  const none = chat.toolSelect.querySelector("option[value='']");
  if (none) none.textContent = t("noTool");
}

export function applyComposerOptions(chat) {
  const composer = chat.options.composer || {};
  chat.textarea.placeholder = composer.placeholder || chat.t("message");
  const fill = (select, choices, label) => {
    select.replaceChildren();
    for (const choice of choices || []) {
      const option = h("option", { value: choice.id, text: choice.label || choice.id });
      if (choice.default) option.selected = true;
      select.append(option);
    }
    if (label === "Tool" && choices && choices.length) select.prepend(h("option", { value: "", text: chat.t("noTool") }));
    select.hidden = !(choices && choices.length);
  };
  fill(chat.modelSelect, composer.models, "Model");
  fill(chat.toolSelect, composer.tools, "Tool");
  if (composer.tools && !composer.tools.some((t) => t.default)) chat.toolSelect.value = "";
  chat.uploads.refreshLimits();
  chat.history.setEnabled(!(chat.options.history && chat.options.history.enabled === false));
}
