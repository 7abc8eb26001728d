// A list of suggestions under the message box: the `@` entity menu (entities.js) and the
// `/` command menu (commands.js). Grouped options with an icon, a label and a description;
// arrows move, Enter or Tab chooses, Escape closes, a click chooses; the focus stays in the
// message box, which points at the active option (aria-activedescendant).

import { chatkitIcon, knownIcon } from "./chatkit-icons.js";
import { h } from "./dom.js";

export class SuggestionMenu {
  /**
   * @param {{id: string, className: string, onChoose: (entry: object) => void,
   *          onUnknownIcon?: (name: string) => void}} options
   *   Entries are `{label, group?, icon?, description?}` plus whatever the owner needs back.
   */
  constructor({ id, className, onChoose, onUnknownIcon = () => {} }) {
    this.id = id;
    this.onChoose = onChoose;
    this.onUnknownIcon = onUnknownIcon;
    this.entries = [];
    this.active = -1;
    this.textarea = null;
    this.el = h("ul", { class: className, role: "listbox", id, hidden: true });
  }

  get open() {
    return !this.el.hidden;
  }

  /** The message box it belongs to (its aria attributes point at this menu while it is open).
   *  Leaving the box closes the menu (`onLeave`), a moment later so a click on an option lands
   *  first, and only if the focus has not come back meanwhile. */
  attach(textarea, onLeave = () => this.close()) {
    this.textarea = textarea;
    textarea.addEventListener("blur", () =>
      setTimeout(() => {
        if (textarea.getRootNode().activeElement !== textarea) onLeave();
      }, 150),
    );
  }

  setLabel(text) {
    this.el.setAttribute("aria-label", text);
  }

  show(entries) {
    this.entries = entries;
    this.active = entries.length ? 0 : -1;
    this._render();
  }

  close() {
    if (!this.open) return;
    this.show([]);
  }

  /** Handle a key in the message box; true when it was the menu's (the caller stops it). */
  keydown(event) {
    if (!this.open) return false;
    const count = this.entries.length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      this.active = (this.active + (event.key === "ArrowDown" ? 1 : count - 1)) % count;
      this._render();
    } else if ((event.key === "Enter" || event.key === "Tab") && this.active >= 0) {
      this.onChoose(this.entries[this.active]);
    } else if (event.key === "Escape") {
      this.close();
    } else {
      return false;
    }
    return true;
  }

  _icon(name) {
    if (!name) return [];
    if (knownIcon(name)) return [chatkitIcon(name, 14)];
    this.onUnknownIcon(name);
    return [];
  }

  _render() {
    this.el.replaceChildren();
    let group = null;
    this.entries.forEach((entry, index) => {
      if (entry.group && entry.group !== group) {
        group = entry.group;
        this.el.append(h("li", { class: "ck-tag-group", role: "presentation", text: group }));
      }
      const label = h("span", { class: "ck-suggestion-label", text: entry.label });
      const description = entry.description ? [h("span", { class: "ck-suggestion-description", text: entry.description })] : [];
      this.el.append(
        h("li", {
          class: "ck-tag-option",
          role: "option",
          id: `${this.id}-option-${index}`,
          "aria-selected": String(index === this.active),
          onmousedown: (event) => {
            event.preventDefault(); // keep the focus in the textarea
            this.onChoose(entry);
          },
        }, ...this._icon(entry.icon), label, ...description),
      );
    });
    this.el.hidden = !this.entries.length;
    // A textbox with a suggestion list (aria-expanded is not allowed on a textbox; the
    // message box keeps its role, so it stays "Message" to assistive technology).
    const box = this.textarea;
    if (!box) return;
    if (this.open) {
      box.setAttribute("aria-autocomplete", "list");
      box.setAttribute("aria-controls", this.id);
      box.setAttribute("aria-activedescendant", `${this.id}-option-${this.active}`);
    } else if (box.getAttribute("aria-controls") === this.id) {
      box.removeAttribute("aria-activedescendant");
    }
  }
}
