// ChatKit.js's `commands`: the composer's `/` menu.
//
// A message that starts with `/` opens a menu of the composer's own actions that apply
// (attach files, when attachments are on; each of `composer.tools`) and of the page's
// commands (`onSearch(query)`). Choosing one of the page's calls `onSelect(command)`,
// whose answer is an entity to insert as a tag, another menu to choose from, or nothing
// (the page did something itself). The `/query` typed is removed either way.

import { SuggestionMenu } from "./suggestions.js";

const SLASH = /^\/(\S*)$/; // the message so far, up to the caret, is "/query"

function matches(label, query) {
  return String(label || "").toLowerCase().includes(query.toLowerCase());
}

export class Commands {
  constructor(chat) {
    this.chat = chat;
    this.seq = 0;
    this.submenu = null; // the commands of a `{type: "menu"}` answer, while it is open
    this.suggestions = new SuggestionMenu({
      id: "ck-command-menu",
      className: "ck-tag-menu ck-command-menu",
      onChoose: (entry) => this._choose(entry),
      onUnknownIcon: (name) => chat._reportUnsupported(`commands.icon=${name}`),
    });
    this.menu = this.suggestions.el;
  }

  /** `{onSearch, onSelect}` when the page enabled commands, else null. */
  get options() {
    return this.chat.config.commands;
  }

  applyStrings() {
    this.suggestions.setLabel(this.chat.t("suggestions"));
  }

  attach(textarea, form) {
    this.textarea = textarea;
    this.suggestions.attach(textarea, () => this._close());
    textarea.addEventListener("input", () => this._search());
    // Capture on the form: runs before the textarea's own Enter-to-send.
    form.addEventListener("keydown", (event) => {
      if (event.target !== textarea || !this.suggestions.keydown(event)) return;
      event.preventDefault();
      event.stopImmediatePropagation();
    }, true);
  }

  applyOptions() {
    if (!this.options) this._close();
  }

  /** The composer's own actions that apply now, as commands. */
  _builtins() {
    const chat = this.chat;
    const builtins = [];
    if (chat.uploads.enabled) {
      builtins.push({ label: chat.t("attachFiles"), icon: "plus", run: () => chat.fileInput.click() });
    }
    for (const tool of chat.config.composer.tools) {
      builtins.push({ label: tool.label || tool.id, icon: tool.icon, run: () => chat._selectTool(tool.id) });
    }
    return builtins;
  }

  async _search() {
    const match = this.options && SLASH.exec(this.textarea.value.slice(0, this.textarea.selectionStart));
    if (!match) {
      this.submenu = null;
      return this.suggestions.close();
    }
    const query = match[1];
    const seq = ++this.seq;
    let entries;
    if (this.submenu) {
      entries = this.submenu.filter((c) => matches(c.label, query)).map((command) => this._entry(command));
    } else {
      const builtins = this._builtins().filter((b) => matches(b.label, query));
      let found = [];
      try {
        found = (this.options.onSearch && (await this.options.onSearch(query))) || [];
      } catch (error) {
        this.chat._log("commands.search_failed", { message: String(error && error.message) });
      }
      if (seq !== this.seq) return; // a later keystroke's search wins
      entries = [...builtins, ...found.filter((c) => c && c.id != null).map((command) => this._entry(command))];
    }
    this.suggestions.show(entries);
  }

  _entry(command) {
    return { label: command.label, group: command.group, icon: command.icon, description: command.description, command };
  }

  _close() {
    this.submenu = null;
    this.suggestions.close();
  }

  /** Remove the typed `/query`; leave `/` when another menu follows. */
  _clearQuery(keepSlash) {
    const box = this.textarea;
    const caret = box.selectionStart;
    const rest = box.value.slice(caret);
    box.value = (keepSlash ? "/" : "") + rest;
    const at = keepSlash ? 1 : 0;
    box.setSelectionRange(at, at);
    this.chat._autosize();
  }

  async _choose(entry) {
    this.seq += 1; // a search still in flight must not reopen the menu
    this.suggestions.close();
    if (entry.run) {
      this._clearQuery(false);
      this.submenu = null;
      entry.run();
      return;
    }
    let selection;
    try {
      selection = this.options && this.options.onSelect ? await this.options.onSelect(entry.command) : undefined;
    } catch (error) {
      this.chat._log("commands.select_failed", { message: String(error && error.message) });
    }
    const menu = selection && selection.type === "menu" && Array.isArray(selection.commands) ? selection.commands : null;
    this._clearQuery(!!menu);
    this.submenu = menu;
    if (selection && selection.type === "entity" && selection.entity) this.chat.entities.add(selection.entity);
    this.textarea.focus();
    if (menu) this._search();
  }
}
