// The chat's layout at any width: beside the conversation when there is room, and as a
// drawer over it when the chat is narrower than 640 px (a phone, or a narrow embed).
//
// The width that matters is the chat's own, not the window's: a 380 px box on a wide page
// is as narrow as a phone. A ResizeObserver sets `ck-narrow` on the root; the drawer opens
// from the history button, traps nothing, closes on Escape, on the backdrop, on its close
// button and when a conversation is chosen, and hands focus back to the button.

import { h } from "./dom.js";
import { icon } from "./icons.js";

export const NARROW = 640;

export class Layout {
  constructor(chat) {
    this.chat = chat;
    this.narrow = false;
    this.wideOpen = true; // the sidebar's state to restore when the chat widens again
    this.backdrop = h("div", { class: "ck-backdrop", "aria-hidden": "true", onclick: () => this.close() });
    this.closeButton = h("button", { type: "button", class: "ck-icon-button ck-drawer-close", onclick: () => this.close() }, icon("close"));
    chat.root.append(this.backdrop);
    chat.historyEl.prepend(this.closeButton);
    chat.root.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.narrow && this.isOpen()) {
        event.stopPropagation();
        this.close();
      }
    });
    this.observer = new ResizeObserver((entries) => this._resized(entries[0].contentRect.width));
  }

  applyStrings() {
    this.closeButton.setAttribute("aria-label", this.chat.t("closeHistory"));
  }

  observe() {
    this.observer.observe(this.chat);
  }

  unobserve() {
    this.observer.disconnect();
  }

  isOpen() {
    return !this.chat.root.classList.contains("ck-history-closed");
  }

  _resized(width) {
    if (!width) return; // not laid out (display: none)
    const narrow = width < NARROW;
    if (narrow === this.narrow) return;
    this.narrow = narrow;
    this.chat.root.classList.toggle("ck-narrow", narrow);
    if (narrow) {
      this.wideOpen = this.isOpen();
      this.chat._setHistoryOpen(false); // a drawer starts closed
    } else {
      this.chat._setHistoryOpen(this.wideOpen);
    }
  }

  /** After the history opened or closed: where focus goes in the drawer. */
  opened(open) {
    if (!this.narrow) return;
    if (open) {
      const target = this.chat.historyEl.querySelector(".ck-thread-open[aria-current=true], .ck-thread-open") || this.closeButton;
      requestAnimationFrame(() => target.focus());
    } else if (this.chat.historyEl.contains(this.chat.shadowRoot.activeElement)) {
      this.chat.historyToggle.focus();
    }
  }

  close() {
    this.chat._setHistoryOpen(false);
  }

  /** A conversation was chosen: a drawer gets out of the way. */
  chose() {
    if (this.narrow) this.close();
  }
}
