// The chat's header: history toggle, title, new chat, and ChatKit.js's `header` option
// (shown or not, a fixed title or the thread's, and a custom button on either side).

import { chatkitIcon } from "./chatkit-icons.js";
import { h } from "./dom.js";
import { icon } from "./icons.js";

export class Header {
  constructor(chat) {
    this.chat = chat;
    this.historyToggle = h("button", {
      type: "button",
      class: "ck-icon-button ck-history-toggle",
      "aria-expanded": "true",
      onclick: () => chat._toggleHistory(),
    }, icon("menu"));
    this.title = h("h2", { class: "ck-title", id: "ck-title" });
    this.newChat = h("button", { type: "button", class: "ck-button ck-new-chat", onclick: () => chat._openNewThread(true) });
    this.left = h("span", { class: "ck-header-action ck-header-left" });
    this.right = h("span", { class: "ck-header-action ck-header-right" });
    this.el = h("header", { class: "ck-header" }, this.historyToggle, this.left, this.title, this.right, this.newChat);
    this.options = { enabled: true, titleEnabled: true, titleText: null, leftAction: null, rightAction: null };
  }

  /** Its words, in the chat's locale. */
  applyStrings() {
    const t = this.chat.t;
    this.historyToggle.setAttribute("aria-label", t("toggleHistory"));
    this.newChat.textContent = t("newChat");
    this.newChat.setAttribute("aria-label", t("newChat"));
  }

  apply(options) {
    this.options = options;
    this.el.hidden = !options.enabled;
    this.title.classList.toggle("ck-title-hidden", !options.titleEnabled);
    const fill = (slot, action, side) => {
      slot.replaceChildren();
      if (!action) return;
      slot.append(h("button", {
        type: "button",
        class: "ck-icon-button ck-header-button",
        "data-side": side,
        "aria-label": action.label || action.icon,
        onclick: () => {
          try {
            action.onClick();
          } catch (error) {
            console.error(error); // a page's handler must never break the chat
          }
        },
      }, chatkitIcon(action.icon, 18)));
    };
    fill(this.left, options.leftAction, "left");
    fill(this.right, options.rightAction, "right");
  }

  /** The thread's title, unless the page fixed one. */
  setTitle(threadTitle) {
    this.title.textContent = this.options.titleText ?? (threadTitle || this.chat.t("newChat"));
    this.title.title = this.title.textContent; // the whole title, where it is cut short
  }
}
