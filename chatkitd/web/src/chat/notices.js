// What the chat tells its user: notices, workflow errors, request errors and
// rate limits, each in the banner area above the conversation.

import { ChatKitError } from "./api.js";
import { h } from "./dom.js";
import { icon } from "./icons.js";
import { markdownToHtml } from "./markdown.js";

const LOCK_CODES = new Set(["thread_locked", "thread_closed"]);

export function notice(chat, level, message, title) {
  const el = h("div", { class: "ck-banner ck-notice ck-transient", "data-level": level || "info" });
  if (title) el.append(h("strong", { text: title }));
  const body = h("div", { class: "ck-markdown" });
  body.innerHTML = markdownToHtml(message); // escaped by markdownToHtml
  const close = h("button", { type: "button", class: "ck-icon-button", "aria-label": chat.t("dismiss"), onclick: () => el.remove() }, icon("close"));
  el.append(body, close);
  chat.banner.append(el);
}

export function streamError(chat, event) {
  const messages = { "stream.error": chat.t("errorAnswering") };
  const text = event.message || messages[event.code] || chat.t("errorGeneric");
  const el = h("div", { class: "ck-banner ck-error ck-transient", "data-level": "danger", role: "alert" }, h("span", { text }));
  if (event.allow_retry) {
    el.append(h("button", { type: "button", class: "ck-button", text: chat.t("retry"), "aria-label": chat.t("retryResponse"), onclick: () => { el.remove(); chat.retry(null); } }));
  }
  chat.banner.append(el);
  chat._emit("error", { error: new Error(text) });
}

/** Show a request error in the words the user needs: what happened and what to do. */
export function showError(chat, error) {
  let text = (error && error.message) || String(error);
  let countdown = null;
  if (error instanceof ChatKitError) {
    if (error.status === 429) {
      countdown = error.retryAfter ?? 60;
      text = null;
    } else if (LOCK_CODES.has(error.code) && chat.thread) {
      chat.thread = { ...chat.thread, status: { type: error.code === "thread_locked" ? "locked" : "closed", reason: error.message } };
      chat._updateHeader();
      text = null;
    }
  }
  if (text) chat.banner.append(h("div", { class: "ck-banner ck-error ck-transient", "data-level": "danger", role: "alert", text }));
  if (countdown != null) rateLimited(chat, countdown);
  chat._emit("error", { error });
}

export function rateLimited(chat, seconds) {
  const el = h("div", { class: "ck-banner ck-rate-limit ck-transient", "data-level": "warning", role: "alert" });
  chat.banner.append(el);
  let left = seconds;
  const tick = () => {
    if (left <= 0) {
      el.textContent = chat.t("canSendAgain");
      chat.sendButton.disabled = false;
      clearInterval(timer);
      return;
    }
    el.textContent = chat.t("tooManyRequests", { count: left });
    left -= 1;
  };
  chat.sendButton.disabled = true;
  const timer = setInterval(tick, 1000);
  tick();
}
