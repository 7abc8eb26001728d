// The chat's layout at any width: beside the conversation when there is room, and as a
// drawer over it when the chat is narrower than 640 px (a phone, or a narrow embed).
//
// The width that matters is the chat's own, not the window's: a 380 px box on a wide page
// is as narrow as a phone. A ResizeObserver sets `ck-narrow` on the root; the drawer opens
// from the history button as a modal dialog: the conversation behind it is inert, Tab and
// Shift+Tab cycle inside it, and it closes on Escape, on the backdrop, on its close button
// and when a conversation is chosen, handing focus back to the button.

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
      if (!this.narrow || !this.isOpen()) return;
      if (event.key === "Escape") {
        event.stopPropagation();
        this.close();
      } else if (event.key === "Tab") {
        this._cycle(event);
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
    this._modal();
  }

  /** An open drawer is a modal dialog: what lies behind it can be neither reached nor read. */
  _modal() {
    const modal = this.narrow && this.isOpen();
    const history = this.chat.historyEl;
    if (modal) {
      history.setAttribute("role", "dialog");
      history.setAttribute("aria-modal", "true");
    } else {
      history.removeAttribute("role");
      history.removeAttribute("aria-modal");
    }
    this.chat.mainEl.inert = modal;
  }

  /** Tab past the drawer's last control comes back to its first, Shift+Tab the other way. */
  _cycle(event) {
    const stops = [...this.chat.historyEl.querySelectorAll("button, input, [tabindex]:not([tabindex='-1'])")].filter(
      (el) => !el.disabled && el.getClientRects().length > 0,
    );
    if (!stops.length) return;
    const first = stops[0];
    const last = stops[stops.length - 1];
    const active = this.chat.shadowRoot.activeElement;
    if (event.shiftKey && (active === first || !this.chat.historyEl.contains(active))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (active === last || !this.chat.historyEl.contains(active))) {
      event.preventDefault();
      first.focus();
    }
  }

  /** After the history opened or closed: where focus goes in the drawer. */
  opened(open) {
    this._modal();
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
